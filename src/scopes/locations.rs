//! Geography tags: a region when OpenCTI (or, offline, the UN M49 list) knows the name,
//! else a country with its real ISO 3166-1 code, else a region (groupings such as
//! "Middle East" or "CIS").

use std::collections::HashSet;
use std::str::FromStr;

use crate::stix::LocationKind;

/// The UN M49 regions and sub-regions, used when the platform's list is not available.
const M49_REGIONS: &[&str] = &[
    "World",
    "Africa",
    "Americas",
    "Asia",
    "Europe",
    "Oceania",
    "Northern Africa",
    "Sub-Saharan Africa",
    "Eastern Africa",
    "Middle Africa",
    "Southern Africa",
    "Western Africa",
    "Latin America and the Caribbean",
    "Caribbean",
    "Central America",
    "South America",
    "Northern America",
    "Central Asia",
    "Eastern Asia",
    "South-eastern Asia",
    "Southern Asia",
    "Western Asia",
    "Eastern Europe",
    "Northern Europe",
    "Southern Europe",
    "Western Europe",
    "Australia and New Zealand",
    "Melanesia",
    "Micronesia",
    "Polynesia",
];

/// Region names, compared case-insensitively.
#[derive(Clone, Debug, Default)]
pub struct Regions {
    names: HashSet<String>,
}

impl Regions {
    /// The UN M49 regions and sub-regions.
    pub fn m49() -> Self {
        Regions::from_names(M49_REGIONS.iter().copied())
    }

    /// The regions OpenCTI knows (names and aliases from the platform).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Regions {
            names: names.into_iter().map(key).collect(),
        }
    }

    /// Whether `name` is one of the regions.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(&key(name))
    }

    /// How many names are known.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no region is known.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// What a geography tag becomes.
    pub fn classify(&self, name: &str) -> LocationKind {
        if self.contains(name) {
            return LocationKind::Region;
        }
        match country_code(name) {
            Some(code) => LocationKind::Country { code },
            None => LocationKind::Region,
        }
    }
}

fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The ISO 3166-1 alpha-2 code of a country name, as Kaspersky and ISO write names.
///
/// ISO's own short names invert the article ("Korea, Republic of"), so the inverted form
/// is tried too; the `celes` crate knows the common and long names.
///
/// ```
/// use connector_kaspersky::scopes::locations::country_code;
/// assert_eq!(country_code("Korea, Republic of").as_deref(), Some("KR"));
/// assert_eq!(country_code("Russian Federation").as_deref(), Some("RU"));
/// assert_eq!(country_code("Middle East"), None);
/// ```
pub fn country_code(name: &str) -> Option<String> {
    let name = name.trim();
    let mut candidates = vec![name.to_owned()];
    if let Some((head, tail)) = name.split_once(',') {
        let inverted = format!("{} {}", tail.trim(), head.trim());
        let without_article = inverted
            .strip_prefix("The ")
            .or_else(|| inverted.strip_prefix("the "))
            .map(str::to_owned);
        candidates.push(inverted);
        candidates.extend(without_article);
        candidates.push(head.trim().to_owned());
    }
    if let Some(stripped) = name.strip_prefix("The ") {
        candidates.push(stripped.to_owned());
    }
    candidates.iter().find_map(|candidate| lookup(candidate))
}

fn lookup(name: &str) -> Option<String> {
    // Two-letter and three-letter words would match codes ("Chad" is fine, "US" is not a
    // name): only names are looked up here.
    let compact: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if compact.len() < 4 || compact.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let country = celes::Country::from_str(&compact)
        .or_else(|_| celes::Country::from_alias(&compact))
        .or_else(|_| celes::Country::from_name(&compact))
        .ok()?;
    Some(country.alpha2.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_kaspersky_country_names_resolve() {
        let cases = [
            ("Russian Federation", "RU"),
            ("Korea, Republic of", "KR"),
            ("Korea, Democratic People's Republic of", "KP"),
            ("Iran, Islamic Republic of", "IR"),
            ("United Arab Emirates", "AE"),
            ("Saudi Arabia", "SA"),
            ("United States", "US"),
            ("United Kingdom", "GB"),
            ("Viet Nam", "VN"),
            ("Venezuela, Bolivarian Republic of", "VE"),
            ("Bolivia, Plurinational State of", "BO"),
            ("Tanzania, United Republic of", "TZ"),
            ("Moldova, Republic of", "MD"),
            ("Congo, The Democratic Republic of the", "CD"),
            ("Taiwan, Province of China", "TW"),
            ("Germany", "DE"),
            ("Türkiye", "TR"),
        ];
        for (name, code) in cases {
            assert_eq!(country_code(name).as_deref(), Some(code), "{name}");
        }
    }

    #[test]
    fn groupings_and_regions_are_not_countries() {
        for name in ["Middle East", "CIS", "Asia", "Europe", "Western Europe"] {
            assert_eq!(country_code(name), None, "{name}");
        }
    }

    #[test]
    fn offline_classification_follows_m49() {
        let regions = Regions::m49();
        assert_eq!(regions.classify("Africa"), LocationKind::Region);
        assert_eq!(regions.classify("western europe"), LocationKind::Region);
        assert_eq!(regions.classify("CIS"), LocationKind::Region);
        assert_eq!(
            regions.classify("Japan"),
            LocationKind::Country { code: "JP".into() }
        );
    }
}
