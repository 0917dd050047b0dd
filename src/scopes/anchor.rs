//! Which report a Master IoC or Master YARA group goes into.
//!
//! A group that names a publication the TIP lists joins that publication's report: same
//! name, same `published`, so the same id, and OpenCTI merges the two (DESIGN.md
//! difference 9). A group without such a publication gets a `published` of its own that
//! does not move from one run to the next.

use super::ReportSettings;
use crate::stix::{self, PyDateTime};

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
}

/// A publication as the TIP lists it: what a group needs to join its report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownPublication {
    pub name: String,
    pub published: PyDateTime,
}
