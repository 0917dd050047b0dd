//! STIX 2.1 as OpenCTI takes it from this connector.
//!
//! The scopes build objects from these types; the sinks serialise them. Nothing here does
//! I/O or reads the clock: every time comes from the caller. Ids follow pycti's rules to the
//! byte ([`ids`]), because OpenCTI merges what it receives by id and a different id is a
//! duplicate in the platform.

mod bundle;
pub mod ids;
mod marking;
mod objects;
pub mod pattern;
pub mod time;

pub use bundle::Bundle;
pub use marking::{Tlp, UnknownTlp};
pub use objects::{
    HashAlgorithm, Identity, Indicator, IntrusionSet, Location, LocationKind, MainObservableType,
    MarkingDefinition, Observable, ObservableValue, PdfFile, Relationship, Report, StixObject,
    unique_refs,
};
pub use time::PyDateTime;
