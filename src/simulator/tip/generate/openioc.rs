//! OpenIOC 1.0 documents for generated publications.
//!
//! Items are drawn from one cycle over every search the connector maps (the search table
//! of `reference/stix-mapping.md`, plus `ProcessItem/HandleList/Handle/Name`) and two it
//! does not map, carried on from one publication to the next, so a world with at least
//! [`SEARCHES`]`.len()` items in all shows every search. The documents also carry the
//! imperfections real files have: an item without id, empty contents, repeated values,
//! upper-case hashes, backslashes, apostrophes and non-ASCII file names.

use std::fmt::Write;

use super::publications::{PublicationPlan, naive_datetime};
use super::rng::Rng;
use super::values;

/// What kind of value a search holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Md5,
    Sha1,
    Sha256,
    FileName,
    FullPath,
    DevicePath,
    DriverName,
    ProcessPath,
    CertIssuer,
    CertSubject,
    Url,
    Domain,
    UserAgent,
    Host,
    Ip,
    IpOrHost,
    Email,
    Subject,
    Mutex,
    HandleName,
    Service,
    ServiceDisplay,
    RegistryPath,
    Size,
}

use ValueKind::*;

/// Every generated search, with its value kind.
pub(crate) const SEARCHES: &[(&str, ValueKind)] = &[
    ("FileItem/Md5sum", Md5),
    ("ServiceItem/serviceDLLmd5sum", Md5),
    ("FileItem/Sha1sum", Sha1),
    ("ServiceItem/serviceDLLsha1sum", Sha1),
    ("TaskItem/sha1sum", Sha1),
    ("FileItem/Sha256sum", Sha256),
    ("ServiceItem/serviceDLLsha256sum", Sha256),
    ("TaskItem/sha256sum", Sha256),
    ("FileItem/FileName", FileName),
    ("FileItem/FullPath", FullPath),
    ("FileItem/FilePath", FullPath),
    ("FileItem/DevicePath", DevicePath),
    (
        "FileItem/PEInfo/VersionInfoList/VersionInfoItem/OriginalFilename",
        FileName,
    ),
    ("DriverItem/DriverName", DriverName),
    ("ProcessItem/name", FileName),
    ("ProcessItem/path", ProcessPath),
    (
        "FileItem/PEInfo/DigitalSignature/CertificateIssuer",
        CertIssuer,
    ),
    ("DriverItem/CertificateIssuer", CertIssuer),
    (
        "FileItem/PEInfo/DigitalSignature/CertificateSubject",
        CertSubject,
    ),
    ("Network/URI", Url),
    ("UrlHistoryItem/URL", Url),
    ("Network/DNS", Domain),
    ("Network/UserAgent", UserAgent),
    ("DnsEntryItem/Host", Host),
    ("DnsEntryItem/RecordName", Host),
    ("CookieHistoryItem/HostName", Host),
    ("FormHistoryItem/HostName", Host),
    ("SystemInfoItem/HostName", Host),
    ("UrlHistoryItem/HostName", Host),
    ("PortItem/localIP", Ip),
    ("PortItem/remoteIP", Ip),
    ("RouteEntryItem/Destination", IpOrHost),
    ("Email/To", Email),
    ("Email/From", Email),
    ("Email/Subject", Subject),
    ("ProcessItem/Mutex", Mutex),
    ("ProcessItem/Mutex/Name", Mutex),
    ("ProcessItem/HandleList/Handle/Name", HandleName),
    ("ServiceItem/name", Service),
    ("ServiceItem/startedAs", Service),
    ("ServiceItem/descriptiveName", ServiceDisplay),
    // Not mapped by the connector: these must be skipped, with a log.
    ("RegistryItem/Path", RegistryPath),
    ("FileItem/SizeInBytes", Size),
];

/// File names, some with an apostrophe or non-ASCII letters.
const FILE_NAMES: &[&str] = &[
    "flashplayer_upd.exe",
    "svch0st.exe",
    "o'neil_invoice.pdf.exe",
    "отчёт_квартал.scr",
    "données_été.docm",
    "msupdate64.dll",
    "report_2024.lnk",
];

/// Carries the search cycle and the oddity counters across the publications of a world.
#[derive(Debug, Default)]
pub(crate) struct IocWriter {
    next_search: usize,
    documents: usize,
    /// Items written, by search, for the world description.
    pub(crate) items: usize,
}

