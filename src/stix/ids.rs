//! Deterministic STIX ids exactly as pycti and the stix2 library compute them.
//!
//! An id is `<type>--<UUIDv5>` over the canonical JSON (RFC 8785) of the properties that
//! identify the object. Every name-like property is lower-cased and stripped the Python way
//! first. The test vectors at the bottom come from pycti itself; a change that breaks one of
//! them would make OpenCTI store duplicates of what the Python connector imported.

use serde_json::Value;
use uuid::Uuid;

/// The namespace pycti and stix2 use for every deterministic id.
pub const NAMESPACE: Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// `<prefix>--<uuid5(canonical)>`.
pub fn from_canonical(prefix: &str, canonical: &str) -> String {
    let uuid = uuid5(canonical.as_bytes());
    let mut id = String::with_capacity(prefix.len() + 2 + uuid::fmt::Hyphenated::LENGTH);
    id.push_str(prefix);
    id.push_str("--");
    id.push_str(uuid.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
    id
}

/// UUIDv5 in [`NAMESPACE`], as `Uuid::new_v5` computes it, with a SHA-1 that uses the
/// CPU's SHA instructions where it has them: a million-row Master IoC file needs three
/// ids a row.
pub fn uuid5(name: &[u8]) -> Uuid {
    use sha1::{Digest, Sha1};

    let digest = Sha1::new()
        .chain_update(NAMESPACE.as_bytes())
        .chain_update(name)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// The id of an object identified by the given properties, all of them strings.
///
/// The keys may come in any order; canonical JSON sorts them.
pub fn from_properties(prefix: &str, properties: &[(&str, &str)]) -> String {
    let mut sorted: Vec<_> = properties.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut text = String::with_capacity(64);
    text.push('{');
    for (i, (key, value)) in sorted.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        write_json_string(&mut text, key);
        text.push(':');
        write_json_string(&mut text, value);
    }
    text.push('}');
    from_canonical(prefix, &text)
}

/// The id of an object identified by a JSON value (nested objects, such as file hashes).
pub fn from_value(prefix: &str, value: &Value) -> String {
    let mut text = String::with_capacity(64);
    write_canonical(&mut text, value);
    from_canonical(prefix, &text)
}

/// RFC 8785 canonical JSON, for the value shapes ids use: objects, strings and integers.
///
/// Keys are sorted here rather than trusted to the map type, because another crate in the
/// build may switch serde_json to insertion order.
pub fn write_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, key);
                out.push(':');
                write_canonical(out, &map[key]);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::String(text) => write_json_string(out, text),
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON string as RFC 8785 writes it: only `"`, `\` and control characters are escaped.
fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    // Most values (hashes, addresses, names) need no escape: copy them whole.
    if !text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(text);
        out.push('"');
        return;
    }
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `str.strip()`: Unicode whitespace plus the separators U+001C to U+001F.
pub fn py_strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// pycti's name normalisation: `name.lower().strip()`.
pub fn normalise_name(name: &str) -> String {
    py_strip(&name.to_lowercase()).to_owned()
}

/// An identity (organization, sector, ...): `identity_class` lower-cased, name normalised.
pub fn identity(name: &str, identity_class: &str) -> String {
    from_properties(
        "identity",
        &[
            ("name", &normalise_name(name)),
            ("identity_class", &identity_class.to_lowercase()),
        ],
    )
}

/// A location; `location_type` is verbatim and case-sensitive (`Country`, `Region`).
pub fn location(name: &str, location_type: &str) -> String {
    from_properties(
        "location",
        &[
            ("name", &normalise_name(name)),
            ("x_opencti_location_type", location_type),
        ],
    )
}

/// An intrusion set, by name.
pub fn intrusion_set(name: &str) -> String {
    from_properties("intrusion-set", &[("name", &normalise_name(name))])
}

/// A report, by name and the *text* of its `published` time (see [`crate::stix::time`]).
pub fn report(name: &str, published: &str) -> String {
    from_properties(
        "report",
        &[("name", &normalise_name(name)), ("published", published)],
    )
}

/// An indicator, by its stripped pattern (case kept).
pub fn indicator(pattern: &str) -> String {
    from_properties("indicator", &[("pattern", py_strip(pattern))])
}

/// A relationship; `start_time` is the Python text of the time when there is one.
pub fn relationship(kind: &str, source: &str, target: &str, start_time: Option<&str>) -> String {
    let mut properties = vec![("relationship_type", kind), ("source_ref", source)];
    properties.push(("target_ref", target));
    if let Some(start) = start_time {
        properties.push(("start_time", start));
    }
    from_properties("relationship", &properties)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Test vectors computed with pycti 7.260817.0 (reference/opencti-protocol.md §10.4).

    #[test]
    fn identities() {
        let cases = [
            (
                "ACME Corp",
                "organization",
                "identity--542072da-8b33-50bf-810b-d9cfd2a0bc69",
            ),
            (
                "  Filigran  ",
                "Organization",
                "identity--8cb00c79-ab20-5ed4-b37d-337241b96a29",
            ),
            (
                "Finance",
                "class",
                "identity--283d4ea0-b6f1-5421-bdab-117a33fdb2b7",
            ),
            (
                "Énergie",
                "class",
                "identity--4bf85077-ebac-5f8a-ab76-54917ba20675",
            ),
            (
                "John Doe",
                "individual",
                "identity--072d8aaa-93a9-5ded-89e4-1ad87d8b91c6",
            ),
        ];
        for (name, class, id) in cases {
            assert_eq!(identity(name, class), id, "{name}");
        }
    }

    #[test]
    fn locations() {
        let cases = [
            (
                "France",
                "Country",
                "location--b8d0549f-de06-5ebd-a6e9-d31a581dba5d",
            ),
            (
                "Western Europe",
                "Region",
                "location--a25f43bf-3e2d-55fe-ba09-c63a210f169d",
            ),
            (
                "Paris",
                "City",
                "location--521ef7f0-6bfa-58f9-adca-f5e1737524d5",
            ),
            (
                "İstanbul",
                "City",
                "location--2619be12-1884-5002-9542-d22e5f36bcb9",
            ),
        ];
        for (name, kind, id) in cases {
            assert_eq!(location(name, kind), id, "{name}");
        }
        let position = json!({"latitude": 48.8566, "longitude": 2.3522});
        assert_eq!(
            from_value("location", &position),
            "location--76554dbe-0dbc-52fa-816d-ca9e292f0551"
        );
    }

    #[test]
    fn intrusion_sets() {
        let cases = [
            (
                "APT28",
                "intrusion-set--f743ab1d-b2f2-58f8-975f-0993511c0b9d",
            ),
            (
                " Fancy Bear ",
                "intrusion-set--d8c8eecd-f050-5643-bac7-bffdcdcad851",
            ),
            (
                "ΟΔΟΣ",
                "intrusion-set--fe3b7322-34e1-5b19-8570-0c6a51bcc5de",
            ),
            (
                "\u{a0}Straße\u{3000}",
                "intrusion-set--1c6f6bc5-48fe-580c-b220-836fa3e4e15f",
            ),
            (
                "Tab\tName",
                "intrusion-set--054fe711-3727-55c9-9e6f-06c899d4719c",
            ),
            (
                "Quote\"Back\\slash",
                "intrusion-set--491f5976-1ca9-58ed-b612-b9c44f9edf39",
            ),
        ];
        for (name, id) in cases {
            assert_eq!(intrusion_set(name), id, "{name:?}");
        }
    }

    #[test]
    fn reports_hash_the_text_of_published() {
        let cases = [
            (
                "2024-01-15T00:00:00Z",
                "report--a6e455b0-33de-52c0-ba0b-dd5674343b51",
            ),
            (
                "2024-01-15T00:00:00.000Z",
                "report--275869f3-639c-50a1-af1c-6b79bd39c613",
            ),
            (
                "2024-01-15T00:00:00+00:00",
                "report--ff34e77a-0a38-5471-96c1-c457b93fb5e4",
            ),
        ];
        for (published, id) in cases {
            assert_eq!(report("Weekly Report", published), id, "{published}");
        }
    }

    #[test]
    fn indicators() {
        let cases = [
            (
                "[ipv4-addr:value = '1.2.3.4']",
                "indicator--274128a4-2ad4-50b5-ae7b-b0dea1fa9861",
            ),
            (
                "[domain-name:value = 'evil.com']",
                "indicator--2cd122c1-e820-5d1a-99e7-bb4ae025c396",
            ),
            (
                "[file:hashes.'SHA-256' = \
                 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
                "indicator--8d30e978-c6dd-5439-9ed0-bd61238915c3",
            ),
            (
                "  [url:value = 'http://a/b']  ",
                "indicator--703b2c9d-ca20-5aaa-acad-1f1cdc8c7a77",
            ),
        ];
        for (pattern, id) in cases {
            assert_eq!(indicator(pattern), id, "{pattern}");
        }
    }

    #[test]
    fn relationships() {
        let ind = "indicator--274128a4-2ad4-50b5-ae7b-b0dea1fa9861";
        let apt = "intrusion-set--f743ab1d-b2f2-58f8-975f-0993511c0b9d";
        let france = "location--b8d0549f-de06-5ebd-a6e9-d31a581dba5d";
        assert_eq!(
            relationship("indicates", ind, apt, None),
            "relationship--1c0b94cf-c512-5768-a1f6-3b74116d415b"
        );
        assert_eq!(
            relationship("targets", apt, france, Some("2024-01-01T00:00:00Z")),
            "relationship--52dca9cb-b071-5158-8dc0-f5b07b605662"
        );
        assert_eq!(
            relationship("targets", apt, france, None),
            "relationship--0575c4b5-3089-5423-91b8-8e3592180d1f"
        );
    }

    #[test]
    fn observables() {
        let cases = [
            (
                json!({"value": "1.2.3.4"}),
                "ipv4-addr",
                "0198f97b-e65d-5025-87e5-58bc39d4bdb4",
            ),
            (
                json!({"value": "10.0.0.0/8"}),
                "ipv4-addr",
                "86428b07-0841-50f5-884f-260544a6ebee",
            ),
            (
                json!({"value": "2001:db8::1"}),
                "ipv6-addr",
                "6469e3a9-b053-5e34-a025-9396ae051d26",
            ),
            (
                json!({"value": "example.com"}),
                "domain-name",
                "bedb4899-d24b-5401-bc86-8f6b4cc18ec7",
            ),
            (
                json!({"value": "Example.COM"}),
                "domain-name",
                "780351e5-83ad-5bbe-8883-0e6174c2df50",
            ),
            (
                json!({"value": "http://example.com/path?q=1"}),
                "url",
                "cd9bba48-fe63-5438-b6b9-cad3d41f627e",
            ),
            (
                json!({"value": "john@example.com"}),
                "email-addr",
                "7165e2a9-671f-585d-b1e1-ca59c671d934",
            ),
            (
                json!({"hashes": {"SHA-256":
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}),
                "file",
                "22f8ff52-8f62-5f03-a53a-6f50f54fd74c",
            ),
            (
                json!({"hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e"}}),
                "file",
                "02fff920-f614-527c-81d1-6353633a6d21",
            ),
            (
                json!({"hashes": {"SHA-1": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}}),
                "file",
                "fa6e66a5-f019-51f9-8ab5-812023e58c6e",
            ),
            (
                json!({"hashes": {"SHA-256":
                    "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}}),
                "file",
                "9a5df962-c432-5329-96b0-5417d03fa51f",
            ),
            (
                json!({"name": "evil.exe"}),
                "file",
                "3974613c-1980-5209-8f08-17920a04da04",
            ),
            (
                json!({"hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e"}, "name": "evil.exe"}),
                "file",
                "295b5226-53e8-5a55-b974-0e337503ba82",
            ),
            (
                json!({"extensions": {"ntfs-ext": {"sid": "S-1"}}, "name": "a.exe"}),
                "file",
                "1e81f4ec-f756-52a7-a79e-57d4b69b5743",
            ),
            (
                json!({"name": "Global\\MyMutex"}),
                "mutex",
                "18c0f84a-bf23-5377-a856-9f3a46201b2a",
            ),
            (
                json!({"serial_number": "01:02:03"}),
                "x509-certificate",
                "c66f8592-22d8-53a4-9d37-046a9fe7d77d",
            ),
            (
                json!({"hashes": {"SHA-1": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
                    "serial_number": "01:02:03"}),
                "x509-certificate",
                "751fbf52-446e-5c22-b983-d0af2b404e14",
            ),
            (
                json!({"body": "Hi", "from_ref":
                    "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934", "subject": "Hello"}),
                "email-message",
                "7a210ea0-72ba-586c-bf4d-2acef0c822e2",
            ),
            (
                json!({"subject": "Hello"}),
                "email-message",
                "5a02a207-7683-56d8-8397-d8b22faeccb5",
            ),
            (
                json!({"number": 15169}),
                "autonomous-system",
                "7afc7bdf-d070-5add-90ff-f93503b1654d",
            ),
            (
                json!({"value": "host.example.com"}),
                "hostname",
                "e862c830-fcab-5bea-833f-0a1acca621a2",
            ),
            (
                json!({"value": "Mozilla/5.0"}),
                "user-agent",
                "a4c362dd-7cf1-5c00-a046-8d4c8f272068",
            ),
            (
                json!({"value": "some text"}),
                "text",
                "5edf012f-13a1-578e-9a55-06c48fdb645b",
            ),
        ];
        for (properties, prefix, uuid) in cases {
            assert_eq!(from_value(prefix, &properties), format!("{prefix}--{uuid}"));
        }
    }

    #[test]
    fn other_pycti_vectors() {
        let cases = [
            (
                "malware",
                vec![("name", "emotet")],
                "36297121-bf18-56e1-b200-d39c9f9f5cee",
            ),
            (
                "attack-pattern",
                vec![("x_mitre_id", "t1566")],
                "d041e624-3991-5138-9544-d3ba2ce68ff7",
            ),
            (
                "label",
                vec![("value", "malicious")],
                "cd0487f9-da15-527e-98b7-e4fe90ffef52",
            ),
            (
                "marking-definition",
                vec![("definition", "PAP:GREEN"), ("definition_type", "PAP")],
                "89484dde-e3d2-547f-a6c6-d14824429eb1",
            ),
        ];
        for (prefix, properties, uuid) in cases {
            assert_eq!(
                from_properties(prefix, &properties),
                format!("{prefix}--{uuid}")
            );
        }
    }

    #[test]
    fn python_strip_includes_information_separators() {
        assert_eq!(py_strip("\u{1c}\u{1f} name \u{85}"), "name");
        assert_eq!(normalise_name("  MiXeD  "), "mixed");
    }

    #[test]
    fn uuid5_is_the_uuid_crates_v5() {
        for name in ["", "a", "{\"name\":\"Kaspersky\"}", &"x".repeat(200)] {
            assert_eq!(
                uuid5(name.as_bytes()),
                Uuid::new_v5(&NAMESPACE, name.as_bytes())
            );
        }
    }
}
