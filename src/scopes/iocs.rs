//! One IoC value becomes an observable, an indicator and the `based-on` between them.
//!
//! Both the publication scope (OpenIOC items) and the Master IoC scope (CSV rows) come
//! through here, so the two make identical objects for the same value.

use std::net::IpAddr;

use jiff::Timestamp;

use crate::stix::{
    self, Bundle, HashAlgorithm, Indicator, Observable, ObservableValue, Relationship,
};

/// The kinds of IoC value the connector knows how to import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IocKind {
    Ip,
    /// An IP address when the value parses as one, else a domain name.
    NetworkActivity,
    Domain,
    Hostname,
    EmailAddress,
    EmailSubject,
    Url,
    Md5,
    Sha1,
    Sha256,
    FileName,
    Mutex,
    ServiceName,
    ServiceDisplayName,
    CertificateIssuer,
    CertificateSubject,
    UserAgent,
}

/// The kind of an OpenIOC `Context/@search`, or `None` when it has no mapping.
pub fn openioc_search_kind(search: &str) -> Option<IocKind> {
    use IocKind::*;
    let kind = match search {
        "FileItem/Md5sum" | "ServiceItem/serviceDLLmd5sum" => Md5,
        "FileItem/Sha1sum" | "ServiceItem/serviceDLLsha1sum" | "TaskItem/sha1sum" => Sha1,
        "FileItem/Sha256sum" | "ServiceItem/serviceDLLsha256sum" | "TaskItem/sha256sum" => Sha256,
        "FileItem/FileName"
        | "FileItem/FullPath"
        | "FileItem/FilePath"
        | "FileItem/DevicePath"
        | "FileItem/PEInfo/VersionInfoList/VersionInfoItem/OriginalFilename"
        | "DriverItem/DriverName"
        | "ProcessItem/name"
        | "ProcessItem/path" => FileName,
        "FileItem/PEInfo/DigitalSignature/CertificateIssuer" | "DriverItem/CertificateIssuer" => {
            CertificateIssuer
        }
        "FileItem/PEInfo/DigitalSignature/CertificateSubject" => CertificateSubject,
        "Network/URI" | "UrlHistoryItem/URL" => Url,
        "Network/DNS" => Domain,
        "Network/UserAgent" => UserAgent,
        "DnsEntryItem/Host"
        | "DnsEntryItem/RecordName"
        | "CookieHistoryItem/HostName"
        | "FormHistoryItem/HostName"
        | "SystemInfoItem/HostName"
        | "UrlHistoryItem/HostName" => Hostname,
        "PortItem/localIP" | "PortItem/remoteIP" => Ip,
        "RouteEntryItem/Destination" => NetworkActivity,
        "Email/To" | "Email/From" => EmailAddress,
        "Email/Subject" => EmailSubject,
        // Real OpenIOC files write mutexes as open handles; an improvement on parity.
        "ProcessItem/Mutex" | "ProcessItem/Mutex/Name" | "ProcessItem/HandleList/Handle/Name" => {
            Mutex
        }
        "ServiceItem/name" | "ServiceItem/startedAs" => ServiceName,
        "ServiceItem/descriptiveName" => ServiceDisplayName,
        _ => return None,
    };
    Some(kind)
}

/// The kind of a Master IoC `indicator_type`, or `None` when it has no mapping.
pub fn master_ioc_type_kind(indicator_type: &str) -> Option<IocKind> {
    match indicator_type {
        "md5Hash" => Some(IocKind::Md5),
        "sha1Hash" => Some(IocKind::Sha1),
        "sha256Hash" => Some(IocKind::Sha256),
        "networkActivity" => Some(IocKind::NetworkActivity),
        _ => None,
    }
}

