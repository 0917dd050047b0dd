//! Base64 of gzip, the way the TIP ships files, decoded with a cap on the output size.
//!
//! The `tip` client hands every file field (`report_pdf`, `report_iocs`, `report_yara`,
//! `master_ioc`, `master_yara`) to [`decode`] or [`decode_text`] before a parser sees it.
//! Decoding streams: the base64 text is read in place, decoded in small blocks and fed
//! straight to the gzip decoder, so only the encoded text and the (capped) output are
//! ever in memory.

use std::io::{self, Read};

use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use base64::read::DecoderReader;
use base64::{DecodeError, DecodeSliceError, Engine};
use flate2::read::MultiGzDecoder;

/// Default cap on a decompressed payload: generous for Master files, fatal for bombs.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 512 * 1024 * 1024;

/// The first allocation for the output, before it grows by doubling.
const INITIAL_CAPACITY: usize = 64 * 1024;

/// Why a payload could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    #[error("invalid base64: {0}")]
    Base64(String),
    #[error("invalid gzip stream: {0}")]
    Gzip(String),
    #[error("decompressed size exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
}

/// Decodes base64 then gunzips, refusing output larger than `limit` bytes.
///
/// The base64 is the standard alphabet; padding may be present or not, and ASCII
/// whitespace anywhere (line breaks every 76 columns, a trailing newline) is ignored.
/// Several gzip members one after the other are decoded as one stream.
///
/// The output buffer grows by doubling but never beyond `limit` bytes (plus one byte to
/// tell "exactly the limit" from "more"), so a gzip bomb costs at most `limit` bytes of
/// memory before it is refused.
///
/// # Errors
///
/// [`PayloadError::Base64`] for a character outside the alphabet or a truncated
/// quantum, [`PayloadError::Gzip`] for a stream that is empty, corrupt or truncated,
/// and [`PayloadError::TooLarge`] once the output passes `limit`.
pub fn decode(encoded: &str, limit: u64) -> Result<Vec<u8>, PayloadError> {
    let base64 = TrackedBase64 {
        inner: DecoderReader::new(
            SkipWhitespace {
                rest: encoded.as_bytes(),
            },
            &STANDARD_PAD_INDIFFERENT,
        ),
        failure: None,
        produced: 0,
    };
    let mut gzip = MultiGzDecoder::new(base64);

    let out =
        read_capped(&mut gzip, limit, 0).map_err(|err| match gzip.get_ref().failure.clone() {
            Some(reason) => PayloadError::Base64(reason),
            None => PayloadError::Gzip(err.to_string()),
        })?;

    let Some(out) = out else {
        return Err(PayloadError::TooLarge { limit });
    };
    if gzip.get_ref().produced == 0 {
        return Err(PayloadError::Gzip("empty input".to_owned()));
    }
    Ok(out)
}

/// [`decode`] for a payload the caller gives up, reusing its buffer.
///
/// The base64 is decoded in place, in the encoded text's own buffer, which then shrinks
/// to the compressed size; only then is it gunzipped, into a buffer sized from the gzip
/// trailer. At its peak this holds the compressed and the decompressed data, never the
/// encoded text beside them: what keeps a Master file of a million rows within its
/// memory budget.
///
/// # Errors
///
/// As [`decode`].
pub fn decode_owned(encoded: String, limit: u64) -> Result<Vec<u8>, PayloadError> {
    let compressed = base64_in_place(encoded.into_bytes())?;
    if compressed.is_empty() {
        return Err(PayloadError::Gzip("empty input".to_owned()));
    }

    let hint = gzip_size_hint(&compressed);
    let mut gzip = MultiGzDecoder::new(compressed.as_slice());
    match read_capped(&mut gzip, limit, hint) {
        Ok(Some(out)) => Ok(out),
        Ok(None) => Err(PayloadError::TooLarge { limit }),
        Err(err) => Err(PayloadError::Gzip(err.to_string())),
    }
}

