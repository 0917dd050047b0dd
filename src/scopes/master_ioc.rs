//! Scope `master_ioc`: the Master IoC file, grouped by publication name, one bundle a group.
//!
//! A group's report joins the publication's own report when the TIP lists a publication
//! of that name (same name, same `published`, hence the same id: OpenCTI merges them);
//! otherwise its `published` is the group's earliest detection date, which does not move
//! from one run to the next (DESIGN.md difference 9).

use foldhash::{HashMap, HashMapExt};
use std::borrow::Cow;

use jiff::Timestamp;

use super::anchor::{KnownPublication, ReportAnchor};
use super::iocs::{self, IocContext, IocObjects};
use super::{BuildSettings, Header, Skipped};
use crate::formats::master_ioc::{MasterIocRow, RowAt, Rows};
use crate::stix::{Bundle, PyDateTime};

/// The report a Master IoC group goes into.
///
/// `earliest` is the group's earliest detection date; it stands in for the publication's
/// time when the publication is not known, written naive as the Python connector wrote
/// detection dates (so a group whose first row is its earliest keeps its old id).
pub fn anchor(
    group: &str,
    publication: Option<&KnownPublication>,
    earliest: Timestamp,
    settings: &BuildSettings,
) -> ReportAnchor {
    match publication {
        Some(known) => ReportAnchor {
            name: known.name.clone(),
            published: known.published,
            settings: settings.publication.clone(),
        },
        None => ReportAnchor {
            name: group.to_owned(),
            published: PyDateTime::naive(earliest),
            settings: settings.master_ioc.clone(),
        },
    }
}

/// The bundle of one group.
#[derive(Debug)]
pub struct Built {
    pub bundle: Bundle,
    pub report_id: String,
    /// Rows that became objects.
    pub iocs: usize,
    /// Rows excluded by configuration.
    pub excluded: usize,
    pub skipped: Vec<Skipped>,
}

/// The bundle of the group `name`: its report joins `known` when the TIP lists that
/// publication, else it is dated by the group's earliest detection date. `None` when no
/// row became an object.
pub fn build(
    name: &str,
    rows: &[MasterIocRow<'_>],
    known: Option<&KnownPublication>,
    settings: &BuildSettings,
    now: Timestamp,
) -> Option<Built> {
    let earliest = rows.iter().map(|r| r.detection_date).min().unwrap_or(now);
    let anchor = anchor(name, known, earliest, settings);
    build_group(rows, &anchor, settings, now)
}

/// Builds the bundle of one group; `None` when no row of it became an object.
pub fn build_group<'r, 'a: 'r>(
    rows: impl IntoIterator<Item = &'r MasterIocRow<'a>>,
    anchor: &ReportAnchor,
    settings: &BuildSettings,
    now: Timestamp,
) -> Option<Built> {
    let header = Header::new(settings.tlp, now);
    let author = header.author_id().to_owned();
    let marking = header.marking_id;
    let report_id = anchor.report_id();
    let mut bundle = header.bundle(&format!("master_ioc/{report_id}/{now}"));
    let mut refs = Vec::new();
    let mut skipped = Vec::new();
    let (mut ioc_count, mut excluded) = (0, 0);

    for row in rows {
        if settings
            .master_ioc_excluded_types
            .iter()
            .any(|t| *t == row.indicator_type)
        {
            excluded += 1;
            continue;
        }
        let value = iocs::master_ioc_type_kind(&row.indicator_type)
            .ok_or_else(|| {
                format!(
                    "indicator type {:?} has no STIX mapping",
                    row.indicator_type
                )
            })
            .and_then(|kind| iocs::observable_value(kind, &row.indicator));
        let value = match value {
            Ok(value) => value,
            Err(reason) => {
                skipped.push(Skipped {
                    item: format!("Master IoC line {}", row.line),
                    reason,
                    minor: false,
                });
                continue;
            }
        };
        let ctx = IocContext {
            author: &author,
            marking,
            description: Some(&row.publication),
            labels: &[],
            created: row.detection_date,
            modified: row.detection_date,
            now,
            confidence: settings.confidence,
            create_observables: settings.create_observables,
            create_indicators: settings.create_indicators,
        };
        let ids = IocObjects::build(value, &ctx).add_to(&mut bundle);
        refs.extend(
            [ids.observable, ids.indicator, ids.based_on]
                .into_iter()
                .flatten(),
        );
        ioc_count += 1;
    }
    if refs.is_empty() {
        return None;
    }

    bundle.push(anchor.report(refs, &author, marking, settings.confidence));
    Some(Built {
        bundle,
        report_id,
        iocs: ioc_count,
        excluded,
        skipped,
    })
}

/// The rows of one publication name, by position: they are read again, with
/// [`Rows::reread`], only when the group is built.
#[derive(Debug)]
pub struct Group<'a> {
    pub name: Cow<'a, str>,
    pub rows: Vec<RowAt>,
}

