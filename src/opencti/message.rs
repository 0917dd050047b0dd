//! The queue message of one split object: a one-object bundle, base64 in a JSON envelope.
//!
//! This is the hot path of delivery (one message per object, 100k+ a second): the bundle
//! JSON is written into a buffer the encoder reuses, and base64 goes from that buffer
//! straight into the message body, which is allocated once at its final size. The body is
//! what pycti publishes (reference/opencti-protocol.md §7.5), key for key and in Python's
//! JSON style.

use std::io::Write;

use bytes::Bytes;

use super::pyjson;
use super::split::{SplitItem, SplitObject};
use crate::stix::StixObject;

/// JSON of at least this size is encoded in its own buffer (see
/// [`MessageEncoder::encode_in_place`]); smaller messages reuse the JSON buffer.
const IN_PLACE_FROM: usize = 1 << 20;

/// Builds queue messages for one work: the applicant and work id are fixed, the rest
/// changes per message.
#[derive(Debug)]
pub struct MessageEncoder {
    /// `{"bundle_type": "QUEUE_BUNDLE", "applicant_id": "…", "action_sequence": `
    head: Vec<u8>,
    /// `, "update": false, "draft_id": null, "no_split": false[, "work_id": "…"]}`
    tail: Vec<u8>,
    /// The split bundle's JSON, reused from one message to the next.
    bundle: Vec<u8>,
}

