//! Reading a raw value as its setting's kind: the value rules of the configuration.
//!
//! Each `parse_*` function takes the raw value chosen by [`Sources::raw`] and returns the
//! typed value, or `None` when the kind does not accept it; [`Reader`] turns that `None`
//! into the one-line [`ConfigError::Invalid`] naming the setting.

use std::path::PathBuf;
use std::time::Duration;

use jiff::SpanRelativeTo;
use jiff::fmt::temporal::SpanParser;

use super::settings::{Kind, Setting};
use super::source::{Raw, Sources, Yaml};
use super::values::{PemSource, Scope, Scopes, TlsVerify};
use super::{ConfigError, Secret};
use crate::stix::Tlp;

/// Reads settings from their sources, one typed getter per use.
pub(super) struct Reader<'a> {
    pub(super) sources: Sources<'a>,
}

impl Reader<'_> {
    /// The value of `setting` read by `parse`, or `None` when it has neither a value nor a
    /// default.
    pub(super) fn optional<T>(
        &self,
        setting: &'static Setting,
        parse: impl FnOnce(&Raw<'_>, &Setting) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(raw) = self.sources.raw(setting) else {
            return Ok(None);
        };
        match parse(&raw, setting) {
            Some(value) => Ok(Some(value)),
            None => Err(ConfigError::Invalid {
                path: setting.path,
                env: setting.env,
                value: raw.shown(setting),
                allowed: setting.kind.allowed(),
            }),
        }
    }

    /// Whether `setting` has a value of its own, from the environment or the file, rather
    /// than its default.
    pub(super) fn is_set(&self, setting: &'static Setting) -> bool {
        self.sources
            .raw(setting)
            .is_some_and(|raw| !matches!(raw, Raw::Default(_)))
    }

    /// The value of a setting that has a default, read by `parse`.
    pub(super) fn value<T>(
        &self,
        setting: &'static Setting,
        parse: impl FnOnce(&Raw<'_>, &Setting) -> Option<T>,
    ) -> Result<T, ConfigError> {
        self.optional(setting, parse)?.ok_or(ConfigError::Missing {
            path: setting.path,
            env: setting.env,
            reason: "no value is set and there is no default",
        })
    }
}

/// Text, trimmed.
pub(super) fn parse_text(raw: &Raw<'_>, _: &Setting) -> Option<String> {
    Some(raw.text()?.trim().to_owned())
}

/// Text exactly as given, as a [`Secret`].
pub(super) fn parse_secret(raw: &Raw<'_>, _: &Setting) -> Option<Secret> {
    Some(Secret::new(raw.text()?.into_owned()))
}

/// A path, trimmed.
pub(super) fn parse_path(raw: &Raw<'_>, setting: &Setting) -> Option<PathBuf> {
    parse_text(raw, setting).map(PathBuf::from)
}

/// `true`/`yes`/`1` or `false`/`no`/`0`, any case; YAML booleans and 0/1 numbers too.
pub(super) fn parse_bool(raw: &Raw<'_>, _: &Setting) -> Option<bool> {
    bool_word(&raw.text()?)
}

