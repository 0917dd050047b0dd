//! The STIX objects this connector emits, serialised in the field order pycti uses.
//!
//! Empty lists and absent options are left out, as the stix2 library does.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::json;

use super::marking::Definition;
use super::{ids, pattern, time};

/// Writes the constant `"2.1"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpecVersion;

impl Serialize for SpecVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("2.1")
    }
}

/// One object of a bundle.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum StixObject {
    Identity(Identity),
    Marking(MarkingDefinition),
    IntrusionSet(IntrusionSet),
    Location(Location),
    Observable(Observable),
    Indicator(Indicator),
    Relationship(Relationship),
    Report(Report),
}

impl StixObject {
    /// The object's STIX id.
    pub fn id(&self) -> &str {
        match self {
            StixObject::Identity(o) => &o.id,
            StixObject::Marking(o) => o.id,
            StixObject::IntrusionSet(o) => &o.id,
            StixObject::Location(o) => &o.id,
            StixObject::Observable(o) => &o.id,
            StixObject::Indicator(o) => &o.id,
            StixObject::Relationship(o) => &o.id,
            StixObject::Report(o) => &o.id,
        }
    }

    /// The STIX type, the part of the id before `--`.
    pub fn stix_type(&self) -> &str {
        self.id().split_once("--").map_or("", |(kind, _)| kind)
    }

    /// Every id this object refers to, in the order its JSON writes them.
    ///
    /// Bundle splitting walks references in this order (reference/opencti-protocol.md
    /// §7.3), so it must follow the serialised field order of each type.
    pub fn refs(&self) -> Vec<&str> {
        fn push<'a>(out: &mut Vec<&'a str>, one: &'a Option<String>) {
            if let Some(id) = one {
                out.push(id);
            }
        }
        let mut out = Vec::new();
        match self {
            StixObject::Identity(o) => push(&mut out, &o.created_by_ref),
            StixObject::Marking(_) => {}
            StixObject::IntrusionSet(o) => {
                push(&mut out, &o.created_by_ref);
                out.extend(o.object_marking_refs.iter().map(String::as_str));
            }
            StixObject::Location(o) => push(&mut out, &o.created_by_ref),
            StixObject::Observable(o) => {
                out.extend(o.object_marking_refs.iter().map(String::as_str));
                push(&mut out, &o.x_opencti_created_by_ref);
            }
            StixObject::Indicator(o) => {
                push(&mut out, &o.created_by_ref);
                out.extend(o.object_marking_refs.iter().map(String::as_str));
            }
            StixObject::Relationship(o) => {
                push(&mut out, &o.created_by_ref);
                out.push(&o.source_ref);
                out.push(&o.target_ref);
                out.extend(o.object_marking_refs.iter().map(String::as_str));
            }
            StixObject::Report(o) => {
                push(&mut out, &o.created_by_ref);
                out.extend(o.object_refs.iter().map(String::as_str));
                out.extend(o.object_marking_refs.iter().map(String::as_str));
            }
        }
        out
    }
}

macro_rules! into_object {
    ($($variant:ident),*) => {$(
        impl From<$variant> for StixObject {
            fn from(object: $variant) -> Self {
                StixObject::$variant(object)
            }
        }
    )*};
}
into_object!(
    Identity,
    IntrusionSet,
    Location,
    Observable,
    Indicator,
    Relationship,
    Report
);

impl From<MarkingDefinition> for StixObject {
    fn from(object: MarkingDefinition) -> Self {
        StixObject::Marking(object)
    }
}

/// An `identity`: the author organization, or an industry sector (`identity_class: class`).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename = "identity")]
pub struct Identity {
    pub spec_version: SpecVersion,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<String>,
    #[serde(serialize_with = "time::serialize")]
    pub created: Timestamp,
    #[serde(serialize_with = "time::serialize")]
    pub modified: Timestamp,
    pub name: String,
    pub identity_class: &'static str,
}

impl Identity {
    /// An organization without author or markings: the connector's author.
    pub fn organization(name: &str, now: Timestamp) -> Self {
        Identity {
            spec_version: SpecVersion,
            id: ids::identity(name, "organization"),
            created_by_ref: None,
            created: now,
            modified: now,
            name: name.to_owned(),
            identity_class: "organization",
        }
    }

    /// An industry sector, as OpenCTI models it.
    pub fn sector(name: &str, author: &str, now: Timestamp) -> Self {
        Identity {
            spec_version: SpecVersion,
            id: ids::identity(name, "class"),
            created_by_ref: Some(author.to_owned()),
            created: now,
            modified: now,
            name: name.to_owned(),
            identity_class: "class",
        }
    }
}

