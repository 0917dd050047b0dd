//! YARA files split into rules by a real parser, with the metadata the scopes read.
//!
//! A publication's `report_yara` and the Master YARA file arrive here after
//! [`super::payload::decode_text`]; the publication and Master YARA scopes turn each
//! [`YaraRule`] into one indicator whose pattern is [`YaraRule::pattern`]
//! (DESIGN.md difference 4). The split is done by yara-x's parser (submodule `scan`),
//! so braces in strings, comments, commented-out rules, `private` and `global` rules and
//! meta on one line are all read as YARA reads them. With the `yara-validate` feature
//! each pattern is also compiled with boreal (submodule `validate`).

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;

use super::dates;
use super::text::BadLine;

mod scan;
#[cfg(feature = "yara-validate")]
mod validate;

/// A YARA file: its rules, and the rules that could not be used.
#[derive(Clone, Debug, Default)]
pub struct YaraFile {
    /// The file's `import` statements as written (`import "pe"`), in file order, each
    /// module once.
    pub imports: Vec<String>,
    pub rules: Vec<YaraRule>,
    /// Rules (or stretches of text) that were skipped, with the reason, by line.
    pub errors: Vec<YaraError>,
}

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YaraRule {
    pub name: String,
    /// The 1-based line of the rule's first keyword, for messages.
    pub line: usize,
    /// The 1-based line of its closing brace: with [`YaraRule::line`], the lines its text
    /// spans.
    pub end_line: usize,
    pub private: bool,
    pub global: bool,
    pub tags: Vec<String>,
    /// Meta `description`, else `desc` (keys in any case), unescaped.
    pub description: Option<String>,
    /// Meta `report`, trimmed; `None` when absent or blank.
    pub report: Option<String>,
    /// Meta `last_modified` as written (a string unescaped, an integer in decimal).
    pub last_modified_text: Option<String>,
    /// Meta `last_modified` read with [`crate::formats::dates::parse`].
    pub last_modified: Option<Timestamp>,
    /// The rule's own text, from its first keyword to its closing brace.
    pub text: String,
    /// The indicator pattern: imports, the rules it names, then its own text
    /// (reference/stix-mapping.md "YARA pattern text"; see [`pattern`] for the details).
    pub pattern: String,
}

/// A rule that was skipped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule} (line {line}): {reason}")]
pub struct YaraError {
    /// The rule's name, or `<unnamed>` when even that could not be read.
    pub rule: String,
    pub line: usize,
    /// The line of the rule's closing brace, when the rule is skipped for one of its
    /// lines and its extent is worth naming.
    pub end_line: Option<usize>,
    pub reason: String,
}

/// Splits a YARA file into rules.
///
/// Never fails as a whole: what cannot be used is listed in [`YaraFile::errors`] and the
/// rest goes on. Skipped are
///
/// - rules with a syntax error (yara-x's parser recovers at the next rule; when a missing
///   `}` made one rule run into the next ones, those are cut apart and read on their
///   own), and text between rules that is no rule at all;
/// - `include` statements (the included file is not at hand);
/// - rules whose condition names a rule of the file that was skipped;
/// - with the `yara-validate` feature, rules whose [`YaraRule::pattern`] does not
///   compile (boreal's one-line message is the reason).
///
/// Commented-out rules are comments, not rules. Rule references are the bare
/// identifiers of a condition that name another rule of the same file (the first rule of
/// that name when a name repeats).
pub fn split(text: &str) -> YaraFile {
    split_except(text, &[])
}