struct Item {
    search: &'static str,
    content_type: &'static str,
    value: String,
    id: Option<String>,
}

impl IocWriter {
    /// The OpenIOC document of one publication, with `count` items (plus a repeated one).
    pub(crate) fn document(
        &mut self,
        rng: &mut Rng,
        plan: &PublicationPlan,
        count: usize,
    ) -> String {
        let mut items: Vec<Item> = Vec::with_capacity(count + 1);
        for _ in 0..count {
            let (search, kind) = SEARCHES[self.next_search % SEARCHES.len()];
            self.next_search += 1;
            items.push(Item {
                search,
                content_type: content_type(kind),
                value: value(rng, kind),
                id: Some(rng.uuid()),
            });
        }

        // The imperfections, in the first documents only, so they stay countable.
        if self.documents == 0 && items.len() > 4 {
            items[2].id = None;
            items[4].value.clear();
        }
        if self.documents == 1 && items.len() > 3 {
            items[3].value.clear();
        }
        if self.documents.is_multiple_of(2)
            && let Some(first) = items.first()
        {
            let repeat = Item {
                search: first.search,
                content_type: first.content_type,
                value: first.value.clone(),
                id: Some(rng.uuid()),
            };
            items.push(repeat);
        }
        self.documents += 1;
        self.items += items.len();

        render(rng, plan, &items)
    }
}

fn content_type(kind: ValueKind) -> &'static str {
    match kind {
        Md5 => "md5",
        Sha1 => "sha1",
        Sha256 => "sha256",
        Ip => "IP",
        Size => "int",
        _ => "string",
    }
}

fn value(rng: &mut Rng, kind: ValueKind) -> String {
    let tag = rng.hex(8);
    match kind {
        Md5 => values::hash(rng, 32),
        Sha1 => values::hash(rng, 40),
        Sha256 => values::hash(rng, 64),
        FileName => rng.pick(FILE_NAMES).to_string(),
        FullPath => format!(r"C:\Users\Public\Libraries\{}", rng.pick(FILE_NAMES)),
        DevicePath => format!(r"\Device\HarddiskVolume2\Windows\System32\drivers\fict{tag}.sys"),
        DriverName => format!("fict{}.sys", &tag[..4]),
        ProcessPath => r"C:\ProgramData\FictUpdater\".to_owned(),
        CertIssuer => "CN=Fictional Code Signing CA, O=Fictional Trust Services, C=US".to_owned(),
        CertSubject => format!(
            "CN=Fictional Software {}, O=Fictional Software Ltd, C=US",
            &tag[..4]
        ),
        Url => values::url(rng),
        Domain | Host => values::host(rng),
        UserAgent => format!(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) FictBrowser/{}.{}",
            1 + rng.below(20),
            rng.below(10)
        ),
        Ip if rng.chance(25) => values::ipv6(rng),
        Ip => values::ipv4(rng),
        IpOrHost if rng.chance(50) => values::host(rng),
        IpOrHost => values::ipv4(rng),
        Email => values::email(rng),
        Subject => format!("Invoice '{}' – please review", &tag[..6]),
        Mutex => format!(r"Global\FictMutex_{tag}"),
        HandleName => format!(r"\BaseNamedObjects\FictMutant_{tag}"),
        Service => format!("FictSvc{}", &tag[..4]),
        ServiceDisplay => format!("Fictional Update Service {}", &tag[..4]),
        RegistryPath => format!(
            r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run\Fict{}",
            &tag[..4]
        ),
        Size => (10_000 + rng.below(5_000_000)).to_string(),
    }
}