/// A `marking-definition`; see [`crate::stix::Tlp`].
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename = "marking-definition")]
pub struct MarkingDefinition {
    pub spec_version: SpecVersion,
    pub id: &'static str,
    pub created: &'static str,
    pub definition_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    pub definition: Definition,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_opencti_definition: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_opencti_definition_type: Option<&'static str>,
}

/// An `intrusion-set`, from a publication's actor tag.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename = "intrusion-set")]
pub struct IntrusionSet {
    pub spec_version: SpecVersion,
    pub id: String,
    pub created_by_ref: Option<String>,
    #[serde(serialize_with = "time::serialize")]
    pub created: Timestamp,
    #[serde(serialize_with = "time::serialize")]
    pub modified: Timestamp,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<String>,
}

/// Whether a location is a country or a region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocationKind {
    /// A country and its ISO 3166-1 alpha-2 code.
    Country {
        code: String,
    },
    Region,
}

/// A `location`, from a publication's geography tag.
#[derive(Clone, Debug)]
pub struct Location {
    pub id: String,
    pub created_by_ref: Option<String>,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub name: String,
    pub kind: LocationKind,
}

impl Location {
    /// A location named `name`; its id depends on the kind.
    pub fn new(name: &str, kind: LocationKind, author: &str, now: Timestamp) -> Self {
        let type_name = match kind {
            LocationKind::Country { .. } => "Country",
            LocationKind::Region => "Region",
        };
        Location {
            id: ids::location(name, type_name),
            created_by_ref: Some(author.to_owned()),
            created: now,
            modified: now,
            name: name.to_owned(),
            kind,
        }
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", "location")?;
        map.serialize_entry("spec_version", "2.1")?;
        map.serialize_entry("id", &self.id)?;
        if let Some(author) = &self.created_by_ref {
            map.serialize_entry("created_by_ref", author)?;
        }
        map.serialize_entry("created", &time::stix_timestamp(self.created))?;
        map.serialize_entry("modified", &time::stix_timestamp(self.modified))?;
        map.serialize_entry("name", &self.name)?;
        match &self.kind {
            LocationKind::Country { code } => {
                map.serialize_entry("country", code)?;
                map.serialize_entry("x_opencti_location_type", "Country")?;
            }
            LocationKind::Region => {
                map.serialize_entry("region", &self.name)?;
                map.serialize_entry("x_opencti_location_type", "Region")?;
            }
        }
        map.end()
    }
}

/// A file hash algorithm, named as STIX 2.1 spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    Md5,
    Sha1,
    Sha256,
}

impl HashAlgorithm {
    /// `MD5`, `SHA-1`, `SHA-256`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Md5 => "MD5",
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Sha256 => "SHA-256",
        }
    }
}

/// The value an observable carries; its variant decides the STIX type and pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObservableValue {
    Ipv4(String),
    Ipv6(String),
    Domain(String),
    Hostname(String),
    EmailAddress(String),
    EmailSubject(String),
    Url(String),
    FileHash(HashAlgorithm, String),
    FileName(String),
    Mutex(String),
    ServiceName(String),
    ServiceDisplayName(String),
    CertificateIssuer(String),
    CertificateSubject(String),
    UserAgent(String),
}

/// OpenCTI's `x_opencti_main_observable_type` of an indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MainObservableType {
    #[serde(rename = "IPv4-Addr")]
    Ipv4,
    #[serde(rename = "IPv6-Addr")]
    Ipv6,
    #[serde(rename = "Domain-Name")]
    Domain,
    Hostname,
    #[serde(rename = "Email-Addr")]
    EmailAddress,
    #[serde(rename = "Email-Message")]
    EmailMessage,
    Url,
    StixFile,
    Mutex,
    Process,
    #[serde(rename = "X509-Certificate")]
    Certificate,
    #[serde(rename = "User-Agent")]
    UserAgent,
}

impl ObservableValue {
    /// The value as written in the pattern and used as the indicator's name.
    pub fn text(&self) -> &str {
        match self {
            ObservableValue::Ipv4(v)
            | ObservableValue::Ipv6(v)
            | ObservableValue::Domain(v)
            | ObservableValue::Hostname(v)
            | ObservableValue::EmailAddress(v)
            | ObservableValue::EmailSubject(v)
            | ObservableValue::Url(v)
            | ObservableValue::FileHash(_, v)
            | ObservableValue::FileName(v)
            | ObservableValue::Mutex(v)
            | ObservableValue::ServiceName(v)
            | ObservableValue::ServiceDisplayName(v)
            | ObservableValue::CertificateIssuer(v)
            | ObservableValue::CertificateSubject(v)
            | ObservableValue::UserAgent(v) => v,
        }
    }

