//! OpenIOC parsing: the shared samples, the real-world files, and our own fixtures.

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/formats/openioc");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn by_id<'a>(ioc: &'a OpenIoc, id: &str) -> &'a IndicatorItem {
    ioc.items
        .iter()
        .find(|item| item.id.as_deref() == Some(id))
        .unwrap()
}

/// The hand-written 1.0 fixture, whatever its encoding details.
fn assert_example_1_0(ioc: &OpenIoc) {
    assert_eq!(
        ioc.id.as_deref(),
        Some("00000000-0000-4000-8000-000000000001")
    );
    assert_eq!(
        ioc.short_description.as_deref(),
        Some("Fictional Example Campaign")
    );
    assert_eq!(
        ioc.description.as_deref(),
        Some("Indicators of a made-up campaign; values use example.com and 192.0.2.0/24."),
    );
    assert_eq!(ioc.authored_date, Some(ts("2024-05-01T00:00:00Z")));
    assert_eq!(ioc.last_modified, Some(ts("2024-05-06T07:08:09Z")));
    assert_eq!(ioc.items.len(), 4);

    assert_eq!(
        ioc.items[0],
        IndicatorItem {
            id: Some("00000000-0000-4000-8000-0000000000a1".into()),
            condition: Some("is".into()),
            negate: false,
            document: Some("Network".into()),
            search: Some("Network/DNS".into()),
            context_type: Some("mir".into()),
            content_type: Some("string".into()),
            content: Some("c2.example.com".into()),
        }
    );

    // Nested two levels down, text trimmed across a line break.
    let ip = &ioc.items[1];
    assert_eq!(ip.search.as_deref(), Some("PortItem/remoteIP"));
    assert_eq!(ip.condition.as_deref(), Some("contains"));
    assert_eq!(ip.content.as_deref(), Some("192.0.2.10"));

    // No id and an empty Content: both None, the item still listed.
    let empty = &ioc.items[2];
    assert_eq!(
        (empty.id.as_deref(), empty.content.as_deref()),
        (None, None)
    );
    assert_eq!(empty.content_type.as_deref(), Some("md5"));

    // Entities and character references are decoded; negate is read.
    let name = &ioc.items[3];
    assert_eq!(name.content.as_deref(), Some("O'Brien & Sons – résumé.doc"));
    assert!(name.negate);
}

#[test]
fn example_1_0_with_comment_and_processing_instruction_before_the_root() {
    assert_example_1_0(&parse(&fixture("example_1_0.ioc")).unwrap());
}

#[test]
fn example_1_0_with_crlf() {
    let bytes = fixture("example_1_0_crlf.ioc");
    assert!(bytes.windows(2).any(|w| w == b"\r\n"));
    assert_example_1_0(&parse(&bytes).unwrap());
}

#[test]
fn example_1_0_with_bom() {
    let bytes = fixture("example_1_0_bom.ioc");
    assert!(bytes.starts_with(BOM));
    assert_example_1_0(&parse(&bytes).unwrap());
}

#[test]
fn example_1_1_reads_metadata_and_criteria() {
    let ioc = parse(&fixture("example_1_1.ioc")).unwrap();
    assert_eq!(
        ioc.id.as_deref(),
        Some("00000000-0000-4000-8000-000000000011")
    );
    assert_eq!(
        ioc.short_description.as_deref(),
        Some("Fictional 1.1 Example")
    );
    assert_eq!(
        ioc.description.as_deref(),
        Some("Kept under metadata in OpenIOC 1.1.")
    );
    assert_eq!(ioc.authored_date, Some(ts("2024-06-01T00:00:00Z")));
    assert_eq!(ioc.last_modified, Some(ts("2024-06-07T08:09:10Z")));

    // The `param` under `parameters` is no item; CDATA is text.
    let contents: Vec<_> = ioc
        .items
        .iter()
        .map(|i| i.content.as_deref().unwrap())
        .collect();
    assert_eq!(
        contents,
        [
            "http://www.example.com/a?b=c&d=e",
            "0000000000000000000000000000000000000000000000000000000000000001"
        ]
    );
}

#[test]
fn a_dtd_is_refused_without_expansion() {
    let err = parse(&fixture("entity_expansion.ioc")).unwrap_err();
    assert!(
        matches!(&err, OpenIocError::Xml(m) if m.contains("DTD")),
        "{err}"
    );
}

#[test]
fn invalid_utf8_names_the_offset() {
    let bytes = fixture("invalid_utf8.ioc");
    let offset = bytes.iter().position(|&b| b == 0xFF).unwrap();
    let err = parse(&bytes).unwrap_err();
    assert!(
        matches!(err, OpenIocError::NotUtf8 { offset: o } if o == offset),
        "{err}"
    );

    let mut with_bom = BOM.to_vec();
    with_bom.extend(&bytes);
    let err = parse(&with_bom).unwrap_err();
    assert!(
        matches!(err, OpenIocError::NotUtf8 { offset: o } if o == offset + 3),
        "{err}"
    );
}

