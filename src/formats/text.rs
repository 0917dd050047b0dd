//! Text files that may hold a few bytes of invalid UTF-8.
//!
//! One bad byte must not cost a whole Master IoC or YARA file: the lines that are not
//! UTF-8 are blanked (so every other line keeps its number) and reported, and the rest
//! is read as usual.

/// A line left out because it is not UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// Offset of the first invalid byte within the line.
    pub offset: usize,
}

/// The text of `bytes` (a leading byte-order mark removed), with the lines that are not
/// UTF-8 emptied, and those lines.
pub fn utf8_lines(mut bytes: Vec<u8>) -> (String, Vec<BadLine>) {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => return (text, Vec::new()),
        Err(error) => error.into_bytes(),
    };

    let mut text = Vec::with_capacity(bytes.len());
    let mut bad = Vec::new();
    for (index, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(_) => text.extend_from_slice(line),
            Err(error) => {
                bad.push(BadLine {
                    line: index as u64 + 1,
                    offset: error.valid_up_to(),
                });
                if line.ends_with(b"\n") {
                    text.push(b'\n');
                }
            }
        }
    }
    let text = String::from_utf8(text).expect("only valid lines were kept");
    (text, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_is_returned_as_is_without_its_bom() {
        let (text, bad) = utf8_lines(b"\xEF\xBB\xBFa\nb\n".to_vec());
        assert_eq!((text.as_str(), bad.len()), ("a\nb\n", 0));
    }

    #[test]
    fn bad_lines_are_blanked_and_named() {
        let (text, bad) = utf8_lines(b"h\nok,1\nbad,\xff2\nok,3".to_vec());
        assert_eq!(text, "h\nok,1\n\nok,3");
        assert_eq!(bad, [BadLine { line: 3, offset: 4 }]);
    }
}