    /// The STIX object type of the observable.
    pub fn stix_type(&self) -> &'static str {
        match self {
            ObservableValue::Ipv4(_) => "ipv4-addr",
            ObservableValue::Ipv6(_) => "ipv6-addr",
            ObservableValue::Domain(_) => "domain-name",
            ObservableValue::Hostname(_) => "hostname",
            ObservableValue::EmailAddress(_) => "email-addr",
            ObservableValue::EmailSubject(_) => "email-message",
            ObservableValue::Url(_) => "url",
            ObservableValue::FileHash(..) | ObservableValue::FileName(_) => "file",
            ObservableValue::Mutex(_) => "mutex",
            ObservableValue::ServiceName(_) | ObservableValue::ServiceDisplayName(_) => "process",
            ObservableValue::CertificateIssuer(_) | ObservableValue::CertificateSubject(_) => {
                "x509-certificate"
            }
            ObservableValue::UserAgent(_) => "user-agent",
        }
    }

    /// The object path of the pattern's one comparison.
    fn pattern_path(&self) -> String {
        let path = match self {
            ObservableValue::FileHash(HashAlgorithm::Md5, _) => "hashes.MD5",
            ObservableValue::FileHash(HashAlgorithm::Sha1, _) => "hashes.'SHA-1'",
            ObservableValue::FileHash(HashAlgorithm::Sha256, _) => "hashes.'SHA-256'",
            ObservableValue::FileName(_) | ObservableValue::Mutex(_) => "name",
            ObservableValue::EmailSubject(_) => "subject",
            ObservableValue::ServiceName(_) => "extensions.'windows-service-ext'.service_name",
            ObservableValue::ServiceDisplayName(_) => {
                "extensions.'windows-service-ext'.display_name"
            }
            ObservableValue::CertificateIssuer(_) => "issuer",
            ObservableValue::CertificateSubject(_) => "subject",
            _ => "value",
        };
        format!("{}:{path}", self.stix_type())
    }

    /// The indicator pattern, `[type:path = 'value']`.
    pub fn pattern(&self) -> String {
        pattern::equality(&self.pattern_path(), self.text())
    }

    /// The indicator's `x_opencti_main_observable_type`.
    pub fn main_observable_type(&self) -> MainObservableType {
        match self {
            ObservableValue::Ipv4(_) => MainObservableType::Ipv4,
            ObservableValue::Ipv6(_) => MainObservableType::Ipv6,
            ObservableValue::Domain(_) => MainObservableType::Domain,
            ObservableValue::Hostname(_) => MainObservableType::Hostname,
            ObservableValue::EmailAddress(_) => MainObservableType::EmailAddress,
            ObservableValue::EmailSubject(_) => MainObservableType::EmailMessage,
            ObservableValue::Url(_) => MainObservableType::Url,
            ObservableValue::FileHash(..) | ObservableValue::FileName(_) => {
                MainObservableType::StixFile
            }
            ObservableValue::Mutex(_) => MainObservableType::Mutex,
            ObservableValue::ServiceName(_) | ObservableValue::ServiceDisplayName(_) => {
                MainObservableType::Process
            }
            ObservableValue::CertificateIssuer(_) | ObservableValue::CertificateSubject(_) => {
                MainObservableType::Certificate
            }
            ObservableValue::UserAgent(_) => MainObservableType::UserAgent,
        }
    }

    /// The properties that identify the observable, as a JSON object.
    ///
    /// For `process` and subject- or issuer-only `x509-certificate` the stix2 library has
    /// no identifying property and draws a random id; we hash these properties instead
    /// (see [`ObservableValue::id`]).
    fn id_properties(&self) -> serde_json::Value {
        match self {
            ObservableValue::FileHash(algorithm, v) => json!({"hashes": {algorithm.name(): v}}),
            ObservableValue::FileName(v) | ObservableValue::Mutex(v) => json!({"name": v}),
            ObservableValue::EmailSubject(v) => json!({"subject": v}),
            ObservableValue::ServiceName(v) => {
                json!({"extensions": {"windows-service-ext": {"service_name": v}}})
            }
            ObservableValue::ServiceDisplayName(v) => {
                json!({"extensions": {"windows-service-ext": {"display_name": v}}})
            }
            ObservableValue::CertificateIssuer(v) => json!({"issuer": v}),
            ObservableValue::CertificateSubject(v) => json!({"subject": v}),
            other => json!({"value": other.text()}),
        }
    }

    /// The observable's deterministic id.
    ///
    /// `process` and subject- or issuer-only `x509-certificate` objects have no
    /// identifying property in STIX, which therefore requires a version 4 UUID for them;
    /// the stix2 library draws a random one, so every run would duplicate them in OpenCTI.
    /// We derive the UUID from the value instead (UUIDv5 of the properties, in pycti's
    /// namespace) and mark it as version 4: stable across runs, and valid STIX
    /// (DESIGN.md difference 13).
    pub fn id(&self) -> String {
        let properties = self.id_properties();
        match self {
            ObservableValue::ServiceName(_)
            | ObservableValue::ServiceDisplayName(_)
            | ObservableValue::CertificateIssuer(_)
            | ObservableValue::CertificateSubject(_) => {
                let mut canonical = String::new();
                ids::write_canonical(&mut canonical, &properties);
                let derived = ids::uuid5(canonical.as_bytes());
                let mut bytes = *derived.as_bytes();
                bytes[6] = (bytes[6] & 0x0f) | 0x40;
                format!("{}--{}", self.stix_type(), uuid::Uuid::from_bytes(bytes))
            }
            _ => ids::from_value(self.stix_type(), &properties),
        }
    }
}

