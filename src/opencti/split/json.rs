//! STIX objects read from JSON text, with their top-level keys kept in order.
//!
//! The splitter walks references in the order the keys were written, and serde_json's
//! default map sorts keys; [`JsonObject`] keeps the order of the top-level keys (nested
//! values are plain [`Value`]s, whose order the splitter never depends on).

use foldhash::{HashSet, HashSetExt};
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// The OpenCTI extension whose `id` is an object's internal id.
const OPENCTI_EXTENSION: &str = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba";

/// One STIX object as a list of `(key, value)` pairs in document order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonObject {
    entries: Vec<(String, Value)>,
}

impl JsonObject {
    /// An object from its pairs, in the given order.
    pub fn from_entries(entries: Vec<(String, Value)>) -> Self {
        JsonObject { entries }
    }

    /// The pairs, in document order.
    pub fn entries(&self) -> &[(String, Value)] {
        &self.entries
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, in place when present, else as the last key.
    pub fn insert(&mut self, key: &str, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = value,
            None => self.entries.push((key.to_owned(), value)),
        }
    }

    /// The `id`, when it is a string.
    pub fn id(&self) -> Option<&str> {
        self.get("id").and_then(Value::as_str)
    }

    /// The `type`, when it is a string.
    pub fn stix_type(&self) -> Option<&str> {
        self.get("type").and_then(Value::as_str)
    }

    /// OpenCTI internal ids the object carries (`x_opencti_id` and the OpenCTI
    /// extension's `id`), under which the splitter also indexes it.
    pub(super) fn internal_ids(&self) -> Vec<&str> {
        let mut ids = Vec::new();
        if let Some(id) = self.get("x_opencti_id").and_then(Value::as_str) {
            ids.push(id);
        }
        let extension = self
            .get("extensions")
            .and_then(|e| e.get(OPENCTI_EXTENSION))
            .and_then(|e| e.get("id"))
            .and_then(Value::as_str);
        if let Some(id) = extension {
            ids.push(id);
        }
        ids
    }

    /// Every reference, in key order: the strings of `*_refs` lists and the string values
    /// of `*_ref` keys. The positions match [`JsonObject::rewrite`]'s walk.
    pub(super) fn ref_slots(&self) -> Vec<RefSlot<'_>> {
        let mut slots = Vec::new();
        for (key, value) in &self.entries {
            if key.ends_with("_refs") {
                if let Value::Array(items) = value {
                    slots.extend(
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|target| RefSlot { key, target }),
                    );
                }
            } else if key.ends_with("_ref")
                && let Value::String(target) = value
            {
                slots.push(RefSlot { key, target });
            }
        }
        slots
    }

    /// Applies the splitter's verdicts: `kept[i]` says whether the i-th slot of
    /// [`JsonObject::ref_slots`] stays. Dropped list entries disappear and duplicates
    /// collapse; a dropped single reference becomes `null`. External references and
    /// kill-chain phases are deduplicated as pycti does.
    pub(super) fn rewrite(&mut self, kept: &[bool]) {
        let mut slot = 0;
        for (key, value) in &mut self.entries {
            if key.ends_with("_refs") {
                if let Value::Array(items) = value {
                    // A report of a big group holds thousands of refs: a set, not a scan.
                    let mut seen: HashSet<String> = HashSet::with_capacity(items.len());
                    let mut out: Vec<Value> = Vec::with_capacity(items.len());
                    for item in items.drain(..) {
                        let Value::String(target) = &item else {
                            continue;
                        };
                        let keep = kept.get(slot).copied().unwrap_or(false);
                        slot += 1;
                        if keep && seen.insert(target.clone()) {
                            out.push(item);
                        }
                    }
                    *items = out;
                }
            } else if key.ends_with("_ref") {
                match value {
                    Value::Null => {}
                    Value::String(_) => {
                        if !kept.get(slot).copied().unwrap_or(false) {
                            *value = Value::Null;
                        }
                        slot += 1;
                    }
                    _ => *value = Value::Null,
                }
            } else if key == "external_references" {
                dedup_external_references(value);
            } else if key == "kill_chain_phases" {
                dedup_kill_chain_phases(value);
            }
        }
    }
}

/// One reference of an object: the key it sits under and the id it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RefSlot<'a> {
    pub key: &'a str,
    pub target: &'a str,
}

/// Keeps the first external reference per identity (`url`, else `source_name` and
/// `external_id`); entries with neither are dropped.
fn dedup_external_references(value: &mut Value) {
    let Value::Array(items) = value else { return };
    let mut seen = HashSet::new();
    items.retain(|reference| {
        let url = reference.get("url").filter(|v| !v.is_null());
        let truthy = |key: &str| {
            reference
                .get(key)
                .filter(|v| !v.is_null() && v.as_str() != Some(""))
                .map(Value::to_string)
        };
        let identity = match url {
            Some(url) => format!("url:{url}"),
            None => match (truthy("source_name"), truthy("external_id")) {
                (Some(source), Some(external)) => format!("ext:{source}:{external}"),
                _ => return false,
            },
        };
        seen.insert(identity)
    });
}

/// Keeps the first kill-chain phase per `(kill_chain_name, phase_name)`.
fn dedup_kill_chain_phases(value: &mut Value) {
    let Value::Array(items) = value else { return };
    let mut seen = HashSet::new();
    items.retain(|phase| {
        let part = |key: &str| phase.get(key).map(Value::to_string).unwrap_or_default();
        seen.insert((part("kill_chain_name"), part("phase_name")))
    });
}

impl Serialize for JsonObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in &self.entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;

        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = JsonObject;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<JsonObject, A::Error> {
                let mut object = JsonObject::default();
                while let Some((key, value)) = access.next_entry::<String, Value>()? {
                    // A repeated key keeps its first position and its last value, as
                    // Python's json.loads does.
                    object.insert(&key, value);
                }
                Ok(object)
            }
        }

        deserializer.deserialize_map(OrderedVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order() {
        let object: JsonObject = serde_json::from_str(r#"{"z": 1, "a": 2, "m": 3}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&object).unwrap(),
            r#"{"z":1,"a":2,"m":3}"#
        );
    }

    #[test]
    fn rewrite_drops_nulls_and_collapses() {
        let mut object: JsonObject = serde_json::from_str(
            r#"{"created_by_ref": "identity--a", "object_refs": ["x--1", "x--1", 3, "x--2"],
                "other_ref": 5, "kill_chain_phases": [
                  {"kill_chain_name": "k", "phase_name": "p"},
                  {"kill_chain_name": "k", "phase_name": "p"}],
                "external_references": [{"source_name": "only"},
                  {"url": "u", "source_name": "a"}, {"url": "u"},
                  {"source_name": "s", "external_id": "e"}]}"#,
        )
        .unwrap();
        let slots = object.ref_slots();
        assert_eq!(slots.len(), 4);
        object.rewrite(&[false, true, true, false]);
        let json = serde_json::to_value(&object).unwrap();
        assert_eq!(json["created_by_ref"], Value::Null);
        assert_eq!(json["object_refs"], serde_json::json!(["x--1"]));
        assert_eq!(json["other_ref"], Value::Null);
        assert_eq!(json["kill_chain_phases"].as_array().unwrap().len(), 1);
        assert_eq!(
            json["external_references"],
            serde_json::json!([{"url": "u", "source_name": "a"},
                {"source_name": "s", "external_id": "e"}])
        );
    }
}
