//! OpenIOC 1.0 and 1.1 documents, flattened to their indicator items.
//!
//! A publication's `report_iocs` file arrives here after [`super::payload`] has decoded
//! it; the publication scope turns each [`IndicatorItem`] into observables and
//! indicators. The AND/OR logic of nested `Indicator` blocks is not kept: every item
//! stands alone, as in the Python connector.

use jiff::Timestamp;
use roxmltree::{Document, Node, ParsingOptions};

use super::dates;

/// The namespace of OpenIOC 1.0 (`<ioc>` root, items under `definition`).
pub const NAMESPACE_1_0: &str = "http://schemas.mandiant.com/2010/ioc";

/// The namespace of OpenIOC 1.1 (`<OpenIOC>` root, `metadata` and `criteria`).
pub const NAMESPACE_1_1: &str = "http://openioc.org/schemas/OpenIOC_1.1";

/// The most XML nodes (elements, attributes' owners, texts, comments) one document may
/// have. An OpenIOC item costs under ten nodes, so this allows about 100 000 items,
/// while a hostile document of tiny elements stops after some tens of megabytes.
pub const MAX_NODES: u32 = 1_000_000;

/// The deepest element nesting accepted. Real documents stay under 20 levels.
pub const MAX_DEPTH: usize = 256;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An OpenIOC document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpenIoc {
    /// The root's `id` attribute.
    pub id: Option<String>,
    pub short_description: Option<String>,
    pub description: Option<String>,
    pub authored_date: Option<Timestamp>,
    /// The root's `last-modified` attribute.
    pub last_modified: Option<Timestamp>,
    /// Every `IndicatorItem`, at any depth, in document order.
    pub items: Vec<IndicatorItem>,
}

/// One `IndicatorItem` with its `Context` and `Content`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndicatorItem {
    pub id: Option<String>,
    pub condition: Option<String>,
    /// `negate="true"`: the item matches when the value is *absent*, so it is no
    /// indicator of that value.
    pub negate: bool,
    /// `Context/@document`.
    pub document: Option<String>,
    /// `Context/@search`, such as `FileItem/Md5sum`.
    pub search: Option<String>,
    /// `Context/@type`, such as `mir`.
    pub context_type: Option<String>,
    /// `Content/@type`, such as `md5` or `IP`.
    pub content_type: Option<String>,
    /// `Content`'s text, trimmed; `None` when empty.
    pub content: Option<String>,
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenIocError {
    #[error("not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("malformed XML: {0}")]
    Xml(String),
    #[error("not an OpenIOC document: {0}")]
    NotOpenIoc(String),
    #[error("elements nested deeper than {limit} levels (line {line})")]
    TooDeep { limit: usize, line: u32 },
}

