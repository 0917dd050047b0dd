//! Error text for people: an error and its causes on one line.

/// `outer: inner: innermost`, leaving out a cause whose text the outer one already holds
/// (many errors repeat their source in their own message).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
