//! The three importers: what each Kaspersky item becomes in STIX.
//!
//! The builders here are pure: parsed input, [`BuildSettings`] and "now" in, a bundle and
//! a list of skipped items out. Fetching, state and delivery live around them
//! ([`crate::runtime`]), which is what lets `convert`, `demo` and `run` share them.

pub mod anchor;
pub mod iocs;
pub mod locations;
pub mod master_ioc;
pub mod master_yara;
pub mod publication;

use jiff::Timestamp;

use crate::stix::{Bundle, Identity, Tlp};

/// The author of everything this connector imports.
pub const AUTHOR_NAME: &str = "Kaspersky";

pub use crate::config::Scope;

/// How a report's status reaches OpenCTI.
///
/// The legacy integer is what the Python connector sends and what OpenCTI 4 read; OpenCTI 5
/// and later read the workflow status id, resolved against the platform at start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportStatus {
    /// `x_opencti_report_status`: 0 New, 1 In progress, 2 Analyzed, 3 Closed.
    pub legacy: Option<u8>,
    /// `x_opencti_workflow_id`: the platform's status id.
    pub workflow_id: Option<String>,
}

impl ReportStatus {
    /// The status for a configured name, with the legacy code when it is one of the four
    /// historic names (case-insensitive) and no workflow id (offline).
    pub fn offline(name: &str) -> Self {
        ReportStatus {
            legacy: legacy_status(name),
            workflow_id: None,
        }
    }
}

/// The legacy integer of a status name, if it is one of the four historic ones.
pub fn legacy_status(name: &str) -> Option<u8> {
    match name.trim().to_lowercase().as_str() {
        "new" => Some(0),
        "in progress" => Some(1),
        "analyzed" => Some(2),
        "closed" => Some(3),
        _ => None,
    }
}

/// Report type and status of one scope's reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportSettings {
    pub report_type: String,
    pub status: ReportStatus,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            report_type: "threat-report".into(),
            status: ReportStatus::offline("New"),
        }
    }
}

/// What the builders need to know of the configuration.
#[derive(Clone, Debug)]
pub struct BuildSettings {
    pub tlp: Tlp,
    /// `confidence` on objects; left out when not configured.
    pub confidence: Option<u8>,
    pub create_observables: bool,
    pub create_indicators: bool,
    pub publication: ReportSettings,
    /// OpenIOC searches (full or last segment) not to import.
    pub publication_excluded_ioc_types: Vec<String>,
    pub master_ioc: ReportSettings,
    /// Master IoC `indicator_type`s not to import.
    pub master_ioc_excluded_types: Vec<String>,
    pub master_yara: ReportSettings,
    pub master_yara_include_report: bool,
    /// Region names known to OpenCTI, or the UN M49 names when offline.
    pub regions: locations::Regions,
}

impl Default for BuildSettings {
    /// The documented defaults of the configuration table, offline.
    fn default() -> Self {
        BuildSettings {
            tlp: Tlp::Amber,
            confidence: None,
            create_observables: true,
            create_indicators: true,
            publication: ReportSettings::default(),
            publication_excluded_ioc_types: vec!["Md5sum".into(), "FileItem/Sha1sum".into()],
            master_ioc: ReportSettings::default(),
            master_ioc_excluded_types: vec!["md5Hash".into(), "sha1Hash".into()],
            master_yara: ReportSettings::default(),
            master_yara_include_report: true,
            regions: locations::Regions::m49(),
        }
    }
}

impl BuildSettings {
    /// The settings of a configuration, offline: statuses carry only their legacy code
    /// until the platform resolves them ([`ReportStatus`]); regions are the UN M49 names.
    pub fn from_config(config: &crate::config::Config) -> Self {
        let k = &config.kaspersky;
        let report = |report_type: &str, status: &str| ReportSettings {
            report_type: report_type.to_owned(),
            status: ReportStatus::offline(status),
        };
        BuildSettings {
            tlp: k.tlp,
            confidence: config.connector.confidence_level,
            create_observables: k.create_observables,
            create_indicators: k.create_indicators,
            publication: report(&k.publication_report_type, &k.publication_report_status),
            publication_excluded_ioc_types: k.publication_excluded_ioc_indicator_types.clone(),
            master_ioc: report(&k.master_ioc_report_type, &k.master_ioc_report_status),
            master_ioc_excluded_types: k.master_ioc_excluded_ioc_indicator_types.clone(),
            master_yara: report(&k.master_yara_report_type, &k.master_yara_report_status),
            master_yara_include_report: k.master_yara_include_report,
            regions: locations::Regions::m49(),
        }
    }
}

/// An input item that was left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// What identifies the item: an OpenIOC item id, a CSV line, a rule name.
    pub item: String,
    pub reason: String,
    /// Expected noise rather than a problem (a partial IP in an OpenIOC `contains`
    /// condition): logged at debug, still counted.
    pub minor: bool,
}

/// The start of every bundle: the author and the marking.
#[derive(Clone, Debug)]
pub struct Header {
    pub author: Identity,
    pub marking_id: &'static str,
    tlp: Tlp,
}

impl Header {
    /// The author identity and the configured TLP marking.
    pub fn new(tlp: Tlp, now: Timestamp) -> Self {
        Header {
            author: Identity::organization(AUTHOR_NAME, now),
            marking_id: tlp.id(),
            tlp,
        }
    }

    /// The author's id.
    pub fn author_id(&self) -> &str {
        &self.author.id
    }

    /// A bundle that starts with the author and the marking.
    pub fn bundle(&self, key: &str) -> Bundle {
        let mut bundle = Bundle::derived(key);
        bundle.push(self.author.clone());
        bundle.push(self.tlp.marking_definition());
        bundle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_statuses_are_case_insensitive() {
        assert_eq!(legacy_status("In Progress"), Some(1));
        assert_eq!(legacy_status("closed"), Some(3));
        assert_eq!(legacy_status("Triage"), None);
    }

    #[test]
    fn the_configuration_defaults_are_the_builders_defaults() {
        let config = crate::config::Config::load(None, |_| None).unwrap();
        let from_config = BuildSettings::from_config(&config);
        let defaults = BuildSettings::default();
        assert_eq!(from_config.tlp, defaults.tlp);
        assert_eq!(from_config.confidence, None);
        assert_eq!(from_config.publication, defaults.publication);
        assert_eq!(from_config.master_ioc, defaults.master_ioc);
        assert_eq!(from_config.master_yara, defaults.master_yara);
        assert_eq!(
            from_config.publication_excluded_ioc_types,
            defaults.publication_excluded_ioc_types
        );
        assert_eq!(
            from_config.master_ioc_excluded_types,
            defaults.master_ioc_excluded_types
        );
    }

    #[test]
    fn the_author_has_the_python_connectors_id() {
        let now = "2024-01-01T00:00:00Z".parse().unwrap();
        let header = Header::new(Tlp::Amber, now);
        assert_eq!(
            header.author_id(),
            "identity--04d070e4-451d-54f4-a42e-c64431074504"
        );
    }
}