/// A cyber observable with OpenCTI's custom properties.
#[derive(Clone, Debug)]
pub struct Observable {
    pub id: String,
    pub value: ObservableValue,
    pub object_marking_refs: Vec<String>,
    pub x_opencti_created_by_ref: Option<String>,
    pub x_opencti_description: Option<String>,
    pub x_opencti_labels: Vec<String>,
    pub x_opencti_score: Option<u8>,
}

impl Serialize for Observable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", self.value.stix_type())?;
        map.serialize_entry("spec_version", "2.1")?;
        map.serialize_entry("id", &self.id)?;
        match &self.value {
            ObservableValue::FileHash(algorithm, v) => {
                map.serialize_entry("hashes", &json!({algorithm.name(): v}))?;
            }
            ObservableValue::EmailSubject(v) => {
                map.serialize_entry("is_multipart", &false)?;
                map.serialize_entry("subject", v)?;
            }
            ObservableValue::ServiceName(_) | ObservableValue::ServiceDisplayName(_) => {
                let extensions = &self.value.id_properties()["extensions"];
                map.serialize_entry("extensions", extensions)?;
            }
            other => {
                for (key, value) in other.id_properties().as_object().into_iter().flatten() {
                    map.serialize_entry(key, value)?;
                }
            }
        }
        if !self.object_marking_refs.is_empty() {
            map.serialize_entry("object_marking_refs", &self.object_marking_refs)?;
        }
        if let Some(author) = &self.x_opencti_created_by_ref {
            map.serialize_entry("x_opencti_created_by_ref", author)?;
        }
        if let Some(description) = &self.x_opencti_description {
            map.serialize_entry("x_opencti_description", description)?;
        }
        if !self.x_opencti_labels.is_empty() {
            map.serialize_entry("x_opencti_labels", &self.x_opencti_labels)?;
        }
        if let Some(score) = self.x_opencti_score {
            map.serialize_entry("x_opencti_score", &score)?;
        }
        map.end()
    }
}

/// An `indicator`, STIX or YARA.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename = "indicator")]
pub struct Indicator {
    pub spec_version: SpecVersion,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<String>,
    #[serde(serialize_with = "time::serialize")]
    pub created: Timestamp,
    #[serde(serialize_with = "time::serialize")]
    pub modified: Timestamp,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub pattern: String,
    pub pattern_type: &'static str,
    pub pattern_version: &'static str,
    #[serde(serialize_with = "time::serialize")]
    pub valid_from: Timestamp,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_opencti_main_observable_type: Option<MainObservableType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_opencti_score: Option<u8>,
}

/// A `relationship` between two objects of the same bundle.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename = "relationship")]
pub struct Relationship {
    pub spec_version: SpecVersion,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<String>,
    #[serde(serialize_with = "time::serialize")]
    pub created: Timestamp,
    #[serde(serialize_with = "time::serialize")]
    pub modified: Timestamp,
    pub relationship_type: &'static str,
    pub source_ref: String,
    pub target_ref: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "time::serialize_option"
    )]
    pub start_time: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<String>,
}

/// A file attached to a report, carried inline as OpenCTI's `x_opencti_files`.
#[derive(Clone)]
pub struct PdfFile {
    pub name: String,
    /// The raw bytes; base64 is written straight into the output when serialising, so the
    /// encoded copy never sits in memory beside the bytes.
    pub data: Vec<u8>,
}

