//! Which report a Master IoC or Master YARA group goes into.
//!
//! A group that names a publication the TIP lists joins that publication's report: same
//! name, same `published`, so the same id, and OpenCTI merges the two (DESIGN.md
//! difference 9). A group without such a publication gets a `published` of its own that
//! does not move from one run to the next.

use super::ReportSettings;
use crate::stix::{self, PyDateTime, Report};

/// Which report a group's objects go into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportAnchor {
    pub name: String,
    pub published: PyDateTime,
    pub settings: ReportSettings,
}

impl ReportAnchor {
    /// The report id this anchor gives.
    pub fn report_id(&self) -> String {
        stix::ids::report(&self.name, &self.published.isoformat())
    }

    /// The group's report: the anchor's name, time, type and status, and the group's
    /// own objects. No description, labels or files: when the anchor is a publication,
    /// OpenCTI merges this into the publication's report, which has them.
    pub fn report(
        &self,
        object_refs: Vec<String>,
        author: &str,
        marking: &str,
        confidence: Option<u8>,
    ) -> Report {
        Report {
            spec_version: Default::default(),
            id: self.report_id(),
            created_by_ref: Some(author.to_owned()),
            created: self.published.timestamp,
            modified: self.published.timestamp,
            name: self.name.clone(),
            description: None,
            report_types: vec![self.settings.report_type.clone()],
            published: self.published.timestamp,
            object_refs: stix::unique_refs(object_refs),
            labels: vec![],
            confidence,
            object_marking_refs: vec![marking.to_owned()],
            x_opencti_files: vec![],
            x_opencti_report_status: self.settings.status.legacy,
            x_opencti_workflow_id: self.settings.status.workflow_id.clone(),
        }
    }
}

/// A publication as the TIP lists it: what a group needs to join its report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownPublication {
    pub name: String,
    pub published: PyDateTime,
}
