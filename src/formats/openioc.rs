//! OpenIOC 1.0 and 1.1 documents, flattened to their indicator items.

use jiff::Timestamp;

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
}

/// Parses an OpenIOC document from its bytes.
pub fn parse(bytes: &[u8]) -> Result<OpenIoc, OpenIocError> {
    let _ = bytes;
    unimplemented!("formats::openioc::parse")
}