fn bool_word(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// A whole number within the kind's range, converted to `T`. Fractions, exponents and
/// trailing text are refused.
pub(super) fn parse_integer<T: TryFrom<i64>>(raw: &Raw<'_>, setting: &Setting) -> Option<T> {
    let Kind::Integer { min, max } = setting.kind else {
        return None;
    };
    let number = whole_number(raw)?;
    if !(min..=max).contains(&number) {
        return None;
    }
    T::try_from(number).ok()
}

fn whole_number(raw: &Raw<'_>) -> Option<i64> {
    match raw {
        Raw::Yaml(Yaml::Int(number)) => i64::try_from(*number).ok(),
        Raw::Yaml(Yaml::Float(_) | Yaml::Bool(_)) => None,
        _ => raw.text()?.trim().parse().ok(),
    }
}

/// Comma-separated text or a YAML list of scalars; items trimmed, empty items dropped.
pub(super) fn parse_list(raw: &Raw<'_>, _: &Setting) -> Option<Vec<String>> {
    let items: Vec<String> = match raw {
        Raw::Yaml(Yaml::List(items)) => items
            .iter()
            .map(|item| item.scalar_text().map(|text| text.trim().to_owned()))
            .collect::<Option<_>>()?,
        _ => raw
            .text()?
            .split(',')
            .map(|item| item.trim().to_owned())
            .collect(),
    };
    Some(items.into_iter().filter(|item| !item.is_empty()).collect())
}

/// An `http(s)://` URL with a host; returned without a trailing `/`.
pub(super) fn parse_url(raw: &Raw<'_>, setting: &Setting) -> Option<String> {
    let text = parse_text(raw, setting)?;
    let url = reqwest::Url::parse(&text).ok()?;
    let web = matches!(url.scheme(), "http" | "https") && url.host().is_some();
    web.then(|| text.trim_end_matches('/').to_owned())
}

/// A TLP name as [`Tlp`] reads it.
pub(super) fn parse_tlp(raw: &Raw<'_>, _: &Setting) -> Option<Tlp> {
    raw.text()?.parse().ok()
}

/// 0 (every run, `None`) or an ISO weekday 1..=7.
pub(super) fn parse_weekday(raw: &Raw<'_>, _: &Setting) -> Option<Option<u8>> {
    match whole_number(raw)? {
        0 => Some(None),
        day @ 1..=7 => u8::try_from(day).ok().map(Some),
        _ => None,
    }
}

/// A non-empty list of scope words.
pub(super) fn parse_scopes(raw: &Raw<'_>, setting: &Setting) -> Option<Scopes> {
    let scopes = parse_list(raw, setting)?
        .iter()
        .map(|word| word.parse::<Scope>().ok())
        .collect::<Option<Scopes>>()?;
    (!scopes.is_empty()).then_some(scopes)
}

/// One of the kind's words, any case; returns the word as the table spells it.
pub(super) fn parse_choice(raw: &Raw<'_>, setting: &Setting) -> Option<&'static str> {
    let Kind::Choice(words) = setting.kind else {
        return None;
    };
    let text = raw.text()?;
    let text = text.trim();
    words
        .iter()
        .copied()
        .find(|word| word.eq_ignore_ascii_case(text))
}

/// A positive ISO 8601 duration, days counted as 24 hours; or whole seconds.
///
/// Years and months are refused: their length depends on the date they start from.
pub(super) fn parse_duration(raw: &Raw<'_>, _: &Setting) -> Option<Duration> {
    let text = raw.text()?;
    let text = text.trim();
    let duration = if text.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(text.parse().ok()?)
    } else {
        let span = SpanParser::new().parse_span(text).ok()?;
        if span.get_years() != 0 || span.get_months() != 0 {
            return None;
        }
        let signed = span.to_duration(SpanRelativeTo::days_are_24_hours()).ok()?;
        Duration::try_from(signed).ok()?
    };
    (!duration.is_zero()).then_some(duration)
}

/// A boolean, or else the path of a CA bundle.
pub(super) fn parse_tls_verify(raw: &Raw<'_>, setting: &Setting) -> Option<TlsVerify> {
    let text = parse_text(raw, setting)?;
    Some(match bool_word(&text) {
        Some(true) => TlsVerify::Enabled,
        Some(false) => TlsVerify::Disabled,
        None => TlsVerify::CaBundle(PathBuf::from(text)),
    })
}

/// PEM text when it starts with `-----BEGIN`, a path otherwise.
pub(super) fn parse_pem(raw: &Raw<'_>, setting: &Setting) -> Option<PemSource> {
    let text = parse_text(raw, setting)?;
    Some(if text.starts_with("-----BEGIN") {
        PemSource::Inline(Secret::new(text))
    } else {
        PemSource::File(PathBuf::from(text))
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::settings::{
        CONNECTOR_DURATION_PERIOD, CONNECTOR_LOG_LEVEL, KASPERSKY_INTERVAL_SEC,
    };

    fn env(text: &str) -> Raw<'static> {
        Raw::Env(text.to_owned())
    }

    #[test]
    fn booleans_in_every_accepted_spelling() {
        let setting = &KASPERSKY_INTERVAL_SEC;
        for word in ["true", "TRUE", "True", "yes", "YES", "1", " true "] {
            assert_eq!(parse_bool(&env(word), setting), Some(true), "{word}");
        }
        for word in ["false", "False", "no", "No", "0"] {
            assert_eq!(parse_bool(&env(word), setting), Some(false), "{word}");
        }
        for word in ["maybe", "on", "off", "2", "t"] {
            assert_eq!(parse_bool(&env(word), setting), None, "{word}");
        }
        assert_eq!(
            parse_bool(&Raw::Yaml(&Yaml::Bool(false)), setting),
            Some(false)
        );
        assert_eq!(parse_bool(&Raw::Yaml(&Yaml::Int(1)), setting), Some(true));
    }

    #[test]
    fn integers_must_be_whole_and_in_range() {
        let setting = &KASPERSKY_INTERVAL_SEC;
        assert_eq!(parse_integer::<u64>(&env(" 60 "), setting), Some(60));
        assert_eq!(
            parse_integer::<u64>(&Raw::Yaml(&Yaml::Int(60)), setting),
            Some(60)
        );
        for bad in ["12.5", "1e3", "60s", "", "0", "-5"] {
            assert_eq!(parse_integer::<u64>(&env(bad), setting), None, "{bad}");
        }
        assert_eq!(
            parse_integer::<u64>(&Raw::Yaml(&Yaml::Float(60.0)), setting),
            None
        );
        assert_eq!(
            parse_integer::<u64>(&Raw::Yaml(&Yaml::Bool(true)), setting),
            None
        );
    }

    #[test]
    fn lists_drop_spaces_and_empty_items() {
        let setting = &KASPERSKY_INTERVAL_SEC;
        assert_eq!(
            parse_list(&env(" Md5sum , ,FileItem/Sha1sum,"), setting).unwrap(),
            ["Md5sum", "FileItem/Sha1sum"]
        );
        let yaml = Yaml::List(vec![Yaml::Text(" a ".into()), Yaml::Text(String::new())]);
        assert_eq!(parse_list(&Raw::Yaml(&yaml), setting).unwrap(), ["a"]);
        let nested = Yaml::List(vec![Yaml::List(Vec::new())]);
        assert_eq!(parse_list(&Raw::Yaml(&nested), setting), None);
    }

    #[test]
    fn weekdays_are_zero_to_seven() {
        let setting = &KASPERSKY_INTERVAL_SEC;
        assert_eq!(parse_weekday(&env("0"), setting), Some(None));
        assert_eq!(parse_weekday(&env("7"), setting), Some(Some(7)));
        assert_eq!(parse_weekday(&env("8"), setting), None);
        assert_eq!(parse_weekday(&env("monday"), setting), None);
    }

    #[test]
    fn scopes_need_known_words_and_at_least_one() {
        let setting = &KASPERSKY_INTERVAL_SEC;
        let scopes = parse_scopes(&env("master_yara, publication"), setting).unwrap();
        assert!(scopes.contains(Scope::MasterYara) && !scopes.contains(Scope::MasterIoc));
        assert_eq!(parse_scopes(&env("publication,reports"), setting), None);
        assert_eq!(parse_scopes(&env(" , "), setting), None);
    }

    #[test]
    fn durations_are_iso_8601_or_seconds() {
        let setting = &CONNECTOR_DURATION_PERIOD;
        let hours = |h: u64| Some(Duration::from_secs(h * 3600));
        assert_eq!(parse_duration(&env("PT12H"), setting), hours(12));
        assert_eq!(parse_duration(&env("P1D"), setting), hours(24));
        assert_eq!(parse_duration(&env("P1W"), setting), hours(168));
        assert_eq!(
            parse_duration(&env("PT1H30M"), setting),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(parse_duration(&env("3600"), setting), hours(1));
        for bad in ["P1M", "P1Y", "PT0S", "0", "-PT1H", "12h", "soon", "PT"] {
            assert_eq!(parse_duration(&env(bad), setting), None, "{bad}");
        }
    }

    #[test]
    fn choices_are_case_insensitive_and_canonical() {
        let setting = &CONNECTOR_LOG_LEVEL;
        assert_eq!(parse_choice(&env("WARNING"), setting), Some("warning"));
        assert_eq!(parse_choice(&env("trace"), setting), None);
    }

    #[test]
    fn urls_need_a_web_scheme_and_lose_the_trailing_slash() {
        let setting = &KASPERSKY_INTERVAL_SEC;
        assert_eq!(
            parse_url(&env("https://tip.example.com/"), setting).as_deref(),
            Some("https://tip.example.com")
        );
        assert_eq!(parse_url(&env("ftp://example.com"), setting), None);
        assert_eq!(parse_url(&env("ChangeMe"), setting), None);
    }

    #[test]
    fn tls_verify_is_a_boolean_or_a_path() {
        let setting = &KASPERSKY_INTERVAL_SEC;
        assert_eq!(
            parse_tls_verify(&env("no"), setting),
            Some(TlsVerify::Disabled)
        );
        assert_eq!(
            parse_tls_verify(&env("/etc/ca.pem"), setting),
            Some(TlsVerify::CaBundle("/etc/ca.pem".into()))
        );
    }

    #[test]
    fn pem_is_inline_text_or_a_path() {
        let setting = &KASPERSKY_INTERVAL_SEC;
        let inline = parse_pem(&env("-----BEGIN PRIVATE KEY-----\nabc"), setting).unwrap();
        assert!(matches!(inline, PemSource::Inline(_)));
        assert_eq!(format!("{inline:?}"), "Inline(<hidden>)");
        let file = parse_pem(&env("/run/key.pem"), setting).unwrap();
        assert!(matches!(file, PemSource::File(path) if path == Path::new("/run/key.pem")));
    }
}
