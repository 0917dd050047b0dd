//! One pass of yara-x's parser over a YARA text: the byte span and metadata of each rule,
//! the imports, and what could not be parsed.
//!
//! The concrete syntax tree (CST) gives each rule's exact span; the abstract syntax tree
//! (AST), built from the same parse, gives typed meta values (escapes already undone)
//! and the condition's identifiers. A rule is good only when both agree: the AST built
//! it and no syntax error falls inside it.

use std::collections::{HashMap, HashSet};

use yara_x_parser::Parser;
use yara_x_parser::ast::dfs::{DFSEvent, DFSIter};
use yara_x_parser::ast::{AST, Error, Expr, MetaValue, Rule, RuleFlags, WithSpan};
use yara_x_parser::cst::{CST, Immutable, Node, SyntaxKind};

/// A rule that parsed, with everything [`super::split`] needs.
#[derive(Debug)]
pub(super) struct ParsedRule {
    /// Byte offsets in the whole file, from the first keyword to the closing `}`.
    pub start: usize,
    pub end: usize,
    pub name: String,
    pub private: bool,
    pub global: bool,
    pub tags: Vec<String>,
    pub description: Option<String>,
    pub report: Option<String>,
    pub last_modified_text: Option<String>,
    /// Bare identifiers of the condition, in order, without duplicates; those naming
    /// another rule of the file are its references.
    pub identifiers: Vec<String>,
}

/// Something skipped: a rule that did not parse, or text that is no rule at all.
#[derive(Debug)]
pub(super) struct Broken {
    pub offset: usize,
    /// The rule's name when one could be read.
    pub rule: Option<String>,
    pub reason: String,
}

/// An `import` statement.
#[derive(Debug)]
pub(super) struct Import {
    pub module: String,
    /// The statement as written, such as `import "pe"`.
    pub text: String,
}

#[derive(Debug, Default)]
pub(super) struct Scan {
    pub imports: Vec<Import>,
    pub rules: Vec<ParsedRule>,
    pub broken: Vec<Broken>,
}

/// Scans a whole file.
pub(super) fn scan(text: &str) -> Scan {
    let mut scan = Scan::default();
    scan_into(text, 0, true, &mut scan);
    scan
}

/// Scans `source`, which starts at byte `base` of the file.
///
/// With `recover`, a broken rule that swallowed the next rules (a missing `}` makes the
/// parser run on to the next closing brace) is cut at each `rule` keyword inside it,
/// and each piece is scanned again on its own, once: the work stays linear in the size
/// of the file whatever its shape.
fn scan_into(source: &str, base: usize, recover: bool, out: &mut Scan) {
    // The source is a `&str`, so the CST cannot meet invalid UTF-8.
    let Ok(cst) = CST::try_from(Parser::new(source.as_bytes())) else {
        let reason = "not UTF-8 text".to_owned();
        out.broken.push(Broken {
            offset: base,
            rule: None,
            reason,
        });
        return;
    };
    let ast = AST::new(source.as_bytes(), cst.iter());

    let rules_by_ident: HashMap<usize, &Rule> = ast
        .rules()
        .map(|rule| (rule.identifier.span().start(), rule))
        .collect();

    // Each error goes to the top-level item it falls in: the last one starting before it.
    let nodes: Vec<Node<Immutable>> = cst.root().children().collect();
    let mut node_errors: Vec<Option<String>> = vec![None; nodes.len()];
    for error in ast.errors() {
        let (at, message) = describe(error);
        match nodes.partition_point(|node| node.span().start() <= at) {
            0 => out.broken.push(Broken {
                offset: base + at,
                rule: None,
                reason: message,
            }),
            i => {
                node_errors[i - 1].get_or_insert(message);
            }
        }
    }

    for (node, error) in nodes.iter().zip(node_errors) {
        let span = node.span();
        let offset = base + span.start();
        match (node.kind(), error) {
            (SyntaxKind::IMPORT_STMT, None) => {
                let text = source[span.range()].to_owned();
                let module = import_module(node).unwrap_or_default();
                out.imports.push(Import { module, text });
                continue;
            }
            (SyntaxKind::INCLUDE_STMT, None) => {
                let reason = "include statements are not supported".to_owned();
                out.broken.push(Broken {
                    offset,
                    rule: None,
                    reason,
                });
                continue;
            }
            (SyntaxKind::RULE_DECL, None) => {
                if let Some(rule) = direct_ident(node).and_then(|at| rules_by_ident.get(&at)) {
                    out.rules.push(parsed(rule, base, span.start(), span.end()));
                    continue;
                }
                let reason = "syntax error".to_owned();
                out.broken.push(Broken {
                    offset,
                    rule: rule_name(node),
                    reason,
                });
            }
            (_, error) => {
                let reason = error.unwrap_or_else(|| "syntax error".to_owned());
                out.broken.push(Broken {
                    offset,
                    rule: rule_name(node),
                    reason,
                });
            }
        }

        if recover {
            for (start, end) in swallowed_rules(node) {
                scan_into(&source[start..end], base + start, false, out);
            }
        }
    }
}