fn render(rng: &mut Rng, plan: &PublicationPlan, items: &[Item]) -> String {
    let mut xml = String::with_capacity(512 + items.len() * 300);
    let short: String = plan.name.chars().take(60).collect();
    let authored = if plan.published % 2 == 0 {
        naive_datetime(plan.published - 86_400)
    } else {
        naive_datetime(plan.published - 86_400)[..10].to_owned()
    };
    let _ = write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <ioc xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" id=\"{}\" last-modified=\"{}\" \
         xmlns=\"http://schemas.mandiant.com/2010/ioc\">\n\
         \x20 <short_description>{}</short_description>\n\
         \x20 <description>IOCs for the fictional {} activity ({})</description>\n\
         \x20 <keywords />\n\
         \x20 <authored_by>Fictional Research Lab</authored_by>\n\
         \x20 <authored_date>{}</authored_date>\n\
         \x20 <links />\n\
         \x20 <definition>\n\
         \x20   <Indicator operator=\"OR\" id=\"{}\">\n",
        rng.uuid(),
        naive_datetime(plan.updated),
        escape(&short),
        plan.malware,
        plan.id,
        authored,
        rng.uuid(),
    );

    let mut index = 0;
    while index < items.len() {
        let item = &items[index];
        if item.search == "ProcessItem/HandleList/Handle/Name" {
            // Real files pair the handle name with its type in an AND block.
            let mutant = Item {
                search: "ProcessItem/HandleList/Handle/Type",
                content_type: "string",
                value: "Mutant".to_owned(),
                id: Some(rng.uuid()),
            };
            open_and(rng, &mut xml);
            write_item(&mut xml, &mutant, 8);
            write_item(&mut xml, item, 8);
            xml.push_str("      </Indicator>\n");
            index += 1;
        } else if index % 5 == 2
            && index + 1 < items.len()
            && items[index + 1].search != "ProcessItem/HandleList/Handle/Name"
        {
            open_and(rng, &mut xml);
            write_item(&mut xml, item, 8);
            write_item(&mut xml, &items[index + 1], 8);
            xml.push_str("      </Indicator>\n");
            index += 2;
        } else {
            write_item(&mut xml, item, 6);
            index += 1;
        }
    }
    xml.push_str("    </Indicator>\n  </definition>\n</ioc>\n");
    xml
}

fn open_and(rng: &mut Rng, xml: &mut String) {
    let _ = writeln!(
        xml,
        "      <Indicator operator=\"AND\" id=\"{}\">",
        rng.uuid()
    );
}

fn write_item(xml: &mut String, item: &Item, indent: usize) {
    let pad = " ".repeat(indent);
    let document = item.search.split('/').next().unwrap_or_default();
    let condition = if matches!(item.content_type, "string") && item.search.ends_with("name") {
        "contains"
    } else {
        "is"
    };
    match &item.id {
        Some(id) => {
            let _ = writeln!(
                xml,
                "{pad}<IndicatorItem id=\"{id}\" condition=\"{condition}\">"
            );
        }
        None => {
            let _ = writeln!(xml, "{pad}<IndicatorItem condition=\"{condition}\">");
        }
    }
    let _ = writeln!(
        xml,
        "{pad}  <Context document=\"{document}\" search=\"{}\" type=\"mir\" />",
        item.search
    );
    if item.value.is_empty() {
        let _ = writeln!(xml, "{pad}  <Content type=\"{}\" />", item.content_type);
    } else {
        let _ = writeln!(
            xml,
            "{pad}  <Content type=\"{}\">{}</Content>",
            item.content_type,
            escape(&item.value)
        );
    }
    let _ = writeln!(xml, "{pad}</IndicatorItem>");
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::publications;
    use super::*;

    #[test]
    fn documents_parse_and_cover_every_search() {
        let mut rng = Rng::new(5, 0);
        let plans = publications::plan(&mut rng, 4);
        let mut writer = IocWriter::default();
        let mut seen = std::collections::BTreeSet::new();
        for plan in plans.iter().cycle().take(6) {
            let xml = writer.document(&mut rng, plan, 12);
            let doc = roxmltree::Document::parse(&xml).unwrap();
            for node in doc.descendants().filter(|n| n.has_tag_name("Context")) {
                seen.insert(node.attribute("search").unwrap().to_owned());
            }
        }
        for (search, _) in SEARCHES {
            assert!(seen.contains(*search), "{search} missing");
        }
        assert!(seen.contains("ProcessItem/HandleList/Handle/Type"));
    }

    #[test]
    fn the_first_document_carries_the_imperfections() {
        let mut rng = Rng::new(5, 0);
        let plans = publications::plan(&mut rng, 1);
        let xml = IocWriter::default().document(&mut rng, &plans[0], 12);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let items: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("IndicatorItem"))
            .collect();
        assert!(items.iter().any(|n| n.attribute("id").is_none()));
        let empty = doc
            .descendants()
            .filter(|n| n.has_tag_name("Content") && n.text().is_none())
            .count();
        assert_eq!(empty, 1);
        assert!(
            doc.descendants()
                .any(|n| n.has_tag_name("Indicator") && n.attribute("operator") == Some("AND"))
        );
    }
}
