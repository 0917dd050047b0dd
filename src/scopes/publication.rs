//! Scope `publication`: one TIP publication becomes one bundle with its report.
//!
//! Actors become intrusion sets, industries sectors, geography tags locations; the OpenIOC
//! document and the YARA file become indicators and observables; the PDF rides on the
//! report as an attached file.

use jiff::Timestamp;

use super::iocs::{self, IocContext, IocObjects};
use super::{BuildSettings, Header, Skipped};
use crate::formats::openioc::{IndicatorItem, OpenIoc};
use crate::formats::yara::{YaraFile, YaraRule};
use crate::stix::{
    self, Bundle, Identity, Indicator, IntrusionSet, Location, PdfFile, PyDateTime, Report,
};

/// A publication with its files decoded and parsed.
#[derive(Clone, Debug, Default)]
pub struct PublicationInput {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub published: Option<PyDateTime>,
    pub updated: Option<PyDateTime>,
    pub tags: Vec<String>,
    pub tags_industry: Vec<String>,
    pub tags_geo: Vec<String>,
    pub tags_actors: Vec<String>,
    pub pdf: Option<Vec<u8>>,
    pub iocs: Option<OpenIoc>,
    pub yara: Option<YaraFile>,
}

/// The bundle of one publication and what went into it.
#[derive(Debug)]
pub struct Built {
    pub bundle: Bundle,
    pub report_id: String,
    /// OpenIOC items that became objects.
    pub iocs: usize,
    /// YARA rules that became indicators.
    pub yara_rules: usize,
    /// Items excluded by configuration.
    pub excluded: usize,
    pub skipped: Vec<Skipped>,
}

/// The report id of a publication: name and the Python text of `published`.
pub fn report_id(name: &str, published: PyDateTime) -> String {
    stix::ids::report(name, &published.isoformat())
}