/// The observable value for a value of a kind; an error says why it cannot be one.
pub fn observable_value(kind: IocKind, value: &str) -> Result<ObservableValue, String> {
    let owned = value.to_owned();
    let observable = match kind {
        IocKind::Ip => ip_value(value).ok_or_else(|| format!("{value:?} is not an IP address"))?,
        IocKind::NetworkActivity => ip_value(value).unwrap_or(ObservableValue::Domain(owned)),
        IocKind::Domain => ObservableValue::Domain(owned),
        IocKind::Hostname => ObservableValue::Hostname(owned),
        IocKind::EmailAddress => ObservableValue::EmailAddress(owned),
        IocKind::EmailSubject => ObservableValue::EmailSubject(owned),
        IocKind::Url => ObservableValue::Url(owned),
        IocKind::Md5 => ObservableValue::FileHash(HashAlgorithm::Md5, owned),
        IocKind::Sha1 => ObservableValue::FileHash(HashAlgorithm::Sha1, owned),
        IocKind::Sha256 => ObservableValue::FileHash(HashAlgorithm::Sha256, owned),
        IocKind::FileName => ObservableValue::FileName(owned),
        IocKind::Mutex => ObservableValue::Mutex(owned),
        IocKind::ServiceName => ObservableValue::ServiceName(owned),
        IocKind::ServiceDisplayName => ObservableValue::ServiceDisplayName(owned),
        IocKind::CertificateIssuer => ObservableValue::CertificateIssuer(owned),
        IocKind::CertificateSubject => ObservableValue::CertificateSubject(owned),
        IocKind::UserAgent => ObservableValue::UserAgent(owned),
    };
    Ok(observable)
}

/// An IPv4 or IPv6 observable when the value is an address, written as given.
///
/// A CIDR block (`10.0.0.0/8`) is an address too: STIX `ipv4-addr`/`ipv6-addr` values may
/// be networks.
fn ip_value(value: &str) -> Option<ObservableValue> {
    let (address, prefix) = match value.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
        None => (value, None),
    };
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(_) if prefix.is_none_or(|p| p <= 32) => {
            Some(ObservableValue::Ipv4(value.to_owned()))
        }
        IpAddr::V6(_) if prefix.is_none_or(|p| p <= 128) => {
            Some(ObservableValue::Ipv6(value.to_owned()))
        }
        _ => None,
    }
}

/// Everything the objects of one IoC value share.
#[derive(Clone, Debug)]
pub struct IocContext<'a> {
    pub author: &'a str,
    pub marking: &'a str,
    /// Observable `x_opencti_description` and indicator `description`, when non-empty.
    pub description: Option<&'a str>,
    pub labels: &'a [String],
    pub created: Timestamp,
    pub modified: Timestamp,
    /// When the `based-on` relationship is made.
    pub now: Timestamp,
    pub confidence: Option<u8>,
    pub create_observables: bool,
    pub create_indicators: bool,
}

/// The ids of the objects one IoC value produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IocIds {
    pub observable: Option<String>,
    pub indicator: Option<String>,
    pub based_on: Option<String>,
}

/// The observable, indicator and `based-on` of one value, as configured.
pub struct IocObjects {
    pub observable: Option<Observable>,
    pub indicator: Option<Indicator>,
    pub based_on: Option<Relationship>,
    /// Why the observable was left out although observables are wanted.
    pub observable_refused: Option<&'static str>,
}

