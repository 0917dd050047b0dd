//! The Master IoC CSV, generated row by row so that a million rows never sit in memory as
//! rows (only as the finished text, when a world is built in memory).
//!
//! Layout: header `uid,publication,indicator,detection_date,indicator_type`, comma
//! separated, `'` as the quote character (a publication name with a comma is quoted).

use std::io::{self, Write};

use super::publications::{EPOCH, date};
use super::rng::Rng;
use super::values;

/// The header line of the file.
pub const HEADER: &str = "uid,publication,indicator,detection_date,indicator_type";

/// Types the connector does not know; rows of these must be skipped.
const UNKNOWN_TYPES: &[&str] = &["fileName", "mutexName", "urlActivity"];

/// Draws that give one row of each kind, for the first rows.
const FIRST_KINDS: [u64; 7] = [0, 30, 40, 60, 75, 80, 97];

/// One row of the Master IoC file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterIocRow {
    pub uid: String,
    /// The publication *name* the row belongs to (rows of a name form a group).
    pub publication: String,
    pub indicator: String,
    /// `YYYY-MM-DD`.
    pub detection_date: String,
    /// `md5Hash`, `sha1Hash`, `sha256Hash`, `networkActivity`, or an unknown type.
    pub indicator_type: &'static str,
}

/// The rows of a Master IoC file, drawn one at a time.
///
/// The first seven rows are one of each kind (MD5, SHA-1, SHA-256, an IPv4, an IPv6 and a
/// domain as `networkActivity`, an unknown type); the rest are drawn with weights close
/// to a real file's.
///
/// Each row's publication is drawn at random among the groups, unless
/// [`MasterIocRows::in_runs`] gave the size of each group: then the rows come group by
/// group, in runs of those sizes.
#[derive(Clone, Debug)]
pub struct MasterIocRows {
    rng: Rng,
    groups: Vec<String>,
    next: usize,
    count: usize,
    runs: Option<Runs>,
}

/// Group sizes of a file written group by group, and where the writing is.
#[derive(Clone, Debug)]
struct Runs {
    sizes: Vec<usize>,
    /// The group of the current run.
    group: usize,
    /// Rows of the current run still to come.
    left: usize,
}

impl MasterIocRows {
    /// `count` rows spread over `groups` (publication names; at least one).
    pub fn new(seed: u64, count: usize, groups: Vec<String>) -> MasterIocRows {
        assert!(
            !groups.is_empty(),
            "Master IoC rows need at least one group"
        );
        MasterIocRows {
            rng: Rng::new(seed, 0x4d49_4f43),
            groups,
            next: 0,
            count,
            runs: None,
        }
    }

    /// Rows come in runs: `sizes[0]` rows of the first group, then `sizes[1]` of the
    /// second, and so on. Benchmarks use this to get groups of controlled sizes (a real
    /// file's groups hold 100 to 1,000 rows). Rows past the sum of `sizes`, if any, are
    /// spread at random as without runs.
    ///
    /// # Panics
    ///
    /// When there are more sizes than groups.
    pub fn in_runs(mut self, sizes: Vec<usize>) -> MasterIocRows {
        assert!(
            sizes.len() <= self.groups.len(),
            "{} runs need as many groups, not {}",
            sizes.len(),
            self.groups.len()
        );
        let left = sizes.first().copied().unwrap_or(0);
        self.runs = Some(Runs {
            sizes,
            group: 0,
            left,
        });
        self
    }

    /// The group of the next row in runs, or `None` when no run is left.
    fn next_run_group(&mut self) -> Option<usize> {
        let runs = self.runs.as_mut()?;
        while runs.left == 0 {
            runs.group += 1;
            runs.left = *runs.sizes.get(runs.group)?;
        }
        runs.left -= 1;
        Some(runs.group)
    }
}

impl Iterator for MasterIocRows {
    type Item = MasterIocRow;

