//! Scope `master_yara`: the Master YARA file, grouped by each rule's `report` meta.
//!
//! Rules without a `report` (or with reports switched off) become bare indicators. A group
//! joins the publication's report when the TIP lists a publication of that name; otherwise
//! its `published` is the earliest `last_modified` of its rules, or the first time this
//! connector saw the group (kept in the state), never the time of the run.

use jiff::Timestamp;

use super::anchor::{KnownPublication, ReportAnchor};
use super::publication::yara_indicator;
use super::{BuildSettings, Header, Skipped};
use crate::formats::yara::{YaraFile, YaraRule};
use crate::stix::{Bundle, PyDateTime};

/// The rules of a file grouped by `report` meta (trimmed; empty when absent), groups in
/// the order they first appear.
pub fn groups(file: &YaraFile) -> Vec<(String, Vec<&YaraRule>)> {
    let mut groups: Vec<(String, Vec<&YaraRule>)> = Vec::new();
    for rule in &file.rules {
        let name = rule
            .report
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .to_owned();
        match groups.iter_mut().find(|(group, _)| *group == name) {
            Some((_, rules)) => rules.push(rule),
            None => groups.push((name, vec![rule])),
        }
    }
    groups
}

/// The earliest `last_modified` among rules, the stable fallback for `published`.
pub fn earliest_last_modified(rules: &[&YaraRule]) -> Option<Timestamp> {
    rules.iter().filter_map(|rule| rule.last_modified).min()
}

/// The report a group goes into, or `None` when the group gets no report.
///
/// `first_seen` is when the connector first saw a group whose rules carry no date.
pub fn anchor(
    group: &str,
    rules: &[&YaraRule],
    publication: Option<&KnownPublication>,
    first_seen: Option<Timestamp>,
    settings: &BuildSettings,
) -> Option<ReportAnchor> {
    if group.is_empty() || !settings.master_yara_include_report {
        return None;
    }
    if let Some(known) = publication {
        return Some(ReportAnchor {
            name: known.name.clone(),
            published: known.published,
            settings: settings.publication.clone(),
        });
    }
    let published = earliest_last_modified(rules).or(first_seen)?;
    Some(ReportAnchor {
        name: group.to_owned(),
        published: PyDateTime::utc(published),
        settings: settings.master_yara.clone(),
    })
}

/// The bundle of one group.
#[derive(Debug)]
pub struct Built {
    pub bundle: Bundle,
    /// The report's id, when the group has one.
    pub report_id: Option<String>,
    /// Rules that became indicators.
    pub rules: usize,
}

/// Builds one group's indicators and, with an anchor, its report.
pub fn build_group(
    rules: &[&YaraRule],
    anchor: Option<&ReportAnchor>,
    settings: &BuildSettings,
    now: Timestamp,
) -> Built {
    let header = Header::new(settings.tlp, now);
    let author = header.author_id().to_owned();
    let marking = header.marking_id;
    // Without a report, the rules themselves name the bundle (two files' ungrouped rules
    // must not share a bundle id, nor a file name in a directory).
    let key = anchor.map_or_else(
        || {
            rules
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(",")
        },
        ReportAnchor::report_id,
    );
    let mut bundle = header.bundle(&format!("master_yara/{key}/{now}"));
    let mut refs = Vec::new();

    for rule in rules {
        let modified = rule.last_modified.unwrap_or(now);
        let indicator = yara_indicator(
            rule,
            modified,
            modified,
            &[],
            &author,
            marking,
            settings.confidence,
        );
        refs.push(indicator.id.clone());
        bundle.push(indicator);
    }

    let report_id = anchor.map(|anchor| {
        let report = anchor.report(refs, &author, marking, settings.confidence);
        let id = report.id.clone();
        bundle.push(report);
        id
    });
    Built {
        bundle,
        report_id,
        rules: rules.len(),
    }
}

/// The skipped rules of a file, for the run's summary.
pub fn skipped(file: &YaraFile) -> Vec<Skipped> {
    file.errors
        .iter()
        .map(|e| Skipped {
            item: match e.end_line {
                Some(end) => format!("YARA rule {} (lines {}-{end})", e.rule, e.line),
                None => format!("YARA rule {}", e.rule),
            },
            reason: e.reason.clone(),
            minor: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, report: Option<&str>, last_modified: Option<&str>) -> YaraRule {
        let text = format!("rule {name} {{ condition: true }}");
        YaraRule {
            name: name.into(),
            line: 1,
            end_line: 1,
            private: false,
            global: false,
            tags: vec![],
            description: Some("-".into()),
            report: report.map(str::to_owned),
            last_modified_text: last_modified.map(str::to_owned),
            last_modified: last_modified.map(|d| format!("{d}T00:00:00Z").parse().unwrap()),
            pattern: format!("{text}\n"),
            text,
        }
    }

    #[test]
    fn groups_follow_the_report_meta() {
        let file = YaraFile {
            rules: vec![
                rule("a", Some("R1 "), Some("2024-03-14")),
                rule("b", None, None),
                rule("c", Some("R1"), Some("2024-01-02")),
            ],
            ..Default::default()
        };
        let groups = groups(&file);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, "R1");
        assert_eq!(groups[0].1.len(), 2);
        assert_eq!(groups[1].0, "");
    }

    #[test]
    fn a_groups_report_does_not_depend_on_the_run_time() {
        let settings = BuildSettings::default();
        let rules = [
            rule("a", Some("R1"), Some("2024-03-14")),
            rule("c", Some("R1"), Some("2024-01-02")),
        ];
        let refs: Vec<&YaraRule> = rules.iter().collect();
        let anchor = anchor("R1", &refs, None, None, &settings).unwrap();
        let day1 = build_group(
            &refs,
            Some(&anchor),
            &settings,
            "2026-12-01T00:00:00Z".parse().unwrap(),
        );
        let day2 = build_group(
            &refs,
            Some(&anchor),
            &settings,
            "2026-12-02T00:00:00Z".parse().unwrap(),
        );
        assert_eq!(day1.report_id, day2.report_id);
        assert_eq!(
            anchor.published.timestamp.to_string(),
            "2024-01-02T00:00:00Z"
        );
    }

    #[test]
    fn rules_without_a_group_are_bare_indicators() {
        let settings = BuildSettings::default();
        let rules = [rule("b", None, None)];
        let refs: Vec<&YaraRule> = rules.iter().collect();
        assert!(anchor("", &refs, None, None, &settings).is_none());
        let built = build_group(
            &refs,
            None,
            &settings,
            "2026-12-01T00:00:00Z".parse().unwrap(),
        );
        assert_eq!(built.report_id, None);
        assert_eq!(built.bundle.len(), 3);
        let indicator = &serde_json::to_value(&built.bundle).unwrap()["objects"][2];
        assert!(
            indicator.get("description").is_none(),
            "'-' is no description"
        );
    }
}
