//! Where a setting's raw value comes from: the environment, `config.yml`, or the default.
//!
//! The YAML file is parsed into a small generic tree first (sections of keys), because
//! the same key may hold a string, a number, a boolean or a list and the setting's kind,
//! not the YAML type, decides how it is read. [`Sources::raw`] applies the precedence
//! environment > file > default and the "empty means not set" rule.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::ConfigError;
use super::settings::{self, Kind, SECTIONS, Setting};

/// A YAML node, as much of it as settings need.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Yaml {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Text(String),
    List(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// The text of a scalar as the operator wrote it (numbers in decimal); `None` for
    /// null, lists and mappings.
    pub(super) fn scalar_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Yaml::Bool(value) => Some(Cow::Owned(value.to_string())),
            Yaml::Int(value) => Some(Cow::Owned(value.to_string())),
            Yaml::Float(value) => Some(Cow::Owned(value.to_string())),
            Yaml::Text(text) => Some(Cow::Borrowed(text)),
            Yaml::Null | Yaml::List(_) | Yaml::Map(_) => None,
        }
    }
}

impl fmt::Display for Yaml {
    /// Quoted text, bare numbers and booleans, `[...]` for lists: for error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Yaml::Null => f.write_str("null"),
            Yaml::Text(text) => write!(f, "{:?}", shorten(text)),
            Yaml::List(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Yaml::Map(_) => f.write_str("a mapping"),
            scalar => f.write_str(&scalar.scalar_text().unwrap_or_default()),
        }
    }
}