    fn next(&mut self) -> Option<MasterIocRow> {
        if self.next >= self.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let rng = &mut self.rng;

        let kind = match FIRST_KINDS.get(index) {
            Some(&kind) => kind,
            None => rng.below(100),
        };
        let (indicator_type, indicator) = match kind {
            0..30 => ("md5Hash", rng.hex(32)),
            30..40 => ("sha1Hash", rng.hex(40)),
            40..60 => ("sha256Hash", rng.hex(64)),
            60..75 => ("networkActivity", values::ipv4(rng)),
            75..80 => ("networkActivity", values::ipv6(rng)),
            80..97 => ("networkActivity", values::host(rng)),
            _ => {
                let unknown = *rng.pick(UNKNOWN_TYPES);
                let value = match unknown {
                    "fileName" => format!("setup_{}.exe", rng.hex(6)),
                    "mutexName" => format!(r"Global\Mx_{}", rng.hex(8)),
                    _ => values::url(rng),
                };
                (unknown, value)
            }
        };
        let group = match self.next_run_group() {
            Some(group) => group,
            None => self.rng.index(self.groups.len()),
        };
        let rng = &mut self.rng;
        let detected = EPOCH + rng.below(730) as i64 * 86_400;

        Some(MasterIocRow {
            uid: rng.hex(32),
            publication: self.groups[group].clone(),
            indicator,
            detection_date: date(detected),
            indicator_type,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.count - self.next;
        (left, Some(left))
    }
}

/// Writes the header and the rows; returns how many rows of each type were written.
pub fn write_csv<W: Write>(
    rows: impl Iterator<Item = MasterIocRow>,
    mut out: W,
) -> io::Result<Vec<(&'static str, usize)>> {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    writeln!(out, "{HEADER}")?;
    for row in rows {
        writeln!(
            out,
            "{},{},{},{},{}",
            row.uid,
            quote(&row.publication),
            quote(&row.indicator),
            row.detection_date,
            row.indicator_type
        )?;
        match counts
            .iter_mut()
            .find(|(kind, _)| *kind == row.indicator_type)
        {
            Some((_, n)) => *n += 1,
            None => counts.push((row.indicator_type, 1)),
        }
    }
    out.flush()?;
    counts.sort();
    Ok(counts)
}

/// A field as the file writes it: wrapped in `'` when it holds a comma or a quote.
fn quote(field: &str) -> std::borrow::Cow<'_, str> {
    if field.contains([',', '\'', '\n']) {
        format!("'{}'", field.replace('\'', "''")).into()
    } else {
        field.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> Vec<String> {
        vec![
            "Plain name".to_owned(),
            "Name in Korea, Republic of".to_owned(),
        ]
    }

    #[test]
    fn rows_cover_every_kind_and_are_deterministic() {
        let rows: Vec<MasterIocRow> = MasterIocRows::new(9, 50, groups()).collect();
        assert_eq!(rows.len(), 50);
        assert_eq!(
            rows,
            MasterIocRows::new(9, 50, groups()).collect::<Vec<_>>()
        );
        let kinds: Vec<&str> = rows[..7].iter().map(|r| r.indicator_type).collect();
        assert_eq!(
            kinds[..6],
            [
                "md5Hash",
                "sha1Hash",
                "sha256Hash",
                "networkActivity",
                "networkActivity",
                "networkActivity"
            ]
        );
        assert!(UNKNOWN_TYPES.contains(&kinds[6]));
        assert!(rows[3].indicator.parse::<std::net::Ipv4Addr>().is_ok());
        assert!(rows[4].indicator.parse::<std::net::Ipv6Addr>().is_ok());
        assert!(rows[5].indicator.ends_with(".com") || rows[5].indicator.contains(".example."));
    }

    #[test]
    fn rows_in_runs_come_group_by_group() {
        let groups: Vec<String> = (0..4).map(|i| format!("group {i}")).collect();
        let rows: Vec<MasterIocRow> = MasterIocRows::new(5, 12, groups)
            .in_runs(vec![3, 0, 4, 2])
            .collect();
        let names: Vec<&str> = rows.iter().map(|r| r.publication.as_str()).collect();
        let mut expected = vec!["group 0"; 3];
        expected.extend(["group 2"; 4]);
        expected.extend(["group 3"; 2]);
        assert_eq!(names[..9], expected[..]);
        assert_eq!(rows.len(), 12, "rows past the runs are still written");
    }

    #[test]
    fn the_csv_quotes_names_with_commas_and_reads_back() {
        let mut text = Vec::new();
        let counts = write_csv(MasterIocRows::new(2, 40, groups()), &mut text).unwrap();
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), 40);
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with(HEADER));
        assert!(text.contains(",'Name in Korea, Republic of',"));

        let mut reader = csv::ReaderBuilder::new()
            .quote(b'\'')
            .from_reader(text.as_bytes());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 40);
        assert!(records.iter().all(|r| r.len() == 5));
        assert!(
            records
                .iter()
                .any(|r| &r[1] == "Name in Korea, Republic of")
        );
    }
}