/// Decodes the base64 in `buf` into the front of `buf` itself, block by block: a block's
/// output (three bytes for four characters) always lands behind what was already read.
fn base64_in_place(mut buf: Vec<u8>) -> Result<Vec<u8>, PayloadError> {
    const BLOCK: usize = 4 * 1024;
    let mut block = [0u8; BLOCK];
    let mut out = [0u8; BLOCK / 4 * 3];
    let (mut read, mut written, mut seen) = (0, 0, 0);
    let mut block_ended_padded = false;

    loop {
        let mut filled = 0;
        while filled < BLOCK && read < buf.len() {
            let byte = buf[read];
            read += 1;
            if !byte.is_ascii_whitespace() {
                block[filled] = byte;
                filled += 1;
            }
        }
        if filled == 0 {
            break;
        }
        if seen > 0 && block_ended_padded {
            return Err(PayloadError::Base64(format!(
                "Invalid padding before offset {seen}."
            )));
        }

        let n = STANDARD_PAD_INDIFFERENT
            .decode_slice(&block[..filled], &mut out)
            .map_err(|error| PayloadError::Base64(shifted(error, seen)))?;
        buf[written..written + n].copy_from_slice(&out[..n]);
        written += n;
        seen += filled;
        block_ended_padded = block[filled - 1] == b'=';
    }

    buf.truncate(written);
    buf.shrink_to_fit();
    Ok(buf)
}

/// A block's decoding error, with its offset counted from the start of the payload.
fn shifted(error: DecodeSliceError, seen: usize) -> String {
    match error {
        DecodeSliceError::DecodeError(DecodeError::InvalidByte(at, byte)) => {
            DecodeError::InvalidByte(seen + at, byte).to_string()
        }
        DecodeSliceError::DecodeError(DecodeError::InvalidLastSymbol {
            offset,
            symbol,
            symbol_value,
        }) => DecodeError::InvalidLastSymbol {
            offset: seen + offset,
            symbol,
            symbol_value,
        }
        .to_string(),
        other => other.to_string(),
    }
}

/// The decompressed size the gzip trailer announces (its last four bytes: the size of
/// the last member modulo 2^32), bounded by the most deflate can expand `compressed`.
/// Only a first allocation: a wrong or lying trailer costs a regrowth, nothing more.
fn gzip_size_hint(compressed: &[u8]) -> usize {
    const MAX_DEFLATE_RATIO: usize = 1032;
    let Some(trailer) = compressed.last_chunk::<4>() else {
        return 0;
    };
    let announced = u32::from_le_bytes(*trailer) as usize;
    announced.min(compressed.len().saturating_mul(MAX_DEFLATE_RATIO))
}

/// [`decode`], then UTF-8 validation; a leading byte-order mark is removed.
///
/// # Errors
///
/// Those of [`decode`], and [`PayloadError::NotUtf8`] with the offset of the first
/// invalid byte in the decompressed data (counting the byte-order mark, if any).
pub fn decode_text(encoded: &str, limit: u64) -> Result<String, PayloadError> {
    let mut bytes = decode(encoded, limit)?;

    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    if let Err(err) = std::str::from_utf8(&bytes[bom..]) {
        return Err(PayloadError::NotUtf8 {
            offset: bom + err.valid_up_to(),
        });
    }
    bytes.drain(..bom);

    // Validated just above; the conversion cannot fail and does not copy.
    String::from_utf8(bytes).map_err(|err| PayloadError::NotUtf8 {
        offset: bom + err.utf8_error().valid_up_to(),
    })
}

/// Reads `reader` to its end, or returns `None` as soon as more than `limit` bytes
/// came out. `hint` is the expected size: the first allocation takes it (plus the byte
/// that tells the end), so an exact hint means no regrowth. Capacity never exceeds
/// `limit + 1`.
fn read_capped(reader: &mut impl Read, limit: u64, hint: usize) -> io::Result<Option<Vec<u8>>> {
    let cap = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut out: Vec<u8> = Vec::new();
    let mut filled = 0;

    loop {
        if filled == out.len() {
            if out.len() == cap {
                return Ok(None);
            }
            let wanted = if out.is_empty() {
                hint.saturating_add(1).max(INITIAL_CAPACITY)
            } else {
                out.len().saturating_mul(2)
            };
            let grown = wanted.min(cap);
            out.reserve_exact(grown - out.len());
            out.resize(grown, 0);
        }

        match reader.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }

    if filled == cap {
        return Ok(None);
    }
    out.truncate(filled);
    out.shrink_to_fit();
    Ok(Some(out))
}

/// The encoded bytes with ASCII whitespace left out.
struct SkipWhitespace<'a> {
    rest: &'a [u8],
}

impl Read for SkipWhitespace<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut written = 0;
        while written < buf.len() && !self.rest.is_empty() {
            let take = self.rest.len().min(buf.len() - written);
            let (chunk, rest) = self.rest.split_at(take);
            self.rest = rest;
            for &byte in chunk.iter().filter(|b| !b.is_ascii_whitespace()) {
                buf[written] = byte;
                written += 1;
            }
        }
        Ok(written)
    }
}

