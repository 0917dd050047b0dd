//! The payload decoder (base64 of gzip) under a small cap.
//!
//! The first byte picks the mode and the next two the cap (0..8192 bytes):
//! - mode 0: the rest is the encoded text itself (when it is UTF-8), so the base64 layer
//!   is fuzzed;
//! - mode 1: the rest is raw gzip, base64-encoded here, so the gzip layer is fuzzed and
//!   the result is compared with flate2 read directly.
//!
//! Checks: the output never exceeds the cap; `decode_text` and `decode_owned` agree with
//! `decode` (the in-place decoder may meet another fault first: both fail); in
//! mode 1, success, `TooLarge` and failure match the reference decoder byte for byte.

#![no_main]

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use connector_kaspersky::formats::payload::{self, PayloadError};
use flate2::read::MultiGzDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [mode, high, low, rest @ ..] = data else {
        return;
    };
    let cap = u64::from(u16::from_be_bytes([*high, *low]) % 8192);

    let encoded = if mode & 1 == 0 {
        match std::str::from_utf8(rest) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        }
    } else {
        STANDARD.encode(rest)
    };

    let decoded = payload::decode(&encoded, cap);
    if let Ok(out) = &decoded {
        assert!(
            out.len() as u64 <= cap,
            "{} bytes past a cap of {cap}",
            out.len()
        );
    }

    // The in-place decoder (Master files) agrees: same bytes, or an error too.
    match (&decoded, payload::decode_owned(encoded.clone(), cap)) {
        (Ok(a), Ok(b)) => assert_eq!(a, &b),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("decode {a:?} but decode_owned {b:?}"),
    }

    let text = payload::decode_text(&encoded, cap);
    match (&decoded, &text) {
        (Ok(bytes), Ok(text)) => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            assert_eq!(body, text.as_bytes());
        }
        (Ok(bytes), Err(PayloadError::NotUtf8 { offset })) => {
            assert!(*offset <= bytes.len());
            let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
                3
            } else {
                0
            };
            assert!(std::str::from_utf8(&bytes[bom..]).is_err());
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("decode {a:?} but decode_text {b:?}"),
    }

    if mode & 1 == 1 {
        compare_with_flate2(rest, cap, &decoded);
    }
});

/// The reference: flate2's multi-member decoder on the raw bytes, reading one byte past
/// the cap to tell "at the cap" from "over it".
fn compare_with_flate2(raw: &[u8], cap: u64, decoded: &Result<Vec<u8>, PayloadError>) {
    if raw.is_empty() {
        assert!(matches!(decoded, Err(PayloadError::Gzip(_))), "{decoded:?}");
        return;
    }
    let mut reference = Vec::new();
    let result = MultiGzDecoder::new(raw)
        .take(cap + 1)
        .read_to_end(&mut reference);
    match (result, decoded) {
        (Ok(_), Ok(out)) => assert_eq!(out, &reference),
        (Ok(_), Err(PayloadError::TooLarge { limit })) => {
            assert_eq!(*limit, cap);
            assert_eq!(reference.len() as u64, cap + 1);
        }
        (Err(_), Err(PayloadError::Gzip(_))) => {}
        // A stream that yields more than the cap before it turns corrupt: reading in small
        // pieces we pass the cap first, while the reference, reading more at once, meets
        // the corruption in the same call and loses what came before it. Both refuse.
        (Err(_), Err(PayloadError::TooLarge { limit })) => assert_eq!(*limit, cap),
        (reference, ours) => panic!("flate2 {reference:?} but ours {ours:?}"),
    }
}