impl fmt::Debug for PdfFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdfFile")
            .field("name", &self.name)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl Serialize for PdfFile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Base64<'a>(&'a [u8]);
        impl Serialize for Base64<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let engine = &base64::engine::general_purpose::STANDARD;
                serializer.collect_str(&base64::display::Base64Display::new(self.0, engine))
            }
        }
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("data", &Base64(&self.data))?;
        map.serialize_entry("mime_type", "application/pdf")?;
        map.serialize_entry("no_trigger_import", &true)?;
        map.end()
    }
}

/// `refs` with each id kept once, where it first appears: what the splitter would leave
/// of a report's list (pycti collapses repeats), done once here so that a report whose
/// group repeats a value is not rewritten through JSON on its way to the queue.
pub fn unique_refs(refs: Vec<String>) -> Vec<String> {
    // Which to keep, decided on borrowed ids: no id is copied.
    let mut seen: foldhash::HashSet<&str> = foldhash::HashSetExt::with_capacity(refs.len());
    let keep: Vec<bool> = refs.iter().map(|id| seen.insert(id.as_str())).collect();
    drop(seen);
    refs.into_iter()
        .zip(keep)
        .filter_map(|(id, keep)| keep.then_some(id))
        .collect()
}

/// A `report`: one per publication, Master IoC group or Master YARA group.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename = "report")]
pub struct Report {
    pub spec_version: SpecVersion,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<String>,
    #[serde(serialize_with = "time::serialize")]
    pub created: Timestamp,
    #[serde(serialize_with = "time::serialize")]
    pub modified: Timestamp,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub report_types: Vec<String>,
    #[serde(serialize_with = "time::serialize")]
    pub published: Timestamp,
    pub object_refs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub x_opencti_files: Vec<PdfFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_opencti_report_status: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_opencti_workflow_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_refs_keep_each_id_once_where_it_first_appears() {
        let refs = ["b", "a", "b", "c", "a"].map(String::from).to_vec();
        assert_eq!(unique_refs(refs), ["b", "a", "c"]);
    }

    fn observable(value: ObservableValue) -> Observable {
        Observable {
            id: value.id(),
            value,
            object_marking_refs: vec![],
            x_opencti_created_by_ref: None,
            x_opencti_description: None,
            x_opencti_labels: vec![],
            x_opencti_score: Some(75),
        }
    }

    #[test]
    fn observables_write_their_identifying_properties() {
        let file = observable(ObservableValue::FileHash(HashAlgorithm::Sha1, "ab".into()));
        assert_eq!(
            serde_json::to_string(&file).unwrap(),
            format!(
                concat!(
                    r#"{{"type":"file","spec_version":"2.1","id":"{}","#,
                    r#""hashes":{{"SHA-1":"ab"}},"x_opencti_score":75}}"#
                ),
                file.id
            )
        );
        let subject = observable(ObservableValue::EmailSubject("Hello".into()));
        assert_eq!(
            subject.id,
            "email-message--5a02a207-7683-56d8-8397-d8b22faeccb5"
        );
        let json = serde_json::to_value(&subject).unwrap();
        assert_eq!(json["is_multipart"], false);
    }

    #[test]
    fn patterns_quote_hyphenated_hash_names_only() {
        let md5 = ObservableValue::FileHash(HashAlgorithm::Md5, "a".into());
        assert_eq!(md5.pattern(), "[file:hashes.MD5 = 'a']");
        let sha = ObservableValue::FileHash(HashAlgorithm::Sha256, "b".into());
        assert_eq!(sha.pattern(), "[file:hashes.'SHA-256' = 'b']");
        let service = ObservableValue::ServiceName("Svc".into());
        assert_eq!(
            service.pattern(),
            "[process:extensions.'windows-service-ext'.service_name = 'Svc']"
        );
    }

    #[test]
    fn processes_and_bare_certificates_get_stable_version_4_ids() {
        let a = ObservableValue::ServiceName("Svc".into()).id();
        assert_eq!(a, ObservableValue::ServiceName("Svc".into()).id());
        assert_ne!(a, ObservableValue::ServiceDisplayName("Svc".into()).id());
        assert!(a.starts_with("process--"));
        let uuid = uuid::Uuid::parse_str(a.trim_start_matches("process--")).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        let certificate = ObservableValue::CertificateIssuer("CN=x".into()).id();
        assert_eq!(&certificate[..18], "x509-certificate--");
        assert_eq!(&certificate[32..33], "4");
    }

    #[test]
    fn pdf_files_are_base64() {
        let file = PdfFile {
            name: "r.pdf".into(),
            data: b"%PDF".to_vec(),
        };
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["data"], "JVBERg==");
    }
}
