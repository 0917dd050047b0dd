//! Which object types OpenCTI's workers import (reference/opencti-protocol.md §7.3).

use std::collections::HashSet;
use std::sync::LazyLock;

/// The types pycti's splitter accepts: entities, internal types, observables,
/// `relationship`, `sighting` and `pir`.
pub const SUPPORTED_TYPES: &[&str] = &[
    // STIX and OpenCTI entities.
    "label",
    "vocabulary",
    "kill-chain-phase",
    "attack-pattern",
    "campaign",
    "case-incident",
    "x-opencti-case-incident",
    "case-rfi",
    "x-opencti-case-rfi",
    "case-rft",
    "x-opencti-case-rft",
    "channel",
    "course-of-action",
    "data-component",
    "x-mitre-data-component",
    "data-source",
    "x-mitre-data-source",
    "event",
    "external-reference",
    "feedback",
    "x-opencti-feedback",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "language",
    "location",
    "malware",
    "malware-analysis",
    "marking-definition",
    "narrative",
    "note",
    "observed-data",
    "opinion",
    "report",
    "task",
    "x-opencti-task",
    "threat-actor",
    "tool",
    "vulnerability",
    "security-coverage",
    // Internal types.
    "user",
    "group",
    "capability",
    "role",
    "settings",
    "notification",
    "work",
    "trash",
    "draftworkspace",
    "playbook",
    "deleteoperation",
    "workspace",
    "publicdashboard",
    // Observables.
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "email-mime-part-type",
    "artifact",
    "file",
    "x509-certificate",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "windows-registry-value-type",
    "hostname",
    "cryptographic-key",
    "cryptocurrency-wallet",
    "text",
    "user-agent",
    "bank-account",
    "phone-number",
    "credential",
    "tracking-number",
    "payment-card",
    "media-content",
    "simple-observable",
    "persona",
    "ssh-key",
    "ai-prompt",
    "imei",
    "iccid",
    "imsi",
    // Relationships and the rest.
    "relationship",
    "sighting",
    "pir",
];

static SUPPORTED: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| SUPPORTED_TYPES.iter().copied().collect());

/// Whether OpenCTI imports objects with this id: its type (the part before `--`) is in
/// [`SUPPORTED_TYPES`]. A string without `--` counts as supported, as in pycti.
pub fn is_supported(id: &str) -> bool {
    match id.split_once("--") {
        Some((kind, _)) => SUPPORTED.contains(kind),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_ids() {
        assert!(is_supported("indicator--1"));
        assert!(is_supported("pir--1"));
        assert!(is_supported("no-separator"));
        assert!(!is_supported("x-custom-thing--1"));
        assert!(!is_supported("extension-definition--1"));
        assert!(!is_supported("language-content--1"));
    }
}