fn parsed(rule: &Rule, base: usize, start: usize, end: usize) -> ParsedRule {
    let meta = rule.meta.as_deref().unwrap_or_default();
    let value = |key: &str| {
        meta.iter()
            .find(|m| m.identifier.name.eq_ignore_ascii_case(key))
            .map(|m| text(&m.value))
    };

    ParsedRule {
        start: base + start,
        end: base + end,
        name: rule.identifier.name.to_owned(),
        private: rule.flags.contains(RuleFlags::Private),
        global: rule.flags.contains(RuleFlags::Global),
        tags: rule
            .tags
            .iter()
            .flatten()
            .map(|tag| tag.name.to_owned())
            .collect(),
        description: value("description").or_else(|| value("desc")),
        report: value("report")
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty()),
        last_modified_text: value("last_modified"),
        identifiers: identifiers(&rule.condition),
    }
}

/// A meta value as text: strings unescaped (lossy for bytes that are not UTF-8),
/// numbers and booleans as written in decimal.
fn text(value: &MetaValue) -> String {
    match value {
        MetaValue::String((s, _)) => (*s).to_owned(),
        MetaValue::Bytes((b, _)) => String::from_utf8_lossy(b).into_owned(),
        MetaValue::Integer((i, _)) => i.to_string(),
        MetaValue::Float((f, _)) => f.to_string(),
        MetaValue::Bool((b, _)) => b.to_string(),
    }
}

/// The bare identifiers of a condition (not field names after a `.`), first use first.
fn identifiers(condition: &Expr) -> Vec<String> {
    let mut fields = HashSet::new();
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    for event in DFSIter::new(condition) {
        let DFSEvent::Enter(expr) = event else {
            continue;
        };
        match expr {
            Expr::FieldAccess(access) => {
                for operand in access.operands().skip(1) {
                    if let Expr::Ident(ident) = operand {
                        fields.insert(ident.span().start());
                    }
                }
            }
            Expr::Ident(ident)
                if !fields.contains(&ident.span().start()) && seen.insert(ident.name) =>
            {
                names.push(ident.name.to_owned());
            }
            _ => {}
        }
    }
    names
}

/// Where an error is (byte offset in the parsed source) and what it says.
fn describe(error: &Error) -> (usize, String) {
    match error {
        Error::SyntaxError { message, span }
        | Error::InvalidInteger { message, span }
        | Error::InvalidFloat { message, span }
        | Error::InvalidRegexpModifier { message, span }
        | Error::InvalidEscapeSequence { message, span } => (span.start(), message.clone()),
        Error::InvalidUTF8(span) => (span.start(), "invalid UTF-8".to_owned()),
        Error::UnexpectedEscapeSequence(span) => (
            span.start(),
            "escape sequences are not allowed here".to_owned(),
        ),
    }
}

/// The offset of a rule declaration's name, a direct child of the declaration.
fn direct_ident(node: &Node<Immutable>) -> Option<usize> {
    node.children_with_tokens()
        .filter_map(|child| child.into_token())
        .find(|token| token.kind() == SyntaxKind::IDENT)
        .map(|token| token.span().start())
}

/// The name after the first `rule` keyword inside a node, if any.
fn rule_name(node: &Node<Immutable>) -> Option<String> {
    let mut after_rule_kw = false;
    for token in tokens(node) {
        match token.kind() {
            SyntaxKind::RULE_KW => after_rule_kw = true,
            SyntaxKind::IDENT if after_rule_kw => return Some(token.text().to_owned()),
            SyntaxKind::WHITESPACE | SyntaxKind::NEWLINE | SyntaxKind::COMMENT => {}
            _ if after_rule_kw => return None,
            _ => {}
        }
    }
    None
}

/// The spans (relative to the scanned source) of the rules that start inside a broken
/// node after its own first `rule` keyword, each running to the next one or to the
/// node's end. A rule's `private`/`global` modifiers belong to its span.
fn swallowed_rules(node: &Node<Immutable>) -> Vec<(usize, usize)> {
    let mut starts = Vec::new();
    let mut at_head = true;
    let mut modifiers_start = None;
    for token in tokens(node) {
        let start = token.span().start();
        match token.kind() {
            SyntaxKind::WHITESPACE | SyntaxKind::NEWLINE | SyntaxKind::COMMENT => continue,
            SyntaxKind::PRIVATE_KW | SyntaxKind::GLOBAL_KW => {
                modifiers_start.get_or_insert(start);
                continue;
            }
            SyntaxKind::RULE_KW if at_head => {}
            SyntaxKind::RULE_KW => starts.push(modifiers_start.unwrap_or(start)),
            _ => {}
        }
        at_head = false;
        modifiers_start = None;
    }

    let end = node.span().end();
    let ends = starts.iter().skip(1).copied().chain(std::iter::once(end));
    starts.iter().copied().zip(ends).collect()
}

/// The tokens of a node, left to right.
fn tokens(node: &Node<Immutable>) -> impl Iterator<Item = yara_x_parser::cst::Token<Immutable>> {
    let end = node.span().end();
    std::iter::successors(node.first_token(), |token| token.next_token())
        .take_while(move |token| token.span().start() < end)
}

/// The module named by an `import` statement, quotes removed.
fn import_module(node: &Node<Immutable>) -> Option<String> {
    tokens(node)
        .find(|token| token.kind() == SyntaxKind::STRING_LIT)
        .map(|token| token.text().trim_matches('"').to_owned())
}
