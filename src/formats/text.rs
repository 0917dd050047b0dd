//! Text files that may hold a few bytes of invalid UTF-8.
//!
//! One bad byte must not cost a whole Master IoC or YARA file: the lines that are not
//! UTF-8 are mended (so every other line keeps its number) and reported, and the rest
//! is read as usual. How a line is mended depends on what the caller does next
//! ([`Mend`]): a Master IoC row is one line, so blanking it loses exactly that row; a YARA
//! rule spans lines, so its caller drops every rule that a bad line falls in and needs
//! the file's structure (comments, braces) kept to find those rules.

/// A line left out because it is not UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// Offset of the first invalid byte within the line.
    pub offset: usize,
}

/// A file that is not text at all: half of its lines or more are not UTF-8.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not UTF-8 text (invalid byte at offset {} of line {})", .first.offset, .first.line)]
pub struct NotText {
    /// The first bad line.
    pub first: BadLine,
}

/// What becomes of a line that is not UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mend {
    /// Emptied, its line break kept: for files read one line at a time.
    Blank,
    /// Each invalid sequence replaced by U+FFFD: the line's comment markers, quotes and
    /// braces stay where they were, for a caller that must tell which construct the line
    /// belonged to and drop that whole construct.
    Replace,
}

/// [`utf8_lines`] or [`replaced_lines`] as `mend` says, unless most of the file is not
/// text: then one error says so, rather than one skipped line per line of the file.
///
/// # Errors
///
/// [`NotText`] when half of the lines or more are not UTF-8.
pub fn mostly_utf8(bytes: Vec<u8>, mend: Mend) -> Result<(String, Vec<BadLine>), NotText> {
    let lines = bytes.split(|&b| b == b'\n').count();
    let (text, bad) = match mend {
        Mend::Blank => utf8_lines(bytes),
        Mend::Replace => replaced_lines(bytes),
    };
    if !bad.is_empty() && bad.len() * 2 >= lines {
        return Err(NotText {
            first: bad[0].clone(),
        });
    }
    Ok((text, bad))
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

    // Valid lines move forward over the gaps that bad ones leave: no second buffer.
    let mut bytes = bytes;
    let mut bad = Vec::new();
    let (mut read, mut write, mut line) = (0, 0, 0u64);
    while read < bytes.len() {
        let end = bytes[read..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |at| read + at + 1);
        line += 1;
        match std::str::from_utf8(&bytes[read..end]) {
            Ok(_) => {
                bytes.copy_within(read..end, write);
                write += end - read;
            }
            Err(error) => {
                bad.push(BadLine {
                    line,
                    offset: error.valid_up_to(),
                });
                if bytes[end - 1] == b'\n' {
                    bytes[write] = b'\n';
                    write += 1;
                }
            }
        }
        read = end;
    }
    bytes.truncate(write);
    let text = String::from_utf8(bytes).expect("only valid lines were kept");
    (text, bad)
}

/// The text of `bytes` (a leading byte-order mark removed), with the invalid sequences of
/// the lines that are not UTF-8 replaced by U+FFFD, and those lines.
///
/// Unlike [`utf8_lines`] this builds a second buffer when a line is bad: the replacement
/// is longer than the byte it replaces.
pub fn replaced_lines(mut bytes: Vec<u8>) -> (String, Vec<BadLine>) {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => return (text, Vec::new()),
        Err(error) => error.into_bytes(),
    };

    let mut text = String::with_capacity(bytes.len() + 16);
    let mut bad = Vec::new();
    for (index, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(line) => text.push_str(line),
            Err(error) => {
                bad.push(BadLine {
                    line: index as u64 + 1,
                    offset: error.valid_up_to(),
                });
                text.push_str(&String::from_utf8_lossy(line));
            }
        }
    }
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
    fn a_file_mostly_not_text_is_one_error() {
        let error = mostly_utf8(b"\xff\nok\n\xfe".to_vec(), Mend::Blank).unwrap_err();
        assert_eq!(
            error.to_string(),
            "not UTF-8 text (invalid byte at offset 0 of line 1)"
        );
        let (text, bad) = mostly_utf8(b"a\nb\n\xffc\nd".to_vec(), Mend::Blank).unwrap();
        assert_eq!((text.as_str(), bad.len()), ("a\nb\n\nd", 1));
    }

    #[test]
    fn bad_lines_are_blanked_and_named() {
        let (text, bad) = utf8_lines(b"h\nok,1\nbad,\xff2\nok,3".to_vec());
        assert_eq!(text, "h\nok,1\n\nok,3");
        assert_eq!(bad, [BadLine { line: 3, offset: 4 }]);
    }

    #[test]
    fn bad_lines_can_be_replaced_in_place_and_named() {
        let (text, bad) = replaced_lines(b"\xEF\xBB\xBFa\n// caf\xe9 {\r\nb\xff\xfe".to_vec());
        assert_eq!(text, "a\n// caf\u{FFFD} {\r\nb\u{FFFD}\u{FFFD}");
        assert_eq!(
            bad,
            [
                BadLine { line: 2, offset: 6 },
                BadLine { line: 3, offset: 1 }
            ]
        );
        let (text, bad) = mostly_utf8(b"a\nb\n\xffc\nd".to_vec(), Mend::Replace).unwrap();
        assert_eq!((text.as_str(), bad.len()), ("a\nb\n\u{FFFD}c\nd", 1));
    }
}
