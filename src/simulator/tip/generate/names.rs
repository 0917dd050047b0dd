//! The invented vocabulary of generated worlds. Every actor, malware family and company is
//! made up; places and sectors are real words because the connector maps them.

/// Intrusion set names.
pub(crate) const ACTORS: &[&str] = &[
    "Cobaltfinch",
    "Marrowkite",
    "Ashenlynx",
    "Tidewarbler",
    "Quillserpent",
    "Duskmarten",
    "Fernadder",
    "Slatecrane",
    "Mirelark",
    "Cinderstoat",
];

/// Malware family names.
pub(crate) const MALWARE: &[&str] = &[
    "GlassLantern",
    "PaperKettle",
    "RustTether",
    "HollowSpindle",
    "VelvetAnchor",
    "TinWhistle",
    "MossLedger",
    "QuartzBellows",
];

/// Labels.
pub(crate) const TAGS: &[&str] = &[
    "espionage",
    "RAT",
    "loader",
    "backdoor",
    "spear-phishing",
    "supply chain",
    "watering hole",
    "exploit",
    "Windows",
    "Linux",
    "macOS",
    "ransomware",
];

/// Sector names.
pub(crate) const INDUSTRIES: &[&str] = &[
    "Government",
    "Energy",
    "Telecommunications",
    "Defense",
    "Healthcare",
    "Finance",
    "Manufacturing",
    "Diplomatic",
    "Education",
    "Transportation",
];

/// Geography tags every world of 6 or more publications carries: countries whose
/// official names contain commas, and regions (a UN M49 one, a grouping that is not).
pub(crate) const REQUIRED_GEO: &[&str] = &[
    "Korea, Republic of",
    "Western Europe",
    "Russian Federation",
    "Africa",
    "Iran, Islamic Republic of",
    "Middle East",
];

/// Further countries and regions.
pub(crate) const MORE_GEO: &[&str] = &[
    "Germany",
    "Brazil",
    "Japan",
    "Viet Nam",
    "Kazakhstan",
    "Turkey",
    "Asia",
    "South America",
    "Eastern Europe",
];

/// Verbs of publication titles.
pub(crate) const VERBS: &[&str] = &[
    "targets",
    "spies on",
    "goes after",
    "returns to",
    "expands operations against",
];

/// Host name words.
pub(crate) const HOST_WORDS: &[&str] = &[
    "update", "cdn", "mail", "portal", "static", "api", "sync", "files", "relay", "news",
];

/// Months for monthly report titles and dates written with names.
pub(crate) const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The documentation domains of RFC 2606.
pub(crate) const DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];
