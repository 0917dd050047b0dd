//! Base64 of gzip, the way the TIP ships files, decoded with a cap on the output size.

/// Default cap on a decompressed payload: generous for Master files, fatal for bombs.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 512 * 1024 * 1024;

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
pub fn decode(encoded: &str, limit: u64) -> Result<Vec<u8>, PayloadError> {
    let _ = (encoded, limit);
    unimplemented!("formats::payload::decode")
}

/// [`decode`], then UTF-8 validation; a leading byte-order mark is removed.
pub fn decode_text(encoded: &str, limit: u64) -> Result<String, PayloadError> {
    let _ = (encoded, limit);
    unimplemented!("formats::payload::decode_text")
}