#[test]
fn another_root_is_not_openioc() {
    let err = parse(&fixture("not_openioc.xml")).unwrap_err();
    assert!(matches!(err, OpenIocError::NotOpenIoc(_)), "{err}");

    let foreign = br#"<ioc xmlns="http://example.com/not-openioc"><definition/></ioc>"#;
    assert!(matches!(parse(foreign), Err(OpenIocError::NotOpenIoc(_))));
}

#[test]
fn no_namespace_and_missing_fields_are_accepted() {
    let ioc = parse(b"<ioc><definition><IndicatorItem/></definition></ioc>").unwrap();
    assert_eq!(ioc.items, [IndicatorItem::default()]);
    assert_eq!(
        (ioc.id, ioc.description, ioc.authored_date),
        (None, None, None)
    );
}

#[test]
fn unreadable_dates_are_none() {
    let xml =
        br#"<ioc last-modified="0001-01-01T00:00:00"><authored_date>soon</authored_date></ioc>"#;
    let ioc = parse(xml).unwrap();
    assert_eq!((ioc.last_modified, ioc.authored_date), (None, None));
}

#[test]
fn malformed_xml_is_an_error() {
    for xml in [
        &b""[..],
        b"not xml",
        b"<ioc><definition></ioc>",
        b"<ioc>&undefined;</ioc>",
    ] {
        assert!(matches!(parse(xml), Err(OpenIocError::Xml(_))), "{xml:?}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 10_000;
    let mut xml = String::from("<ioc><definition>");
    xml.push_str(&"<Indicator>".repeat(depth));
    xml.push_str(&"</Indicator>".repeat(depth));
    xml.push_str("</definition></ioc>");
    let err = parse(xml.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            OpenIocError::TooDeep {
                limit: MAX_DEPTH,
                line: 1
            }
        ),
        "{err}"
    );

    // Just inside the limit is fine.
    let inner = MAX_DEPTH - 2;
    let mut xml = String::from("<ioc><definition>");
    xml.push_str(&"<Indicator>".repeat(inner));
    xml.push_str("</Indicator>".repeat(inner).as_str());
    xml.push_str("</definition></ioc>");
    assert!(parse(xml.as_bytes()).unwrap().items.is_empty());
}

#[test]
fn too_many_nodes_is_an_error() {
    let count = usize::try_from(MAX_NODES).unwrap();
    let mut xml = String::with_capacity(count * 4 + 32);
    xml.push_str("<ioc>");
    xml.push_str(&"<a/>".repeat(count));
    xml.push_str("</ioc>");
    assert!(matches!(parse(xml.as_bytes()), Err(OpenIocError::Xml(_))));
}

/// Item counts of every shared sample and real-world file.
#[test]
fn item_counts_of_the_shared_files() {
    let cases = [
        ("samples/decoded/publications/35eaef5291b8/iocs.ioc", 13),
        ("samples/decoded/publications/9e9aa600bccf/iocs.ioc", 15),
        ("samples/decoded/publications/f52f7e6885e1/iocs.ioc", 10),
        ("samples/decoded/publications/fdf9e935d0cc/iocs.ioc", 15),
        (
            "samples/real/openioc/citizenlab_endless_mayfly_misp_export.ioc",
            6,
        ),
        (
            "samples/real/openioc/fireeye_sunburst_url_hostname_hx.ioc",
            5,
        ),
        ("samples/real/openioc/iocbucket_mahdi_campaign.ioc", 36),
        ("samples/real/openioc/mandiant_duqu_methodology.ioc", 25),
        (
            "samples/real/openioc/openioc11_no_description_yara_context.ioc",
            1,
        ),
    ];
    for (path, count) in cases {
        let Some(path) = crate::testdata::shared(path) else {
            return;
        };
        let ioc = parse(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(ioc.items.len(), count, "{}", path.display());
        assert!(
            ioc.id.is_some() && ioc.short_description.is_some(),
            "{}",
            path.display()
        );
        assert!(
            ioc.items.iter().all(|i| i.search.is_some()),
            "{}",
            path.display()
        );
    }
}

#[test]
fn real_mahdi_partial_ip_and_mutex() {
    let Some(path) = crate::testdata::shared("samples/real/openioc/iocbucket_mahdi_campaign.ioc")
    else {
        return;
    };
    let ioc = parse(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(ioc.last_modified, Some(ts("2014-06-16T02:32:34Z")));
    assert_eq!(ioc.authored_date, Some(ts("2014-06-16T02:10:28Z")));
    assert!(
        ioc.description
            .as_deref()
            .unwrap()
            .starts_with("For almost a year")
    );

    let ip = by_id(&ioc, "579bcfe5-8e78-4e2a-b04d-0feb1149de90");
    assert_eq!(ip.content.as_deref(), Some("174.142.57"));
    assert_eq!(ip.condition.as_deref(), Some("contains"));
    assert_eq!(ip.content_type.as_deref(), Some("IP"));
    assert_eq!(ip.search.as_deref(), Some("PortItem/remoteIP"));

    let mutex = by_id(&ioc, "ef7e472f-77d3-4d04-bd39-883a0ac6fe98");
    assert_eq!(
        mutex.search.as_deref(),
        Some("ProcessItem/HandleList/Handle/Name")
    );
    assert_eq!(mutex.content.as_deref(), Some("miMutexCopy"));
}

#[test]
fn real_duqu_mutexes_with_braces() {
    let Some(path) = crate::testdata::shared("samples/real/openioc/mandiant_duqu_methodology.ioc")
    else {
        return;
    };
    let ioc = parse(&std::fs::read(path).unwrap()).unwrap();
    let mutexes: Vec<_> = ioc
        .items
        .iter()
        .filter(|i| i.search.as_deref() == Some("ProcessItem/HandleList/Handle/Name"))
        .map(|i| i.content.as_deref().unwrap())
        .collect();
    assert_eq!(
        mutexes,
        [
            "{0de1ac9d-35da-433f-937a-8553016874f1}",
            "{0df29544-7ded-4091-a8e6-b87402e6064c}2",
            "{92D9FA5C-D148-476E-BCC9-A4BEAC2E70D7}",
        ]
    );
    assert_eq!(ioc.short_description.as_deref(), Some("DUQU (METHODOLOGY)"));
}

#[test]
fn real_openioc_1_1_files() {
    let Some(dir) = crate::testdata::shared("samples/real/openioc") else {
        return;
    };
    let plain =
        parse(&std::fs::read(dir.join("openioc11_no_description_yara_context.ioc")).unwrap())
            .unwrap();
    assert_eq!(plain.description, None);
    assert_eq!(
        plain.short_description.as_deref(),
        Some("WideCharTextExample")
    );
    assert_eq!(plain.authored_date, Some(ts("2013-07-27T23:10:56Z")));
    assert_eq!(plain.last_modified, Some(ts("2013-07-27T23:13:42Z")));
    assert_eq!(plain.items[0].search.as_deref(), Some("Yara/TextString"));
    assert_eq!(plain.items[0].content.as_deref(), Some("Borland"));

    let hx =
        parse(&std::fs::read(dir.join("fireeye_sunburst_url_hostname_hx.ioc")).unwrap()).unwrap();
    assert!(
        hx.description
            .as_deref()
            .unwrap()
            .contains("MITRE ATT&CK (r)")
    );
    assert_eq!(hx.last_modified, Some(ts("2020-12-13T19:23:17Z")));
    assert_eq!(hx.authored_date, Some(ts("2020-12-12T01:54:32Z")));
    let negated: Vec<_> = hx.items.iter().filter(|i| i.negate).collect();
    assert_eq!(negated.len(), 1);
    assert_eq!(negated[0].content.as_deref(), Some("solarwinds.com"));
    assert_eq!(negated[0].condition.as_deref(), Some("ends-with"));
}

#[test]
fn real_misp_export_keeps_non_ascii() {
    let Some(path) =
        crate::testdata::shared("samples/real/openioc/citizenlab_endless_mayfly_misp_export.ioc")
    else {
        return;
    };
    let ioc = parse(&std::fs::read(path).unwrap()).unwrap();
    assert!(
        ioc.description
            .as_deref()
            .unwrap()
            .contains("Endless Mayfly’s")
    );
    assert_eq!(ioc.authored_date, Some(ts("2019-05-10T00:00:00Z")));
    assert!(
        ioc.items
            .iter()
            .any(|i| i.search.as_deref() == Some("RouteEntryItem/Destination"))
    );
}

/// The synthetic publications: bare-date `authored_date`, the deliberately imperfect
/// items (no id, empty content), and every search kind the generator knows.
#[test]
fn synthetic_publications() {
    let Some(dir) = crate::testdata::shared("samples/decoded/publications") else {
        return;
    };
    let mut items = Vec::new();
    for id in [
        "35eaef5291b8",
        "9e9aa600bccf",
        "f52f7e6885e1",
        "fdf9e935d0cc",
    ] {
        let ioc = parse(&std::fs::read(dir.join(id).join("iocs.ioc")).unwrap()).unwrap();
        assert!(
            ioc.last_modified.is_some() && ioc.authored_date.is_some(),
            "{id}"
        );
        items.extend(ioc.items);
    }
    assert_eq!(items.iter().filter(|i| i.id.is_none()).count(), 1);
    assert_eq!(items.iter().filter(|i| i.content.is_none()).count(), 3);
    for search in [
        "FileItem/Md5sum",
        "ProcessItem/Mutex",
        "RouteEntryItem/Destination",
        "Email/Subject",
        "ServiceItem/descriptiveName",
        "RegistryItem/Path",
    ] {
        assert!(
            items.iter().any(|i| i.search.as_deref() == Some(search)),
            "{search}"
        );
    }

    let first = parse(&std::fs::read(dir.join("35eaef5291b8/iocs.ioc")).unwrap()).unwrap();
    assert_eq!(first.authored_date, Some(ts("2024-11-12T00:00:00Z")));
    assert_eq!(first.last_modified, Some(ts("2024-12-01T18:30:19Z")));
    assert_eq!(first.items[0].content.as_deref(), Some("192.0.2.154"));
}