/// Builds the bundle of one publication.
///
/// A publication without a `published` time takes its `updated` time, and one with
/// neither takes `now` (the TIP always sends both; a parsed file may not).
pub fn build(input: PublicationInput, settings: &BuildSettings, now: Timestamp) -> Built {
    let published = input
        .published
        .or(input.updated)
        .unwrap_or(PyDateTime::utc(now));
    let updated = input.updated.unwrap_or(published);
    let header = Header::new(settings.tlp, now);
    let author = header.author_id().to_owned();
    let marking = header.marking_id;
    let mut bundle = header.bundle(&format!("publication/{}/{}", input.id, now));
    let mut refs: Vec<String> = Vec::new();
    let mut skipped = Vec::new();
    let labels: Vec<String> = non_empty(&input.tags);

    // Context: who, which industries, where.
    let mut actors = Vec::new();
    for name in non_empty(&input.tags_actors) {
        let set = IntrusionSet {
            spec_version: Default::default(),
            id: stix::ids::intrusion_set(&name),
            created_by_ref: Some(author.clone()),
            created: now,
            modified: now,
            name,
            confidence: settings.confidence,
            object_marking_refs: vec![marking.to_owned()],
        };
        actors.push(set.id.clone());
        push(&mut bundle, &mut refs, set);
    }
    let mut targets = Vec::new();
    for name in non_empty(&input.tags_industry) {
        let sector = Identity::sector(&name, &author, now);
        targets.push(sector.id.clone());
        push(&mut bundle, &mut refs, sector);
    }
    for name in non_empty(&input.tags_geo) {
        let location = Location::new(&name, settings.regions.classify(&name), &author, now);
        targets.push(location.id.clone());
        push(&mut bundle, &mut refs, location);
    }
    for actor in &actors {
        for target in &targets {
            let rel = iocs::relationship(
                "targets",
                actor,
                target,
                Some(published.timestamp),
                &author,
                marking,
                settings.confidence,
                now,
            );
            push(&mut bundle, &mut refs, rel);
        }
    }

    // Indicators and observables from the OpenIOC document, then the YARA rules.
    let mut indicators = Vec::new();
    let mut ioc_count = 0;
    let mut excluded = 0;
    if let Some(document) = &input.iocs {
        let ctx = IocContext {
            author: &author,
            marking,
            description: document.description.as_deref(),
            labels: &labels,
            created: document
                .authored_date
                .or(document.last_modified)
                .unwrap_or(published.timestamp),
            modified: document
                .last_modified
                .or(document.authored_date)
                .unwrap_or(updated.timestamp),
            now,
            confidence: settings.confidence,
            create_observables: settings.create_observables,
            create_indicators: settings.create_indicators,
        };
        for item in &document.items {
            match ioc_value(item, &settings.publication_excluded_ioc_types) {
                Ok(Some(value)) => {
                    let objects = IocObjects::build(value, &ctx);
                    if let Some(reason) = objects.observable_refused {
                        skipped.push(Skipped {
                            item: item_name(item),
                            reason: reason.into(),
                            minor: false,
                        });
                    }
                    let ids = objects.add_to(&mut bundle);
                    refs.extend(ids.observable);
                    refs.extend(ids.indicator.clone());
                    refs.extend(ids.based_on);
                    indicators.extend(ids.indicator);
                    ioc_count += 1;
                }
                Ok(None) => excluded += 1,
                Err(reason) => skipped.push(Skipped {
                    item: item_name(item),
                    minor: is_partial_value(item, &reason),
                    reason,
                }),
            }
        }
    }
    let mut yara_count = 0;
    let yara_excluded = settings
        .publication_excluded_ioc_types
        .iter()
        .any(|t| t == "Yara" || t == "Yara/Yara");
    if let Some(file) = &input.yara {
        for error in &file.errors {
            skipped.push(Skipped {
                item: format!("YARA rule {}", error.rule),
                reason: error.to_string(),
                minor: false,
            });
        }
        if settings.create_indicators && !yara_excluded {
            for rule in &file.rules {
                let modified = rule.last_modified.unwrap_or(updated.timestamp);
                let indicator = yara_indicator(
                    rule,
                    published.timestamp,
                    modified,
                    &labels,
                    &author,
                    marking,
                    settings.confidence,
                );
                indicators.push(indicator.id.clone());
                push(&mut bundle, &mut refs, indicator);
                yara_count += 1;
            }
        } else {
            excluded += file.rules.len();
        }
    }
    for indicator in &indicators {
        for actor in &actors {
            let rel = iocs::relationship(
                "indicates",
                indicator,
                actor,
                Some(published.timestamp),
                &author,
                marking,
                settings.confidence,
                now,
            );
            push(&mut bundle, &mut refs, rel);
        }
    }

    // The report itself, referencing only real objects (the author when nothing else).
    if refs.is_empty() {
        refs.push(author.clone());
    }
    let report = Report {
        spec_version: Default::default(),
        id: report_id(&input.name, published),
        created_by_ref: Some(author.clone()),
        created: published.timestamp,
        modified: updated.timestamp,
        name: input.name,
        description: input.description.filter(|d| !d.is_empty()),
        report_types: vec![settings.publication.report_type.clone()],
        published: published.timestamp,
        object_refs: crate::stix::unique_refs(refs),
        labels,
        confidence: settings.confidence,
        object_marking_refs: vec![marking.to_owned()],
        x_opencti_files: input
            .pdf
            .map(|data| PdfFile {
                name: format!("report_{}.pdf", input.id),
                data,
            })
            .into_iter()
            .collect(),
        x_opencti_report_status: settings.publication.status.legacy,
        x_opencti_workflow_id: settings.publication.status.workflow_id.clone(),
    };
    let report_id = report.id.clone();
    bundle.push(report);

    Built {
        bundle,
        report_id,
        iocs: ioc_count,
        yara_rules: yara_count,
        excluded,
        skipped,
    }
}

/// Adds an object and references it from the report.
fn push(bundle: &mut Bundle, refs: &mut Vec<String>, object: impl Into<stix::StixObject>) {
    let object = object.into();
    let id = object.id().to_owned();
    if bundle.push(object) {
        refs.push(id);
    }
}