impl IocObjects {
    /// Builds the objects for `value`.
    pub fn build(value: ObservableValue, ctx: &IocContext<'_>) -> Self {
        let description = ctx.description.filter(|d| !d.is_empty()).map(str::to_owned);

        let indicator = ctx.create_indicators.then(|| {
            let (created, modified) = ordered(ctx.created, ctx.modified);
            let pattern = value.pattern();
            Indicator {
                spec_version: Default::default(),
                id: stix::ids::indicator(&pattern),
                created_by_ref: Some(ctx.author.to_owned()),
                created,
                modified,
                name: value.text().to_owned(),
                description: description.clone(),
                pattern,
                pattern_type: "stix",
                pattern_version: "2.1",
                valid_from: created,
                labels: ctx.labels.to_vec(),
                confidence: ctx.confidence,
                object_marking_refs: vec![ctx.marking.to_owned()],
                x_opencti_main_observable_type: Some(value.main_observable_type()),
                x_opencti_score: Some(75),
            }
        });

        // STIX requires a `url` observable's value to be a URI; a partial or scheme-less
        // value still makes a good indicator, so only the observable is left out.
        let observable_refused = ctx.create_observables.then(|| refusal(&value)).flatten();
        let wants_observable = ctx.create_observables && observable_refused.is_none();
        let observable = wants_observable.then(|| Observable {
            id: value.id(),
            value,
            object_marking_refs: vec![ctx.marking.to_owned()],
            x_opencti_created_by_ref: Some(ctx.author.to_owned()),
            x_opencti_description: description,
            x_opencti_labels: ctx.labels.to_vec(),
            x_opencti_score: Some(75),
        });

        let based_on = match (&indicator, &observable) {
            (Some(indicator), Some(observable)) => Some(relationship(
                "based-on",
                &indicator.id,
                &observable.id,
                None,
                ctx.author,
                ctx.marking,
                ctx.confidence,
                ctx.now,
            )),
            _ => None,
        };

        IocObjects {
            observable,
            indicator,
            based_on,
            observable_refused,
        }
    }

    /// Adds the objects to `bundle` and returns their ids.
    pub fn add_to(self, bundle: &mut Bundle) -> IocIds {
        let mut ids = IocIds::default();
        if let Some(observable) = self.observable {
            ids.observable = Some(observable.id.clone());
            bundle.push(observable);
        }
        if let Some(indicator) = self.indicator {
            ids.indicator = Some(indicator.id.clone());
            bundle.push(indicator);
        }
        if let Some(based_on) = self.based_on {
            ids.based_on = Some(based_on.id.clone());
            bundle.push(based_on);
        }
        ids
    }
}

/// Why STIX would refuse an observable of this value, if it would: a `url` must hold a
/// URI, a `domain-name` a host name, an `email-addr` an address. Such values (partial,
/// defanged or odd ones) still make good indicators, so only the observable is left out.
fn refusal(value: &ObservableValue) -> Option<&'static str> {
    match value {
        ObservableValue::Url(text) if !is_uri(text) => {
            Some("not a URI: the url observable is left out, the indicator is kept")
        }
        ObservableValue::Domain(text) if !is_hostname(text) => {
            Some("not a host name: the domain-name observable is left out, the indicator is kept")
        }
        ObservableValue::EmailAddress(text) if !text.contains('@') => {
            Some("not an e-mail address: the observable is left out, the indicator is kept")
        }
        _ => None,
    }
}

/// Whether a text is a host name as STIX `domain-name` values must be (RFC 1123 labels,
/// internationalised letters allowed, an optional final dot).
///
/// ```
/// use connector_kaspersky::scopes::iocs::is_hostname;
/// assert!(is_hostname("a-1.example.com."));
/// assert!(is_hostname("bücher.example"));
/// assert!(!is_hostname("exa_mple.com"));
/// assert!(!is_hostname("-bad-.example"));
/// assert!(!is_hostname("it's.example.com"));
/// ```
pub fn is_hostname(text: &str) -> bool {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    name.split('.').all(|label| {
        let fits = !label.is_empty() && label.len() <= 63;
        let hyphens = !label.starts_with('-') && !label.ends_with('-');
        let characters = label.chars().all(|c| c.is_alphanumeric() || c == '-');
        fits && hyphens && characters
    })
}

/// Whether a text is an absolute URI as RFC 3986 writes one: a scheme, then only
/// unreserved, reserved and percent-encoded characters.
///
/// ```
/// use connector_kaspersky::scopes::iocs::is_uri;
/// assert!(is_uri("http://a.example.com/x?id=1&k=2"));
/// assert!(!is_uri("./madi-check http://72.55."));
/// assert!(!is_uri("a.example.com/x"));
/// ```
pub fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut scheme_chars = scheme.chars();
    let scheme_ok = scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return false;
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b);
        if !allowed {
            return false;
        }
        i += 1;
    }
    true
}

