//! STIX patterns of one equality comparison, as the Python connector writes them.
//!
//! The indicator id hashes the pattern text, so spacing and quoting are fixed:
//! `[object:path = 'value']`.

/// Escapes a value for a STIX pattern string literal: `\` becomes `\\` and `'` becomes `\'`.
///
/// Nothing else needs escaping: the patterning grammar accepts any other character,
/// newlines included, between the quotes.
///
/// ```
/// use connector_kaspersky::stix::pattern::escape;
/// assert_eq!(escape(r"C:\it's"), r"C:\\it\'s");
/// ```
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `[object_path = 'value']` with the value escaped.
///
/// ```
/// use connector_kaspersky::stix::pattern::equality;
/// assert_eq!(equality("file:hashes.'SHA-256'", "ab"), "[file:hashes.'SHA-256' = 'ab']");
/// ```
pub fn equality(object_path: &str, value: &str) -> String {
    format!("[{object_path} = '{}']", escape(value))
}

/// Reads back the value of a pattern written by [`equality`]; `None` for any other shape.
pub fn equality_value(pattern: &str) -> Option<String> {
    let body = pattern.strip_prefix('[')?.strip_suffix("']")?;
    let (_, quoted) = body.split_once(" = '")?;
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '\'' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_value_round_trips(value in any::<String>()) {
            let pattern = equality("url:value", &value);
            prop_assert_eq!(equality_value(&pattern), Some(value));
        }
    }
}