/// The non-blank entries of a tag list, trimmed.
fn non_empty(tags: &[String]) -> Vec<String> {
    tags.iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// How an OpenIOC item is named in messages.
fn item_name(item: &IndicatorItem) -> String {
    match (&item.id, &item.search) {
        (Some(id), _) => format!("OpenIOC item {id}"),
        (None, Some(search)) => format!("OpenIOC item without id ({search})"),
        (None, None) => "OpenIOC item without id".to_owned(),
    }
}

/// The value of an item, `Ok(None)` when configuration excludes it, `Err` when it cannot
/// be imported.
fn ioc_value(
    item: &IndicatorItem,
    excluded: &[String],
) -> Result<Option<stix::ObservableValue>, String> {
    let search = item.search.as_deref().ok_or("no context search")?;
    let last_segment = search.rsplit('/').next().unwrap_or(search);
    if excluded.iter().any(|e| e == search || e == last_segment) {
        return Ok(None);
    }
    if item.id.is_none() {
        return Err("no id".into());
    }
    if item.negate {
        return Err("negated condition (the value is what is NOT seen)".into());
    }
    if item.content_type.is_none() {
        return Err("no content type".into());
    }
    let value = item.content.as_deref().ok_or("empty content")?;
    let kind = iocs::openioc_search_kind(search)
        .ok_or_else(|| format!("search {search:?} has no STIX mapping"))?;
    iocs::observable_value(kind, value).map(Some)
}

/// A partial value under a `contains` condition (such as the IP prefix `174.142.57`):
/// common in real OpenIOC files, not an import problem, so it is only logged at debug.
fn is_partial_value(item: &IndicatorItem, reason: &str) -> bool {
    item.condition.as_deref() == Some("contains") && reason.ends_with("is not an IP address")
}

/// A YARA indicator.
pub(crate) fn yara_indicator(
    rule: &YaraRule,
    created: Timestamp,
    modified: Timestamp,
    labels: &[String],
    author: &str,
    marking: &str,
    confidence: Option<u8>,
) -> Indicator {
    let (created, modified) = iocs::ordered(created, modified);
    Indicator {
        spec_version: Default::default(),
        id: stix::ids::indicator(&rule.pattern),
        created_by_ref: Some(author.to_owned()),
        created,
        modified,
        name: rule.name.clone(),
        description: rule
            .description
            .clone()
            .filter(|d| d.trim() != "-" && !d.is_empty()),
        pattern: rule.pattern.clone(),
        pattern_type: "yara",
        pattern_version: "2.1",
        valid_from: created,
        labels: labels.to_vec(),
        confidence,
        object_marking_refs: vec![marking.to_owned()],
        x_opencti_main_observable_type: None,
        x_opencti_score: Some(75),
    }
}

/// The objects of a bare OpenIOC document: author, marking and IoC objects, no report.
pub fn build_openioc(document: &OpenIoc, settings: &BuildSettings, now: Timestamp) -> Built {
    let header = Header::new(settings.tlp, now);
    let author = header.author_id().to_owned();
    let key = document.id.clone().unwrap_or_else(|| {
        let items: Vec<&str> = document
            .items
            .iter()
            .filter_map(|i| i.content.as_deref())
            .collect();
        items.join("\n")
    });
    let mut bundle = header.bundle(&format!("openioc/{key}/{now}"));
    let ctx = IocContext {
        author: &author,
        marking: header.marking_id,
        description: document.description.as_deref(),
        labels: &[],
        created: document
            .authored_date
            .or(document.last_modified)
            .unwrap_or(now),
        modified: document
            .last_modified
            .or(document.authored_date)
            .unwrap_or(now),
        now,
        confidence: settings.confidence,
        create_observables: settings.create_observables,
        create_indicators: settings.create_indicators,
    };
    let (mut iocs, mut excluded, mut skipped) = (0, 0, Vec::new());
    for item in &document.items {
        match ioc_value(item, &settings.publication_excluded_ioc_types) {
            Ok(Some(value)) => {
                let objects = IocObjects::build(value, &ctx);
                if let Some(reason) = objects.observable_refused {
                    skipped.push(Skipped {
                        item: item_name(item),
                        reason: reason.into(),
                        minor: false,
                    });
                }
                objects.add_to(&mut bundle);
                iocs += 1;
            }
            Ok(None) => excluded += 1,
            Err(reason) => skipped.push(Skipped {
                item: item_name(item),
                minor: is_partial_value(item, &reason),
                reason,
            }),
        }
    }
    Built {
        bundle,
        report_id: String::new(),
        iocs,
        yara_rules: 0,
        excluded,
        skipped,
    }
}

/// A TIP publication with its payloads decoded and parsed.
///
/// A payload that cannot be decoded or parsed is reported in the returned list and left
/// out; the rest of the publication still becomes a report (a broken YARA file does not
/// lose the PDF and the OpenIOC indicators).
pub fn decode(
    publication: crate::tip::Publication,
    max_payload: u64,
) -> (PublicationInput, Vec<Skipped>) {
    use crate::formats::{openioc, payload, yara};

    let mut skipped = Vec::new();
    let id = publication.id;
    let mut report = |what: &str, reason: String| {
        skipped.push(Skipped {
            item: format!("publication {id} {what}"),
            reason,
            minor: false,
        });
    };

    // Each payload's encoded text is given up to its decoding, which reuses its buffer.
    let pdf = publication.report_pdf.and_then(|encoded| {
        payload::decode_owned(encoded, max_payload)
            .map_err(|e| report("PDF", e.to_string()))
            .ok()
    });
    let iocs = publication.report_iocs.and_then(|encoded| {
        let bytes = payload::decode_owned(encoded, max_payload)
            .map_err(|e| report("OpenIOC payload", e.to_string()))
            .ok()?;
        openioc::parse(&bytes)
            .map_err(|e| report("OpenIOC document", e.to_string()))
            .ok()
    });
    let yara = publication.report_yara.and_then(|encoded| {
        let text = payload::decode_text(&encoded, max_payload)
            .map_err(|e| report("YARA payload", e.to_string()))
            .ok()?;
        Some(yara::split(&text))
    });

    let input = PublicationInput {
        id: id.clone(),
        name: publication.name,
        description: Some(publication.desc).filter(|d| !d.is_empty()),
        published: Some(publication.published),
        updated: Some(publication.updated),
        tags: publication.tags,
        tags_industry: publication.tags_industry,
        tags_geo: publication.tags_geo,
        tags_actors: publication.tags_actors,
        pdf,
        iocs,
        yara,
    };
    (input, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, search: &str, condition: &str, content: &str) -> IndicatorItem {
        IndicatorItem {
            id: Some(id.into()),
            condition: Some(condition.into()),
            search: Some(search.into()),
            content_type: Some("string".into()),
            content: Some(content.into()),
            ..Default::default()
        }
    }

    #[test]
    fn partial_ips_are_minor_skips_and_make_no_object() {
        let document = OpenIoc {
            items: vec![
                item("a", "PortItem/remoteIP", "contains", "174.142.57"),
                item("b", "PortItem/remoteIP", "is", "999.1.1"),
                item("c", "ProcessItem/HandleList/Handle/Name", "is", "Global\\m"),
            ],
            ..Default::default()
        };
        let now = "2026-12-04T00:00:00Z".parse().unwrap();
        let built = build_openioc(&document, &BuildSettings::default(), now);
        let minor: Vec<bool> = built.skipped.iter().map(|s| s.minor).collect();
        assert_eq!(
            minor,
            [true, false],
            "only the contains condition is expected noise"
        );
        let json = serde_json::to_string(&built.bundle).unwrap();
        assert!(!json.contains("174.142.57"));
        assert!(json.contains("\"type\":\"mutex\""));
    }

    #[test]
    fn a_publication_with_nothing_references_its_author_only() {
        let input = PublicationInput {
            id: "p1".into(),
            name: "Empty".into(),
            published: Some(PyDateTime::utc("2024-01-01T00:00:00Z".parse().unwrap())),
            pdf: Some(b"%PDF-1.4".to_vec()),
            ..Default::default()
        };
        let now = "2026-12-04T00:00:00Z".parse().unwrap();
        let built = build(input, &BuildSettings::default(), now);
        let json = serde_json::to_value(&built.bundle).unwrap();
        let objects = json["objects"].as_array().unwrap();
        assert_eq!(objects.len(), 3, "author, marking, report");
        let report = &objects[2];
        assert_eq!(report["object_refs"], serde_json::json!([objects[0]["id"]]));
        assert_eq!(report["x_opencti_files"][0]["name"], "report_p1.pdf");
    }
}