/// `created` never after `modified`: the two are swapped when the source has them reversed.
pub fn ordered(created: Timestamp, modified: Timestamp) -> (Timestamp, Timestamp) {
    if created > modified {
        (modified, created)
    } else {
        (created, modified)
    }
}

/// A relationship with the connector's author, marking and confidence.
///
/// `start_time` also enters the id, as the Python text of an aware UTC time.
#[allow(clippy::too_many_arguments)]
pub fn relationship(
    kind: &'static str,
    source: &str,
    target: &str,
    start_time: Option<Timestamp>,
    author: &str,
    marking: &str,
    confidence: Option<u8>,
    now: Timestamp,
) -> Relationship {
    let start_text = start_time.map(|t| stix::PyDateTime::utc(t).isoformat());
    Relationship {
        spec_version: Default::default(),
        id: stix::ids::relationship(kind, source, target, start_text.as_deref()),
        created_by_ref: Some(author.to_owned()),
        created: now,
        modified: now,
        relationship_type: kind,
        source_ref: source.to_owned(),
        target_ref: target.to_owned(),
        start_time,
        confidence,
        object_marking_refs: vec![marking.to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(now: Timestamp) -> IocContext<'static> {
        IocContext {
            author: "identity--04d070e4-451d-54f4-a42e-c64431074504",
            marking: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            description: Some(""),
            labels: &[],
            created: now,
            modified: now,
            now,
            confidence: None,
            create_observables: true,
            create_indicators: true,
        }
    }

    #[test]
    fn network_activity_is_decided_by_content() {
        let ip = observable_value(IocKind::NetworkActivity, "2001:db8::1").unwrap();
        assert_eq!(ip.stix_type(), "ipv6-addr");
        let domain = observable_value(IocKind::NetworkActivity, "a.example.com").unwrap();
        assert_eq!(domain.stix_type(), "domain-name");
    }

    #[test]
    fn partial_ips_are_not_ips_and_networks_are() {
        assert!(observable_value(IocKind::Ip, "174.142.57").is_err());
        let network = observable_value(IocKind::NetworkActivity, "10.0.0.0/8").unwrap();
        assert_eq!(network.stix_type(), "ipv4-addr");
        assert!(observable_value(IocKind::Ip, "10.0.0.0/33").is_err());
        let v6 = observable_value(IocKind::Ip, "2001:db8::/32").unwrap();
        assert_eq!(v6.stix_type(), "ipv6-addr");
    }

    #[test]
    fn both_objects_and_the_relationship_when_both_are_wanted() {
        let now = "2024-07-31T00:00:00Z".parse().unwrap();
        let value = observable_value(IocKind::Ip, "203.0.113.246").unwrap();
        let mut bundle = Bundle::derived("t");
        let ids = IocObjects::build(value, &ctx(now)).add_to(&mut bundle);
        // Ids from the Python connector's output for the same value.
        assert_eq!(
            ids.observable.unwrap(),
            "ipv4-addr--7edf8ff9-f3b7-534c-b685-b1c587b50444"
        );
        assert_eq!(
            ids.indicator.unwrap(),
            "indicator--4b4fb2a0-18c0-5dcd-98cc-de2e5d02d578"
        );
        assert_eq!(
            ids.based_on.unwrap(),
            "relationship--bc9e2849-6489-55e8-8d8b-dbe85c5598e3"
        );
        assert_eq!(bundle.len(), 3);
    }

    #[test]
    fn indicators_only_have_no_relationship() {
        let now = "2024-07-31T00:00:00Z".parse().unwrap();
        let mut context = ctx(now);
        context.create_observables = false;
        let value = observable_value(IocKind::Domain, "x.example.org").unwrap();
        let objects = IocObjects::build(value, &context);
        assert!(objects.observable.is_none() && objects.based_on.is_none());
        assert!(objects.indicator.is_some());
    }

    #[test]
    fn created_after_modified_is_swapped() {
        let a: Timestamp = "2024-01-02T00:00:00Z".parse().unwrap();
        let b: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(ordered(a, b), (b, a));
    }
}
