//! The four endpoints of the TIP publications API, by name.

use std::fmt;

/// One endpoint of `{base_url}/api/publications/<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `get_list`: publication metadata, optionally between two `updated` times.
    GetList,
    /// `get_one`: one publication with its files.
    GetOne,
    /// `get_master_ioc`: the Master IoC CSV, base64 of gzip.
    GetMasterIoc,
    /// `get_master_yara`: the Master YARA file, base64 of gzip.
    GetMasterYara,
}

impl Endpoint {
    /// Every endpoint, in the order above.
    pub const ALL: [Endpoint; 4] = [
        Endpoint::GetList,
        Endpoint::GetOne,
        Endpoint::GetMasterIoc,
        Endpoint::GetMasterYara,
    ];

    /// The last path segment, as in the URL: `get_list`, `get_one`, ...
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::GetList => "get_list",
            Endpoint::GetOne => "get_one",
            Endpoint::GetMasterIoc => "get_master_ioc",
            Endpoint::GetMasterYara => "get_master_yara",
        }
    }

    /// The endpoint of a path segment name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The path below the base URL: `/api/publications/<name>`.
    pub fn path(self) -> String {
        format!("/api/publications/{}", self.name())
    }

    /// Index into per-endpoint tables, `0..4` in the order of [`Endpoint::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_the_table() {
        for (i, endpoint) in Endpoint::ALL.into_iter().enumerate() {
            assert_eq!(Endpoint::from_name(endpoint.name()), Some(endpoint));
            assert_eq!(endpoint.index(), i);
        }
        assert_eq!(Endpoint::from_name("get_all"), None);
        assert_eq!(
            Endpoint::GetMasterIoc.path(),
            "/api/publications/get_master_ioc"
        );
    }
}