/// A message could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// An object failed to serialise.
    #[error("object {id} could not be serialised: {source}")]
    Serialise {
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

impl MessageEncoder {
    /// An encoder for messages on behalf of `applicant_id` (the connector's user, from
    /// registration) in `work_id` (`None`: the `work_id` key is left out, as pycti does).
    pub fn new(applicant_id: &str, work_id: Option<&str>) -> Self {
        let mut head = Vec::with_capacity(96);
        head.extend_from_slice(br#"{"bundle_type": "QUEUE_BUNDLE", "applicant_id": "#);
        write_string(&mut head, applicant_id);
        head.extend_from_slice(br#", "action_sequence": "#);

        let mut tail = Vec::with_capacity(96);
        tail.extend_from_slice(br#", "update": false, "draft_id": null, "no_split": false"#);
        if let Some(work_id) = work_id {
            tail.extend_from_slice(br#", "work_id": "#);
            write_string(&mut tail, work_id);
        }
        tail.push(b'}');

        MessageEncoder {
            head,
            tail,
            bundle: Vec::with_capacity(4096),
        }
    }

    /// The body of the message with 1-based `sequence` carrying `item` from the bundle
    /// `bundle_id`.
    ///
    /// # Errors
    ///
    /// When the object cannot be serialised (a JSON object with a non-finite number).
    pub fn encode(
        &mut self,
        bundle_id: &str,
        sequence: u64,
        item: &SplitItem<'_>,
    ) -> Result<Bytes, MessageError> {
        self.write_bundle(bundle_id, item)?;

        let mut prefix = Vec::with_capacity(self.head.len() + 64);
        prefix.extend_from_slice(&self.head);
        let _ = write!(prefix, "{sequence}");
        prefix.extend_from_slice(br#", "entities_types": [], "content": ""#);
        let encoded = base64::encoded_len(self.bundle.len(), true).unwrap_or(usize::MAX);
        if self.bundle.len() >= IN_PLACE_FROM {
            return Ok(self.encode_in_place(&prefix, encoded));
        }

        let mut body = Vec::with_capacity(prefix.len() + encoded + 1 + self.tail.len());
        body.extend_from_slice(&prefix);
        let start = body.len();
        body.resize(start + encoded, 0);
        // SIMD base64: the message bodies are a third of what a Master IoC run writes.
        let written = base64_simd::STANDARD
            .encode(
                &self.bundle,
                base64_simd::Out::from_slice(&mut body[start..]),
            )
            .len();
        body.truncate(start + written);
        body.push(b'"');
        body.extend_from_slice(&self.tail);
        Ok(Bytes::from(body))
    }

    /// The body of a big message built in the JSON buffer itself: the JSON moves to the
    /// end of the body's room and is encoded forward, each block's base64 landing behind
    /// what is still to be read. A report carrying a 20 MB PDF is then held once as JSON
    /// and once as its message, not a third time.
    fn encode_in_place(&mut self, prefix: &[u8], encoded: usize) -> Bytes {
        const BLOCK: usize = 3 * 1024;
        let mut body = std::mem::replace(&mut self.bundle, Vec::with_capacity(4096));
        let json_len = body.len();
        let start = prefix.len();
        let json_at = start + encoded - json_len;
        let total = start + encoded + 1 + self.tail.len();
        // Exactly the message's size: `resize` alone would double the JSON's capacity.
        body.reserve_exact(total.saturating_sub(body.len()));
        body.resize(total, 0);
        body.copy_within(0..json_len, json_at);
        body[..start].copy_from_slice(prefix);

        let mut block = [0u8; BLOCK];
        let (mut read, mut write) = (0, start);
        while read < json_len {
            let len = BLOCK.min(json_len - read);
            block[..len].copy_from_slice(&body[json_at + read..json_at + read + len]);
            let out = base64::encoded_len(len, true).unwrap_or(0);
            write += base64_simd::STANDARD
                .encode(
                    &block[..len],
                    base64_simd::Out::from_slice(&mut body[write..write + out]),
                )
                .len();
            read += len;
        }
        debug_assert_eq!(write, start + encoded);
        body[write] = b'"';
        body[write + 1..].copy_from_slice(&self.tail);
        Bytes::from(body)
    }

    /// Writes `{"type": "bundle", "id": …, "spec_version": "2.1", "x_opencti_seq": n,
    /// "objects": [object with nb_deps]}` into the reused buffer.
    fn write_bundle(&mut self, bundle_id: &str, item: &SplitItem<'_>) -> Result<(), MessageError> {
        let out = &mut self.bundle;
        out.clear();
        out.extend_from_slice(br#"{"type": "bundle", "id": "#);
        write_string(out, bundle_id);
        let _ = write!(
            out,
            r#", "spec_version": "2.1", "x_opencti_seq": {}, "objects": ["#,
            item.nb_deps
        );

        let failed = |source| MessageError::Serialise {
            id: item.object.id().to_owned(),
            source,
        };
        match &item.object {
            SplitObject::Typed(object) => {
                pyjson::write(out, object).map_err(failed)?;
                // Our objects always have keys, so the text ends with `"…"}` or `…]}`.
                // A TLP marking is left exactly as STIX defines it: the OASIS validator
                // refuses any other property on one, and OpenCTI resolves markings by id
                // (the bundle's `x_opencti_seq` still carries the weight).
                let tlp = matches!(object, StixObject::Marking(m) if m.definition_type == "tlp");
                if !tlp && out.last() == Some(&b'}') {
                    out.pop();
                    let _ = write!(out, r#", "nb_deps": {}}}"#, item.nb_deps);
                }
            }
            SplitObject::Json(object) => pyjson::write(out, object).map_err(failed)?,
        }
        out.extend_from_slice(b"]}");
        Ok(())
    }
}

/// Appends `text` as a Python-style JSON string.
fn write_string(out: &mut Vec<u8>, text: &str) {
    // Serialising a string into a Vec cannot fail.
    let _ = pyjson::write(out, text);
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::opencti::split::{JsonObject, split_json};
    use serde_json::{Value, json};

    fn keys(object: &JsonObject) -> Vec<&str> {
        object.entries().iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn messages_follow_the_protocol() {
        let text = r#"{"type": "bundle", "id": "bundle--b", "objects": [
            {"type": "identity", "spec_version": "2.1", "id": "identity--a", "name": "É"}]}"#;
        let split = split_json(text.as_bytes(), true).unwrap();
        let mut encoder = MessageEncoder::new("88ec0c6a", Some("work_abc"));
        let body = encoder
            .encode(&split.bundle_id, 3, &split.items[0])
            .unwrap();

        let envelope: JsonObject = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            keys(&envelope),
            [
                "bundle_type",
                "applicant_id",
                "action_sequence",
                "entities_types",
                "content",
                "update",
                "draft_id",
                "no_split",
                "work_id"
            ]
        );
        assert_eq!(envelope.get("action_sequence"), Some(&json!(3)));
        assert_eq!(envelope.get("entities_types"), Some(&json!([])));
        assert_eq!(envelope.get("draft_id"), Some(&Value::Null));
        let content = envelope.get("content").unwrap().as_str().unwrap();
        let bundle = STANDARD.decode(content).unwrap();
        assert_eq!(
            String::from_utf8(bundle).unwrap(),
            concat!(
                r#"{"type": "bundle", "id": "bundle--b", "spec_version": "2.1","#,
                r#" "x_opencti_seq": 1, "objects": [{"type": "identity", "spec_version": "2.1","#,
                r#" "id": "identity--a", "name": "\u00c9", "nb_deps": 1}]}"#,
            )
        );
        let head = concat!(
            r#"{"bundle_type": "QUEUE_BUNDLE", "applicant_id": "88ec0c6a", "#,
            r#""action_sequence": 3, "entities_types": [], "content": ""#
        );
        assert!(body.starts_with(head.as_bytes()));
        assert!(body.ends_with(
            br#"", "update": false, "draft_id": null, "no_split": false, "work_id": "work_abc"}"#
        ));
    }

    #[test]
    fn no_work_means_no_work_id_key() {
        let split = split_json(
            br#"{"id": "bundle--b", "objects": [{"type": "identity", "id": "identity--a"}]}"#,
            true,
        )
        .unwrap();
        let body = MessageEncoder::new("u", None)
            .encode("bundle--b", 1, &split.items[0])
            .unwrap();
        assert!(body.ends_with(br#""no_split": false}"#));
    }

    /// A big object (here a file of about 1.5 MB) takes the in-place path: its message
    /// is byte for byte what the small path writes, around every block boundary.
    #[test]
    fn big_messages_are_encoded_in_place_exactly() {
        let mut encoder = MessageEncoder::new("u", Some("w"));
        for extra in [0usize, 1, 2, 3071, 3072, 3073] {
            let data = "A".repeat(IN_PLACE_FROM + extra);
            let text = json!({"id": "bundle--b", "objects": [
                {"type": "identity", "id": "identity--a", "name": data}]})
            .to_string();
            let split = split_json(text.as_bytes(), true).unwrap();
            let body = encoder.encode("bundle--b", 7, &split.items[0]).unwrap();

            let envelope: JsonObject = serde_json::from_slice(&body).unwrap();
            let content = envelope.get("content").unwrap().as_str().unwrap();
            let bundle: Value = serde_json::from_slice(&STANDARD.decode(content).unwrap()).unwrap();
            assert_eq!(
                bundle["objects"][0]["name"].as_str().unwrap().len(),
                data.len()
            );
            assert_eq!(envelope.get("action_sequence"), Some(&json!(7)));
            assert!(body.ends_with(br#""no_split": false, "work_id": "w"}"#));

            // The content is the base64 crate's own encoding of the JSON it carries.
            let json = STANDARD.decode(content).unwrap();
            let at = envelope_prefix_len(&body);
            assert_eq!(
                &body[at..at + content.len()],
                STANDARD.encode(&json).as_bytes()
            );
            assert_eq!(body[at + content.len()], b'"', "extra {extra}");
        }

        // The next small message still works with the buffer given away.
        let split = split_json(
            br#"{"id": "bundle--b", "objects": [{"type": "identity", "id": "identity--a"}]}"#,
            true,
        )
        .unwrap();
        let body = encoder.encode("bundle--b", 1, &split.items[0]).unwrap();
        assert!(body.ends_with(br#""work_id": "w"}"#));
    }

    /// Where the base64 content starts in a message body.
    fn envelope_prefix_len(body: &[u8]) -> usize {
        let marker = br#""content": ""#;
        body.windows(marker.len())
            .position(|w| w == marker)
            .unwrap()
            + marker.len()
    }
}