/// Parses an OpenIOC document from its bytes.
///
/// Accepts both namespaces ([`NAMESPACE_1_0`], [`NAMESPACE_1_1`]) and elements without a
/// namespace, matching elements by local name; a leading byte-order mark, comments and
/// processing instructions before the root, and CRLF line endings. The description,
/// short description and authored date are read from the root (1.0) or from its
/// `metadata` child (1.1); dates go through [`dates::parse`], so a missing or unreadable
/// date is `None`, never an error.
///
/// Hostile input is bounded: a DTD is refused without being read (so no entity is ever
/// expanded), at most [`MAX_NODES`] nodes are built, and nesting deeper than
/// [`MAX_DEPTH`] is refused. The parser and the walk over the tree are iterative, so
/// depth cannot overflow the stack either.
///
/// # Errors
///
/// [`OpenIocError::NotUtf8`] for bytes that are not UTF-8, [`OpenIocError::Xml`] for
/// malformed XML, a DTD or too many nodes, [`OpenIocError::TooDeep`] for nesting past
/// [`MAX_DEPTH`], and [`OpenIocError::NotOpenIoc`] when the root is not `ioc` or
/// `OpenIOC` in an OpenIOC namespace.
pub fn parse(bytes: &[u8]) -> Result<OpenIoc, OpenIocError> {
    let (skipped, bytes) = match bytes.strip_prefix(BOM) {
        Some(rest) => (BOM.len(), rest),
        None => (0, bytes),
    };
    let text = std::str::from_utf8(bytes).map_err(|err| OpenIocError::NotUtf8 {
        offset: skipped + err.valid_up_to(),
    })?;

    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..Default::default()
    };
    let document = Document::parse_with_options(text, options)
        .map_err(|err| OpenIocError::Xml(err.to_string()))?;
    check_depth(&document)?;

    let root = document.root_element();
    if !matches!(root.tag_name().name(), "ioc" | "OpenIOC") || !in_openioc_namespace(root) {
        return Err(OpenIocError::NotOpenIoc(format!(
            "the root element is {:?} in namespace {:?}",
            root.tag_name().name(),
            root.tag_name().namespace().unwrap_or_default(),
        )));
    }

    let metadata = child(root, "metadata");
    let field = |name: &str| {
        child(root, name)
            .or_else(|| metadata.and_then(|m| child(m, name)))
            .and_then(text_of)
    };

    Ok(OpenIoc {
        id: root.attribute("id").map(str::to_owned),
        short_description: field("short_description"),
        description: field("description"),
        authored_date: field("authored_date").and_then(|date| dates::parse(&date)),
        last_modified: root.attribute("last-modified").and_then(dates::parse),
        items: items(root),
    })
}

/// Every `IndicatorItem` under `definition` (1.0) or `criteria` (1.1), in document order.
fn items(root: Node) -> Vec<IndicatorItem> {
    root.children()
        .filter(|node| is(*node, "definition") || is(*node, "criteria"))
        .flat_map(|block| block.descendants())
        .filter(|node| is(*node, "IndicatorItem"))
        .map(item)
        .collect()
}

fn item(node: Node) -> IndicatorItem {
    let context = child(node, "Context");
    let content = child(node, "Content");
    let attribute =
        |node: Option<Node>, name: &str| node.and_then(|n| n.attribute(name)).map(str::to_owned);

    IndicatorItem {
        id: attribute(Some(node), "id"),
        condition: attribute(Some(node), "condition"),
        negate: node
            .attribute("negate")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        document: attribute(context, "document"),
        search: attribute(context, "search"),
        context_type: attribute(context, "type"),
        content_type: attribute(content, "type"),
        content: content.and_then(text_of),
    }
}

/// Refuses documents nested deeper than [`MAX_DEPTH`], without recursion: nodes come
/// in document order, so each parent's depth is known before its children's.
fn check_depth(document: &Document) -> Result<(), OpenIocError> {
    let mut depths: Vec<u16> = Vec::new();
    for node in document.descendants() {
        let parent = node.parent().map_or(0, |p| depths[p.id().get_usize()]);
        let depth = parent + u16::from(node.is_element());
        if usize::from(depth) > MAX_DEPTH {
            let line = document.text_pos_at(node.range().start).row;
            return Err(OpenIocError::TooDeep {
                limit: MAX_DEPTH,
                line,
            });
        }
        let index = node.id().get_usize();
        if depths.len() <= index {
            depths.resize(index + 1, 0);
        }
        depths[index] = depth;
    }
    Ok(())
}

/// The first child element with this local name.
fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|child| is(*child, name))
}

/// An element with this local name, in an OpenIOC namespace or none.
fn is(node: Node, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && in_openioc_namespace(node)
}

fn in_openioc_namespace(node: Node) -> bool {
    matches!(
        node.tag_name().namespace(),
        None | Some(NAMESPACE_1_0 | NAMESPACE_1_1)
    )
}

/// The element's own text (texts and CDATA, comments left out), trimmed; `None` when
/// empty.
fn text_of(node: Node) -> Option<String> {
    let mut text = String::new();
    for part in node.children().filter(Node::is_text) {
        text.push_str(part.text().unwrap_or_default());
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == text.len() {
        Some(text)
    } else {
        Some(trimmed.to_owned())
    }
}

#[cfg(test)]
mod tests;