/// At most 80 characters of `text`, so that one bad value cannot flood a log line.
pub(super) fn shorten(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(80) {
        Some((end, _)) => Cow::Owned(format!("{}...", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(YamlVisitor)
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Yaml, E> {
        Ok(Yaml::Int(value.into()))
    }

    fn visit_i128<E>(self, value: i128) -> Result<Yaml, E> {
        Ok(Yaml::Int(value))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Yaml, E> {
        i128::try_from(value)
            .map(Yaml::Int)
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Yaml, E> {
        Ok(Yaml::Text(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Yaml, E> {
        Ok(Yaml::Text(value))
    }

    fn visit_unit<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }

    fn visit_none<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Yaml::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Yaml, Yaml>()? {
            let Some(key) = key.scalar_text() else {
                return Err(de::Error::custom("mapping keys must be plain words"));
            };
            entries.push((key.into_owned(), value));
        }
        Ok(Yaml::Map(entries))
    }
}

/// The sections of a `config.yml`, each a list of key and value.
#[derive(Debug, Default)]
pub(super) struct Document {
    sections: Vec<(String, Vec<(String, Yaml)>)>,
}

impl Document {
    /// Parses the text of a configuration file; `path` only names it in errors.
    ///
    /// An empty file, or one with only comments, is an empty document. Numbers with leading
    /// zeros or underscores stay text, so that `password: 0123` keeps its zero. Errors carry
    /// the parser's message and position but never a snippet of the file, which could
    /// show a secret.
    pub(super) fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let fail = |message: String| ConfigError::Parse {
            path: path.to_owned(),
            message,
        };
        let options = serde_saphyr::options! {
            with_snippet: false,
            leading_zero_numbers_as_strings: true,
            underscored_numbers_as_strings: true,
        };
        let root: Yaml = serde_saphyr::from_str_with_options(text, options)
            .map_err(|error| fail(one_line(&error.to_string())))?;

        let top = match root {
            Yaml::Null => Vec::new(),
            Yaml::Map(entries) => entries,
            _ => {
                return Err(fail(
                    "the top level must be a mapping of sections".to_owned(),
                ));
            }
        };
        let mut sections = Vec::with_capacity(top.len());
        for (name, value) in top {
            let keys = match value {
                Yaml::Null => Vec::new(),
                Yaml::Map(keys) => keys,
                _ => return Err(fail(format!("section {name:?} must be a mapping of keys"))),
            };
            sections.push((name, keys));
        }
        Ok(Document { sections })
    }

    /// The value at `section.key`, if the file has that key.
    pub(super) fn get(&self, section: &str, key: &str) -> Option<&Yaml> {
        let (_, keys) = self.sections.iter().find(|(name, _)| name == section)?;
        keys.iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// Paths in the file that no setting reads: `section.key` under a known section, the
    /// section's name otherwise. pycti reads some of them (S3, drafts) and this connector
    /// does not, so they are reported rather than refused.
    pub(super) fn ignored_keys(&self) -> Vec<String> {
        let mut ignored = Vec::new();
        for (section, keys) in &self.sections {
            if !SECTIONS.contains(&section.as_str()) {
                ignored.push(section.clone());
                continue;
            }
            for (key, _) in keys {
                if settings::find(section, key).is_none() {
                    ignored.push(format!("{section}.{key}"));
                }
            }
        }
        ignored
    }
}

/// A parser message on one line: later lines joined with `; `.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("; ")
}

/// The raw value chosen for a setting, before its kind reads it.
#[derive(Debug)]
pub(super) enum Raw<'a> {
    /// From the environment variable.
    Env(String),
    /// From `config.yml`.
    Yaml(&'a Yaml),
    /// The table's default, or the "every run" of an empty weekday.
    Default(&'static str),
}

impl Raw<'_> {
    /// The scalar text of the value; `None` for a YAML list or mapping.
    pub(super) fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Raw::Env(text) => Some(Cow::Borrowed(text)),
            Raw::Yaml(yaml) => yaml.scalar_text(),
            Raw::Default(text) => Some(Cow::Borrowed(text)),
        }
    }

    /// Whether the value counts as not set: empty or blank text, YAML null, an empty list.
    fn is_blank(&self) -> bool {
        match self {
            Raw::Yaml(Yaml::Null) => true,
            Raw::Yaml(Yaml::List(items)) => items.is_empty(),
            other => other.text().is_some_and(|text| text.trim().is_empty()),
        }
    }

    /// The value for an error message: quoted and shortened, `<hidden>` for a secret.
    pub(super) fn shown(&self, setting: &Setting) -> String {
        if setting.kind.is_secret() {
            return "<hidden>".to_owned();
        }
        match self {
            Raw::Env(text) => format!("{:?}", shorten(text)),
            Raw::Yaml(yaml) => yaml.to_string(),
            Raw::Default(text) => format!("{text:?}"),
        }
    }
}

/// The file and the environment, looked up together.
pub(super) struct Sources<'a> {
    pub(super) document: &'a Document,
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
}

impl Sources<'_> {
    /// The value of `setting` by precedence: environment, then file, then default.
    ///
    /// A variable or key that is present but empty (blank text, YAML null) counts as not
    /// set and hides what comes after it, giving the default; for a weekday it means
    /// "every run" instead. `None` when the setting has no default and no value.
    pub(super) fn raw(&self, setting: &'static Setting) -> Option<Raw<'_>> {
        let found = match (self.env)(setting.env) {
            Some(text) => Some(Raw::Env(text)),
            None => self
                .document
                .get(setting.section, setting.key)
                .map(Raw::Yaml),
        };
        match found {
            Some(raw) if !raw.is_blank() => Some(raw),
            Some(_) if setting.kind == Kind::Weekday => Some(Raw::Default("0")),
            _ => setting.default.map(Raw::Default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Document, ConfigError> {
        Document::parse(text, Path::new("config.yml"))
    }

    #[test]
    fn scalars_keep_their_written_text() {
        let doc =
            parse("kaspersky:\n  password: 0123\n  user: 1_000\n  interval_sec: 60\n").unwrap();

        assert_eq!(
            doc.get("kaspersky", "password"),
            Some(&Yaml::Text("0123".into()))
        );
        assert_eq!(
            doc.get("kaspersky", "user"),
            Some(&Yaml::Text("1_000".into()))
        );
        assert_eq!(doc.get("kaspersky", "interval_sec"), Some(&Yaml::Int(60)));
    }

    #[test]
    fn empty_file_and_empty_section_are_empty() {
        assert!(parse("").unwrap().get("kaspersky", "tlp").is_none());
        assert!(
            parse("# nothing\n")
                .unwrap()
                .get("kaspersky", "tlp")
                .is_none()
        );
        assert!(
            parse("kaspersky:\n")
                .unwrap()
                .get("kaspersky", "tlp")
                .is_none()
        );
    }

    #[test]
    fn null_and_lists_are_kept() {
        let doc = parse("kaspersky:\n  tlp:\n  scopes: [publication, master_ioc]\n").unwrap();

        assert_eq!(doc.get("kaspersky", "tlp"), Some(&Yaml::Null));
        assert_eq!(
            doc.get("kaspersky", "scopes").unwrap().to_string(),
            r#"["publication", "master_ioc"]"#
        );
    }

    #[test]
    fn shapes_other_than_sections_are_refused_on_one_line() {
        let top = parse("- a\n- b\n").unwrap_err().to_string();
        assert!(top.contains("top level must be a mapping"), "{top}");

        let section = parse("kaspersky: 3\n").unwrap_err().to_string();
        assert!(section.contains(r#"section "kaspersky""#), "{section}");

        let syntax = parse("kaspersky:\n  tlp: [amber\n")
            .unwrap_err()
            .to_string();
        assert!(
            syntax.starts_with("cannot parse configuration file config.yml: "),
            "{syntax}"
        );
        assert!(!syntax.contains('\n'), "{syntax}");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert!(parse("kaspersky:\n  tlp: red\n  tlp: amber\n").is_err());
    }

    #[test]
    fn unknown_sections_and_keys_are_listed() {
        let doc = parse("s3:\n  bucket: x\nconnector:\n  auto: true\n  name: K\n").unwrap();
        assert_eq!(doc.ignored_keys(), ["s3", "connector.auto"]);
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(200);
        assert_eq!(shorten(&long).chars().count(), 83);
        assert_eq!(shorten("short"), "short");
    }
}
