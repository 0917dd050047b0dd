//! A value that must never be printed: the TIP password, the OpenCTI token, MQ credentials.
//!
//! Settings of kind secret land here when the configuration is loaded, so everything that
//! holds them (the [`Config`](super::Config) and its parts, errors, logs) can derive or
//! print `Debug` without leaking them.

use std::fmt;

/// A string whose `Debug` and `Display` print `<hidden>`.
///
/// The value comes out only through [`Secret::expose`], which makes every use easy to find.
/// There is deliberately no `PartialEq`: compare the exposed values where a comparison is
/// really needed.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value; the caller hands over the only copy it should keep.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it (an HTTP header, a login).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let secret = Secret::new("hunter2");

        assert_eq!(format!("{secret:?}"), "<hidden>");
        assert_eq!(format!("{secret}"), "<hidden>");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(<hidden>)");
        assert_eq!(secret.expose(), "hunter2");
    }
}