/// [`split`] for a text whose `bad` lines were not UTF-8 and were mended with
/// [`super::text::Mend::Replace`]: a rule whose text spans such a line is skipped whole
/// ("not UTF-8 at line L", with its lines), as is every rule that names it, because its
/// text is not what the file says. The other rules are kept intact.
///
/// A bad line outside every parsed rule costs nothing more: in a comment between rules
/// it does not matter, in a rule that does not parse that rule is skipped anyway.
pub fn split_except(text: &str, bad: &[BadLine]) -> YaraFile {
    let scan = scan::scan(text);
    let lines = LineIndex::new(text);

    let mut modules = HashSet::new();
    let imports: Vec<String> = scan
        .imports
        .into_iter()
        .filter(|import| modules.insert(import.module.clone()))
        .map(|import| import.text)
        .collect();

    let mut errors: Vec<YaraError> = scan
        .broken
        .iter()
        .map(|broken| YaraError {
            rule: broken
                .rule
                .clone()
                .unwrap_or_else(|| "<unnamed>".to_owned()),
            line: lines.line(broken.offset),
            end_line: None,
            reason: broken.reason.clone(),
        })
        .collect();

    let broken_names: HashSet<&str> = scan
        .broken
        .iter()
        .filter_map(|b| b.rule.as_deref())
        .collect();
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (index, rule) in scan.rules.iter().enumerate() {
        by_name.entry(rule.name.as_str()).or_insert(index);
    }

    // Rules damaged by a bad line are marked first, so that a rule naming one is skipped
    // wherever the two stand in the file.
    let spans: Vec<(usize, usize)> = scan
        .rules
        .iter()
        .map(|rule| {
            (
                lines.line(rule.start),
                lines.line(rule.end.saturating_sub(1)),
            )
        })
        .collect();
    let damaged: Vec<Option<u64>> = spans
        .iter()
        .map(|&(first, last)| {
            bad.iter()
                .map(|b| b.line)
                .find(|&l| (first as u64..=last as u64).contains(&l))
        })
        .collect();
    let mut skipped: Vec<bool> = damaged.iter().map(Option::is_some).collect();

    let mut rules = Vec::with_capacity(scan.rules.len());
    for (index, parsed) in scan.rules.iter().enumerate() {
        let (line, end_line) = spans[index];
        if let Some(bad_line) = damaged[index] {
            errors.push(YaraError {
                rule: parsed.name.clone(),
                line,
                end_line: Some(end_line),
                reason: format!("not UTF-8 at line {bad_line}"),
            });
            continue;
        }
        let mut skip = |reason: String| {
            errors.push(YaraError {
                rule: parsed.name.clone(),
                line,
                end_line: None,
                reason,
            });
        };

        let dependencies = match dependencies(index, &scan.rules, &by_name, &broken_names) {
            Ok(dependencies) => dependencies,
            Err(missing) => {
                skipped[index] = true;
                skip(format!(
                    "its condition names rule `{missing}`, which was skipped"
                ));
                continue;
            }
        };
        if let Some(&failed) = dependencies.iter().find(|&&d| skipped[d]) {
            skipped[index] = true;
            let missing = &scan.rules[failed].name;
            skip(format!(
                "its condition names rule `{missing}`, which was skipped"
            ));
            continue;
        }

        let own = &text[parsed.start..parsed.end];
        let texts = dependencies
            .iter()
            .map(|&d| &text[scan.rules[d].start..scan.rules[d].end]);
        let pattern = pattern(&imports, texts, own);

        if let Err(reason) = check(&pattern) {
            skipped[index] = true;
            skip(format!("does not compile: {reason}"));
            continue;
        }

        rules.push(YaraRule {
            name: parsed.name.clone(),
            line,
            end_line,
            private: parsed.private,
            global: parsed.global,
            tags: parsed.tags.clone(),
            description: parsed.description.clone(),
            report: parsed.report.clone(),
            last_modified: parsed.last_modified_text.as_deref().and_then(dates::parse),
            last_modified_text: parsed.last_modified_text.clone(),
            text: own.to_owned(),
            pattern,
        });
    }

    errors.sort_by_key(|error| error.line);
    YaraFile {
        imports,
        rules,
        errors,
    }
}

/// Builds a rule's indicator pattern, as reference/stix-mapping.md "YARA pattern text"
/// says:
///
/// 1. each import statement followed by `\n`, then one empty line (`\n`). The empty line
///    is written *even when the file has no imports*, following the text literally
///    ("none if the file has none), then one empty line"), so such a pattern starts with
///    `\n`;
/// 2. the text of each rule it names (transitively, in file order) followed by `\n` and
///    an empty line (`\n`);
/// 3. its own text exactly as in the file, original line endings included, and `\n`.
///
/// The indicator id hashes this text, so any change here changes every YARA id.
pub fn pattern<'a>(
    imports: &[String],
    dependencies: impl IntoIterator<Item = &'a str>,
    own: &str,
) -> String {
    let mut pattern = String::with_capacity(own.len() + 64);
    for import in imports {
        pattern.push_str(import);
        pattern.push('\n');
    }
    pattern.push('\n');
    for dependency in dependencies {
        pattern.push_str(dependency);
        pattern.push_str("\n\n");
    }
    pattern.push_str(own);
    pattern.push('\n');
    pattern
}

/// The rules that rule `index` names, directly or through them, in file order; or the
/// name of a skipped rule that it needs.
fn dependencies(
    index: usize,
    rules: &[scan::ParsedRule],
    by_name: &HashMap<&str, usize>,
    broken_names: &HashSet<&str>,
) -> Result<Vec<usize>, String> {
    let mut found = HashSet::new();
    let mut stack = vec![index];
    while let Some(current) = stack.pop() {
        for name in &rules[current].identifiers {
            match by_name.get(name.as_str()) {
                Some(&dependency) if dependency != index && found.insert(dependency) => {
                    stack.push(dependency);
                }
                Some(_) => {}
                None if broken_names.contains(name.as_str()) => return Err(name.clone()),
                None => {}
            }
        }
    }
    let mut found: Vec<usize> = found.into_iter().collect();
    found.sort_unstable();
    Ok(found)
}

/// Compiles a pattern when the `yara-validate` feature is on.
fn check(pattern: &str) -> Result<(), String> {
    #[cfg(feature = "yara-validate")]
    return validate::compile(pattern);

    #[cfg(not(feature = "yara-validate"))]
    {
        let _ = pattern;
        Ok(())
    }
}

/// Byte offsets to 1-based line numbers.
struct LineIndex {
    /// The offset of each `\n`.
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i);
        Self {
            newlines: newlines.collect(),
        }
    }

    fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&newline| newline < offset) + 1
    }
}

#[cfg(test)]
mod tests;
