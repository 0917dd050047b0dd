//! TLP marking definitions with their fixed ids.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::objects::MarkingDefinition;

/// A Traffic Light Protocol level, TLP 1.0 and 2.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tlp {
    /// TLP:CLEAR (2.0); same OpenCTI marking as white.
    Clear,
    /// TLP:WHITE (1.0).
    White,
    Green,
    Amber,
    /// TLP:AMBER+STRICT (2.0).
    AmberStrict,
    Red,
}

/// A TLP name that is none of the accepted words.
#[derive(Debug, thiserror::Error)]
#[error("unknown TLP {0:?}: use one of white, clear, green, amber, amber+strict, red")]
pub struct UnknownTlp(pub String);

impl FromStr for Tlp {
    type Err = UnknownTlp;

    /// Case-insensitive, with or without the `TLP:` prefix.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let word = lower.strip_prefix("tlp:").unwrap_or(&lower);
        match word {
            "clear" => Ok(Tlp::Clear),
            "white" => Ok(Tlp::White),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(UnknownTlp(text.to_owned())),
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.definition())
    }
}

impl Tlp {
    /// The fixed id pycti and stix2 give this level.
    pub fn id(self) -> &'static str {
        match self {
            Tlp::Clear | Tlp::White => "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
            Tlp::Green => "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            Tlp::Amber => "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            Tlp::AmberStrict => "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37",
            Tlp::Red => "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        }
    }

    /// `TLP:AMBER`, `TLP:CLEAR`, ...
    pub fn definition(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::White => "TLP:WHITE",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// The marking-definition object.
    ///
    /// TLP 1.0 levels are written exactly as the stix2 library writes them. stix2 has no
    /// TLP 2.0 objects, so CLEAR and AMBER+STRICT are statement markings carrying the
    /// OpenCTI hints the platform maps to its built-in markings by id; their `created` is
    /// pinned so that bundles are reproducible.
    pub fn marking_definition(self) -> MarkingDefinition {
        let (definition_type, name, definition, hint) = match self {
            Tlp::Clear | Tlp::AmberStrict => (
                "statement",
                None,
                Definition::Statement {
                    statement: "custom",
                },
                Some(self.definition()),
            ),
            _ => {
                let word = &self.definition()[4..];
                let level = match self {
                    Tlp::White => "white",
                    Tlp::Green => "green",
                    Tlp::Amber => "amber",
                    _ => "red",
                };
                debug_assert!(word.eq_ignore_ascii_case(level));
                (
                    "tlp",
                    Some(self.definition()),
                    Definition::Tlp { tlp: level },
                    None,
                )
            }
        };
        MarkingDefinition {
            spec_version: super::objects::SpecVersion,
            id: self.id(),
            created: "2017-01-20T00:00:00.000Z",
            definition_type,
            name,
            definition,
            x_opencti_definition: hint,
            x_opencti_definition_type: hint.map(|_| "TLP"),
        }
    }
}

/// The `definition` property of a marking.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Definition {
    Tlp { tlp: &'static str },
    Statement { statement: &'static str },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amber_is_written_as_stix2_writes_it() {
        let json = serde_json::to_string(&Tlp::Amber.marking_definition()).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"type":"marking-definition","spec_version":"2.1","#,
                r#""id":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82","#,
                r#""created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","#,
                r#""name":"TLP:AMBER","definition":{"tlp":"amber"}}"#
            )
        );
    }

    #[test]
    fn names_are_case_insensitive_and_tlp2_is_accepted() {
        assert_eq!("Amber".parse::<Tlp>().unwrap(), Tlp::Amber);
        assert_eq!("TLP:amber+strict".parse::<Tlp>().unwrap(), Tlp::AmberStrict);
        assert_eq!("clear".parse::<Tlp>().unwrap().id(), Tlp::White.id());
        assert!("orange".parse::<Tlp>().is_err());
    }
}