/// A whole file read and grouped.
#[derive(Debug)]
pub struct Grouped<'a> {
    /// Groups in the order their names first appear.
    pub groups: Vec<Group<'a>>,
    /// Rows that could not be read, named by line.
    pub broken: Vec<Skipped>,
    /// Rows read, broken ones included.
    pub rows: usize,
}

/// Reads every row of `reader` and groups the rows by publication name.
///
/// Only each row's position is kept (8 bytes), so grouping holds no second copy of the
/// rows; the names borrow from the text.
pub fn group_rows<'a>(reader: &mut Rows<'a>) -> Grouped<'a> {
    let mut slots: HashMap<Cow<'a, str>, usize> = HashMap::new();
    let mut grouped = Grouped {
        groups: Vec::new(),
        broken: Vec::new(),
        rows: 0,
    };
    while let Some(row) = reader.next() {
        grouped.rows += 1;
        let broken = |line: u64, reason: String| Skipped {
            item: format!("Master IoC line {line}"),
            reason,
            minor: false,
        };
        let row = match row {
            Ok(row) => row,
            Err(error) => {
                grouped.broken.push(broken(error.line, error.reason));
                continue;
            }
        };
        let Some(at) = reader.last_at() else {
            let reason = "beyond 4 GiB or 2^32 lines into the file".to_owned();
            grouped.broken.push(broken(row.line, reason));
            continue;
        };

        let slot = match slots.get(&row.publication) {
            Some(&slot) => slot,
            None => {
                let slot = grouped.groups.len();
                slots.insert(row.publication.clone(), slot);
                grouped.groups.push(Group {
                    name: row.publication,
                    rows: Vec::new(),
                });
                slot
            }
        };
        grouped.groups[slot].rows.push(at);
    }
    grouped
}

/// The rows of `group`, read again; a row that cannot be (not expected: each was read
/// once already) is named in `skipped`.
pub fn read_group<'a>(
    reader: &mut Rows<'a>,
    group: &Group<'_>,
    skipped: &mut Vec<Skipped>,
) -> Vec<MasterIocRow<'a>> {
    let mut rows = Vec::with_capacity(group.rows.len());
    for &at in &group.rows {
        match reader.reread(at) {
            Ok(row) => rows.push(row),
            Err(error) => skipped.push(Skipped {
                item: format!("Master IoC line {}", error.line),
                reason: error.reason,
                minor: false,
            }),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        line: u64,
        indicator: &'static str,
        date: &str,
        kind: &'static str,
    ) -> MasterIocRow<'static> {
        MasterIocRow {
            line,
            uid: Cow::Borrowed("uid"),
            publication: Cow::Borrowed("Junipershrike infrastructure update 005"),
            indicator: Cow::Borrowed(indicator),
            detection_date: format!("{date}T00:00:00Z").parse().unwrap(),
            indicator_type: Cow::Borrowed(kind),
        }
    }

    #[test]
    fn an_unknown_publication_keeps_the_python_report_id_for_its_earliest_date() {
        let settings = BuildSettings::default();
        let rows = [
            row(2, "203.0.113.246", "2024-07-31", "networkActivity"),
            row(
                3,
                "89b66061e8c60234faebd140c6a21866",
                "2024-08-02",
                "md5Hash",
            ),
            row(4, "x", "2024-08-03", "mutexName"),
        ];
        let earliest = rows.iter().map(|r| r.detection_date).min().unwrap();
        let anchor = anchor(&rows[0].publication, None, earliest, &settings);
        let now = "2026-12-04T00:00:00Z".parse().unwrap();
        let built = build_group(&rows, &anchor, &settings, now).unwrap();
        // The Python connector's id for this group (samples/expected/master-ioc.jsonl).
        assert_eq!(
            built.report_id,
            "report--51321122-2963-5637-818b-d69dc2579801"
        );
        assert_eq!((built.iocs, built.excluded, built.skipped.len()), (1, 1, 1));
        assert_eq!(built.skipped[0].item, "Master IoC line 4");
    }

    #[test]
    fn a_known_publication_lends_its_report_identity() {
        let settings = BuildSettings::default();
        let published = PyDateTime::utc("2024-11-29T20:08:03Z".parse().unwrap());
        let known = KnownPublication {
            name: "Some publication".into(),
            published,
        };
        let rows = [row(2, "198.51.100.7", "2024-12-01", "networkActivity")];
        let anchor = anchor(
            "Some publication",
            Some(&known),
            rows[0].detection_date,
            &settings,
        );
        let now = "2026-12-04T00:00:00Z".parse().unwrap();
        let built = build_group(&rows, &anchor, &settings, now).unwrap();
        assert_eq!(
            built.report_id,
            crate::stix::ids::report("Some publication", "2024-11-29T20:08:03+00:00")
        );
    }

    #[test]
    fn a_group_without_objects_is_not_sent() {
        let settings = BuildSettings::default();
        let rows = [row(2, "ab", "2024-07-31", "md5Hash")];
        let anchor = anchor("g", None, rows[0].detection_date, &settings);
        let now = "2026-12-04T00:00:00Z".parse().unwrap();
        assert!(build_group(&rows, &anchor, &settings, now).is_none());
    }
}
