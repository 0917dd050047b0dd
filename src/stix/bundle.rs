//! A STIX bundle: the unit a scope hands to a sink.

use foldhash::{HashSet, HashSetExt};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use uuid::Uuid;

use super::objects::StixObject;

/// A bundle of objects with unique ids, in insertion order.
///
/// The first object pushed under an id wins: the builders create an id from the same
/// identifying properties every time, so a later copy adds nothing.
#[derive(Clone, Debug)]
pub struct Bundle {
    id: String,
    objects: Vec<StixObject>,
    seen: HashSet<String>,
}

impl Bundle {
    /// An empty bundle with the given id (`bundle--<uuid>`).
    pub fn new(id: Uuid) -> Self {
        Bundle {
            id: format!("bundle--{id}"),
            objects: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// An empty bundle whose id is derived from `key`, so that the same input gives the
    /// same bundle (file names and tests stay reproducible).
    pub fn derived(key: &str) -> Self {
        Bundle::new(Uuid::new_v5(&super::ids::NAMESPACE, key.as_bytes()))
    }

    /// The bundle id, `bundle--<uuid>`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Adds an object unless one with the same id is already there; true when added.
    pub fn push(&mut self, object: impl Into<StixObject>) -> bool {
        let object = object.into();
        if self.seen.contains(object.id()) {
            return false;
        }
        self.seen.insert(object.id().to_owned());
        self.objects.push(object);
        true
    }

    /// Whether an object with this id is in the bundle.
    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    /// The objects, in insertion order.
    pub fn objects(&self) -> &[StixObject] {
        &self.objects
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when the bundle holds no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Takes the objects out, leaving the bundle empty.
    pub fn into_objects(self) -> Vec<StixObject> {
        self.objects
    }
}

impl Serialize for Bundle {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", "bundle")?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("spec_version", "2.1")?;
        map.serialize_entry("objects", &self.objects)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stix::{Identity, Tlp};

    #[test]
    fn duplicates_keep_the_first_copy() {
        let now = "2024-01-01T00:00:00Z".parse().unwrap();
        let mut bundle = Bundle::derived("test");
        assert!(bundle.push(Identity::organization("Kaspersky", now)));
        assert!(!bundle.push(Identity::organization("kaspersky ", now)));
        assert!(bundle.push(Tlp::Amber.marking_definition()));
        assert_eq!(bundle.len(), 2);
        let json = serde_json::to_value(&bundle).unwrap();
        assert_eq!(json["objects"][0]["type"], "identity");
        assert_eq!(json["objects"][1]["type"], "marking-definition");
    }
}