/// The base64 decoder, remembering whether it was the one that failed (the gzip decoder
/// passes its reader's errors through unchanged) and whether it produced any byte.
struct TrackedBase64<R> {
    inner: R,
    failure: Option<String>,
    produced: u64,
}

impl<R: Read> Read for TrackedBase64<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.produced += n as u64;
                Ok(n)
            }
            Err(err) => {
                self.failure = Some(err.to_string());
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use proptest::prelude::*;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn pack(data: &[u8]) -> String {
        STANDARD.encode(gzip(data))
    }

    #[test]
    fn round_trip() {
        let data = b"uid,publication\n1,Example\n";
        assert_eq!(decode(&pack(data), 1024).unwrap(), data);
    }

    #[test]
    fn whitespace_and_line_breaks_are_ignored() {
        let data = "rule a { condition: true }\n".repeat(50);
        let encoded = pack(data.as_bytes());
        let wrapped: String = encoded
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap()))
            .collect();
        assert_eq!(
            decode(&format!("  {wrapped} \t"), 1 << 20).unwrap(),
            data.as_bytes()
        );
    }

    #[test]
    fn padding_is_optional() {
        let data = b"ab";
        let unpadded = STANDARD_NO_PAD.encode(gzip(data));
        assert_eq!(decode(&unpadded, 16).unwrap(), data);
    }

    #[test]
    fn concatenated_members_are_one_stream() {
        let mut both = gzip(b"first,");
        both.extend(gzip(b"second"));
        assert_eq!(decode(&STANDARD.encode(both), 64).unwrap(), b"first,second");
    }

    #[test]
    fn output_exactly_at_the_limit_is_accepted() {
        let data = vec![b'x'; 1000];
        assert_eq!(decode(&pack(&data), 1000).unwrap().len(), 1000);
        assert!(matches!(
            decode(&pack(&data), 999),
            Err(PayloadError::TooLarge { limit: 999 })
        ));
    }

    #[test]
    fn a_bomb_is_refused_at_the_cap() {
        // 64 MiB of zeros compress to about 64 KiB.
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            encoder.write_all(&zeros).unwrap();
        }
        let encoded = STANDARD.encode(encoder.finish().unwrap());
        let err = decode(&encoded, 1 << 20).unwrap_err();
        assert!(
            matches!(err, PayloadError::TooLarge { limit: 1_048_576 }),
            "{err}"
        );
    }

    #[test]
    fn bad_base64_is_a_base64_error() {
        let mut encoded = pack(b"hello");
        encoded.insert(8, '*');
        assert!(matches!(decode(&encoded, 64), Err(PayloadError::Base64(_))));
        assert!(matches!(decode("QUJD-", 64), Err(PayloadError::Base64(_))));
    }

    #[test]
    fn bad_gzip_is_a_gzip_error() {
        let not_gzip = STANDARD.encode(b"plain text, not gzip at all");
        assert!(matches!(decode(&not_gzip, 64), Err(PayloadError::Gzip(_))));

        let mut truncated = gzip(b"a longer text that will be cut in the middle");
        truncated.truncate(truncated.len() - 6);
        assert!(matches!(
            decode(&STANDARD.encode(truncated), 64),
            Err(PayloadError::Gzip(_))
        ));
    }

    #[test]
    fn empty_input_is_a_gzip_error() {
        assert!(matches!(decode("", 64), Err(PayloadError::Gzip(_))));
        assert!(matches!(decode(" \n ", 64), Err(PayloadError::Gzip(_))));
    }

    #[test]
    fn text_loses_its_bom() {
        let encoded = pack("\u{feff}<ioc/>".as_bytes());
        assert_eq!(decode_text(&encoded, 64).unwrap(), "<ioc/>");
        assert_eq!(decode_text(&pack("ключ".as_bytes()), 64).unwrap(), "ключ");
    }

    #[test]
    fn text_must_be_utf8() {
        let encoded = pack(b"abc\xFFdef");
        assert!(matches!(
            decode_text(&encoded, 64),
            Err(PayloadError::NotUtf8 { offset: 3 })
        ));
        let encoded = pack(b"\xEF\xBB\xBFab\xC3");
        assert!(matches!(
            decode_text(&encoded, 64),
            Err(PayloadError::NotUtf8 { offset: 5 })
        ));
    }

    /// Every sample API answer decodes to the matching file of `decoded/`.
    #[test]
    fn sample_master_files_decode() {
        let Some(api) = crate::testdata::shared("samples/api") else {
            return;
        };
        let decoded = api.parent().unwrap().join("decoded");
        for (file, key, expected) in [
            ("get_master_ioc.json", "master_ioc", "master_ioc.csv"),
            ("get_master_yara.json", "master_yara", "master_yara.yar"),
        ] {
            let body: serde_json::Value =
                serde_json::from_slice(&std::fs::read(api.join(file)).unwrap()).unwrap();
            let encoded = body["return_data"][key].as_str().unwrap();
            let text = decode_text(encoded, DEFAULT_MAX_DECOMPRESSED_BYTES).unwrap();
            assert_eq!(
                text,
                std::fs::read_to_string(decoded.join(expected)).unwrap()
            );
        }

        let mut files = 0;
        for entry in std::fs::read_dir(&api).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            let Some(id) = name
                .strip_prefix("get_one-")
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            let body: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let publication = decoded.join("publications").join(id);
            for (key, file) in [
                ("report_pdf", "report.pdf"),
                ("report_iocs", "iocs.ioc"),
                ("report_yara", "rules.yar"),
            ] {
                let Some(encoded) = body["return_data"][key].as_str() else {
                    continue;
                };
                let bytes = decode(encoded, DEFAULT_MAX_DECOMPRESSED_BYTES).unwrap();
                assert_eq!(
                    bytes,
                    std::fs::read(publication.join(file)).unwrap(),
                    "{id} {key}"
                );
                files += 1;
            }
        }
        assert_eq!(files, 6 + 4 + 4);
    }

    proptest! {
        #[test]
        fn round_trips_and_respects_the_cap(
            data in proptest::collection::vec(any::<u8>(), 0..4096),
            limit in 0u64..5000,
        ) {
            match decode(&pack(&data), limit) {
                Ok(out) => prop_assert_eq!(out, data),
                Err(PayloadError::TooLarge { .. }) => prop_assert!(data.len() as u64 > limit),
                Err(err) => prop_assert!(false, "{}", err),
            }
        }

        #[test]
        fn never_panics_on_garbage(text in "[A-Za-z0-9+/= \n]{0,200}") {
            let _ = decode(&text, 1024);
        }

        /// The in-place decoder gives what the streaming one gives, across block
        /// boundaries, with line breaks anywhere, and fails where it fails.
        #[test]
        fn in_place_decoding_agrees_with_streaming(
            data in proptest::collection::vec(any::<u8>(), 0..20_000),
            wrap in 0usize..200,
            limit in 0u64..25_000,
            damage in proptest::option::of((any::<prop::sample::Index>(), "[-*=A\n]")),
        ) {
            let mut encoded = pack(&data);
            if wrap > 0 {
                encoded = encoded
                    .as_bytes()
                    .chunks(wrap)
                    .map(|line| format!("{}\n", std::str::from_utf8(line).unwrap()))
                    .collect();
            }
            let damaged = damage.is_some();
            if let Some((at, with)) = damage {
                let at = at.index(encoded.len() + 1);
                encoded.insert_str(at, &with);
            }
            let streamed = decode(&encoded, limit);
            let in_place = decode_owned(encoded, limit);
            match (streamed, in_place) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                // Which fault is met first differs: the streaming decoder may stop at a
                // gzip error or at the cap before it reads bad base64 further on.
                (Err(_), Err(_)) if damaged => {}
                (Err(a), Err(b)) => prop_assert_eq!(
                    std::mem::discriminant(&a),
                    std::mem::discriminant(&b),
                    "{} / {}", a, b
                ),
                (a, b) => prop_assert!(false, "streaming {:?}, in place {:?}", a, b),
            }
        }
    }

    #[test]
    fn in_place_decoding_names_the_offset_in_the_whole_payload() {
        let mut encoded = "A".repeat(3 * 4096);
        encoded.replace_range(9000..9001, "*");
        let error = decode_owned(encoded, 1 << 20).unwrap_err().to_string();
        assert!(error.contains("offset 9000"), "{error}");
    }

    #[test]
    fn in_place_decoding_sizes_its_output_from_the_gzip_trailer() {
        let data = vec![b'x'; 300_000];
        let out = decode_owned(pack(&data), 1 << 20).unwrap();
        assert_eq!(out, data);
        // Exact from the first allocation: no doubling past the data.
        assert!(out.capacity() <= data.len() + 1, "{}", out.capacity());
        assert!(matches!(
            decode_owned(pack(&data), 299_999),
            Err(PayloadError::TooLarge { limit: 299_999 })
        ));
        assert!(matches!(
            decode_owned(" ".to_owned(), 64),
            Err(PayloadError::Gzip(_))
        ));
    }
}
