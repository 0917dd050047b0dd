//! Compact fingerprints of what a master file's groups held when they were delivered.
//!
//! The Master IoC and Master YARA files are fetched whole, about weekly. Sending every
//! group again each time would make OpenCTI re-process hundreds of thousands of objects;
//! dropping rows dated before the last fetch, as the Python connector does, loses rows the
//! TIP adds late. Instead the state keeps a 32-bit fingerprint of each delivered group's
//! content: a group is sent again exactly when its content changed (a late row, an edited
//! rule) or when it was not delivered. Four bytes a group keep the state small (about
//! 5.4 KiB of base64 for 1,000 groups).

use std::collections::HashSet;

use base64::Engine;
use serde_json::Value;

/// A running FNV-1a hash: stable across versions and platforms, unlike std's hashers.
#[derive(Clone, Copy, Debug)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    /// Feeds bytes, then a separator so that `("ab", "c")` and `("a", "bc")` differ.
    pub fn feed(mut self, bytes: &[u8]) -> Self {
        for &byte in bytes.iter().chain(&[0xff]) {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    /// The 64-bit value.
    pub fn value(self) -> u64 {
        self.0
    }
}

/// The fingerprint of a group: its name and the fingerprints of its items, in any order
/// (the TIP may reorder a file without changing it).
pub fn group(name: &str, items: impl IntoIterator<Item = u64>) -> u32 {
    let sum = items
        .into_iter()
        .fold(0u64, |acc, item| acc.wrapping_add(item));
    let folded = Fingerprint::default()
        .feed(name.as_bytes())
        .feed(&sum.to_le_bytes())
        .value();
    (folded ^ (folded >> 32)) as u32
}

/// The set of fingerprints stored under a state key (base64 of big-endian `u32`s).
pub fn load(value: Option<&Value>) -> HashSet<u32> {
    let Some(text) = value.and_then(Value::as_str) else {
        return HashSet::new();
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text) else {
        return HashSet::new();
    };
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The state value of a set of fingerprints, sorted so that equal sets store equally.
pub fn store(set: &HashSet<u32>) -> Value {
    let mut sorted: Vec<u32> = set.iter().copied().collect();
    sorted.sort_unstable();
    let bytes: Vec<u8> = sorted.iter().flat_map(|f| f.to_be_bytes()).collect();
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_fingerprints_ignore_order_and_see_changes() {
        let row = |text: &str| Fingerprint::default().feed(text.as_bytes()).value();
        let a = group("G", [row("1"), row("2")]);
        assert_eq!(a, group("G", [row("2"), row("1")]));
        assert_ne!(a, group("G", [row("1"), row("2"), row("3")]));
        assert_ne!(a, group("H", [row("1"), row("2")]));
    }

    #[test]
    fn sets_round_trip_through_the_state() {
        let set: HashSet<u32> = [1, 0xdead_beef, 42].into_iter().collect();
        assert_eq!(load(Some(&store(&set))), set);
        assert!(load(Some(&Value::from(3))).is_empty());
        assert!(load(None).is_empty());
    }
}
