//! The Master IoC CSV: one row per IoC, grouped by publication name.
//!
//! The `master_ioc` file arrives here after [`super::payload::decode_text`]; the Master
//! IoC scope groups the rows by publication and builds one bundle per group. Rows are
//! read lazily, one at a time, and borrow from the decoded text, so a file of a million
//! rows costs the text itself and one reused record buffer.
//!
//! The format (reference/kaspersky-tip-api.md §5): comma-separated, quote character `'`
//! (a doubled `''` inside quotes is one quote), columns `uid`, `publication`,
//! `indicator`, `detection_date`, `indicator_type`.

use std::borrow::Cow;
use std::io::Cursor;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::Offset;

use super::dates::{MAX_YEAR, MIN_YEAR};

/// The reader's buffer, in bytes: a few rows.
const READ_BUFFER: usize = 1024;

/// The column names of the header, in their usual order.
const COLUMNS: [&str; 5] = [
    "uid",
    "publication",
    "indicator",
    "detection_date",
    "indicator_type",
];

/// One row of the Master IoC file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterIocRow<'a> {
    /// The 1-based line number in the file, for messages.
    pub line: u64,
    pub uid: Cow<'a, str>,
    /// The publication *name*; rows of one name form one group.
    pub publication: Cow<'a, str>,
    pub indicator: Cow<'a, str>,
    /// The detection date (`YYYY-MM-DD`), at midnight UTC.
    pub detection_date: Timestamp,
    /// `md5Hash`, `sha1Hash`, `sha256Hash`, `networkActivity`, or another kind.
    pub indicator_type: Cow<'a, str>,
}

/// A row that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

/// The rows of a Master IoC CSV, in file order; a broken row is an `Err` and the
/// iteration goes on.
///
/// Columns are found by the header's names when the first non-blank row holds all five
/// (`uid,publication,indicator,detection_date,indicator_type`, in any order, any case).
/// Otherwise they are taken by position, as the Python connector does, and that first
/// row is skipped as a header *unless it reads as a valid data row*: a file without a
/// header line loses nothing, and a header with other names is still skipped.
///
/// Blank rows (only whitespace or empty fields) are skipped. Extra columns are ignored.
/// Values are kept exactly as written, surrounding spaces included; a value borrows from
/// `text` unless it held a doubled quote.
///
/// A row is an `Err` when it has too few fields, an empty (or blank) publication or
/// indicator, or a `detection_date` that is not `YYYY-MM-DD` (month and day may have one
/// digit, as Python's `%Y-%m-%d` allows). A quoted value never spans lines: a quote that
/// is not closed on its own line makes that line an `Err`, and reading goes on at the
/// next line, so a stray quote costs one row instead of swallowing the rest of the file.
pub fn rows(text: &str) -> Rows<'_> {
    Rows::new(text)
}

/// Where a row is in the text, in 8 bytes: enough to read it again with
/// [`Rows::reread`]. A million rows cost 8 MB this way, against over 100 MB as parsed
/// rows, which is what lets a big file be grouped without a second copy of its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowAt {
    start: u32,
    line: u32,
}

impl RowAt {
    /// The row's 1-based line number.
    pub fn line(self) -> u64 {
        self.line.into()
    }
}

/// Where each column is, by field index.
#[derive(Clone, Copy, Debug)]
struct Columns {
    uid: usize,
    publication: usize,
    indicator: usize,
    detection_date: usize,
    indicator_type: usize,
}

impl Columns {
    const BY_POSITION: Self = Self {
        uid: 0,
        publication: 1,
        indicator: 2,
        detection_date: 3,
        indicator_type: 4,
    };

    /// The columns of a header row naming all five, or `None`.
    fn from_header(record: &csv::ByteRecord) -> Option<Self> {
        let index = |name: &str| {
            record.iter().position(|field| {
                let field = field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field);
                field.trim_ascii().eq_ignore_ascii_case(name.as_bytes())
            })
        };
        Some(Self {
            uid: index(COLUMNS[0])?,
            publication: index(COLUMNS[1])?,
            indicator: index(COLUMNS[2])?,
            detection_date: index(COLUMNS[3])?,
            indicator_type: index(COLUMNS[4])?,
        })
    }

    /// The number of fields a row needs.
    fn width(&self) -> usize {
        1 + self
            .uid
            .max(self.publication)
            .max(self.indicator)
            .max(self.detection_date)
            .max(self.indicator_type)
    }
}

/// The reader behind [`rows`]: an iterator over the rows, which can also read a row
/// again from where it was.
pub struct Rows<'a> {
    text: &'a str,
    reader: csv::Reader<Cursor<&'a [u8]>>,
    /// Reused for every row: reading allocates nothing once it is large enough.
    record: csv::ByteRecord,
    /// Each field's byte range in `text` when it could be found there, reused too.
    spans: Vec<Option<(usize, usize)>>,
    columns: Option<Columns>,
    /// A byte offset already passed and its 1-based line, to count lines forward from.
    /// (csv's own line counter does not count the blank lines it skips.)
    line_mark: (usize, u64),
    /// Start and line of the row last returned.
    last: (usize, u64),
    done: bool,
}

impl<'a> Rows<'a> {
    fn new(text: &'a str) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .quote(b'\'')
            .double_quote(true)
            // Small: a reread refills the buffer from the row's start.
            .buffer_capacity(READ_BUFFER)
            .from_reader(Cursor::new(text.as_bytes()));
        Self {
            text,
            reader,
            record: csv::ByteRecord::new(),
            spans: Vec::new(),
            columns: None,
            line_mark: (0, 1),
            last: (0, 0),
            done: false,
        }
    }

    /// Where the row last returned is; `None` for a row beyond 4 GiB into the text or
    /// past line 2^32.
    pub fn last_at(&self) -> Option<RowAt> {
        let (start, line) = self.last;
        Some(RowAt {
            start: u32::try_from(start).ok()?,
            line: u32::try_from(line).ok()?,
        })
    }

    /// Reads again a row this reader returned, for a reader whose iteration is over.
    ///
    /// # Errors
    ///
    /// A [`RowError`] only when `at` did not come from this reader's text.
    pub fn reread(&mut self, at: RowAt) -> Result<MasterIocRow<'a>, RowError> {
        let line = at.line();
        let start = at.start as usize;
        let columns = self.columns.unwrap_or(Columns::BY_POSITION);
        self.seek_line(start, line).map_err(|error| RowError {
            line,
            reason: format!("cannot read the row again: {error}"),
        })?;
        // Counting from the line break before the row, if that is where reading starts.
        self.line_mark = match start.checked_sub(1) {
            Some(before) if matches!(self.text.as_bytes().get(before), Some(b'\n' | b'\r')) => {
                (before, line - 1)
            }
            _ => (start, line),
        };
        self.done = false;

        match self.next_record() {
            Some(Ok((line, start))) => self.row(columns, line, start),
            Some(Err(error)) => Err(error),
            None => Err(RowError {
                line,
                reason: "no row there to read again".to_owned(),
            }),
        }
    }

    /// Reads the next record that is not blank; `None` at the end.
    fn next_record(&mut self) -> Option<Result<(u64, usize), RowError>> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(err) => {
                    // Byte records over a byte slice have no I/O or UTF-8 errors, so this
                    // is not expected; stop rather than loop on it.
                    self.done = true;
                    let line = err.position().map_or(0, csv::Position::line);
                    return Some(Err(RowError {
                        line,
                        reason: format!("unreadable CSV: {err}"),
                    }));
                }
            }
            // csv places a record after the line breaks of the empty lines before it.
            let mut start = self
                .record
                .position()
                .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
            let bytes = self.text.as_bytes();
            while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
                start += 1;
            }
            let line = self.line_at(start);

            if self
                .record
                .iter()
                .all(|field| field.trim_ascii().is_empty())
            {
                continue;
            }
            if self
                .record
                .iter()
                .any(|field| field.contains(&b'\n') || field.contains(&b'\r'))
            {
                self.resume_after_line(line, start);
                let reason = "a quote opened on this line is not closed on it".to_owned();
                return Some(Err(RowError { line, reason }));
            }
            return Some(Ok((line, start)));
        }
    }

    /// The 1-based line of byte `offset`, counting line breaks since the last call (offsets
    /// only grow, and never fall between the two bytes of a `\r\n`).
    ///
    /// A line ends as csv ends a record: at `\n`, `\r\n` or a lone `\r`. Counting only
    /// `\n` would give two rows of a file with old Mac line endings (or one stray `\r`)
    /// the same number.
    fn line_at(&mut self, offset: usize) -> u64 {
        let (from, line) = self.line_mark;
        let passed = self.text.as_bytes().get(from..offset).unwrap_or_default();
        let breaks = passed
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && passed.get(i + 1) != Some(&b'\n')))
            .count();
        let line = line + breaks as u64;
        self.line_mark = (offset.max(from), line);
        line
    }

    /// Restarts reading at the line after the one starting at byte `start` (the line ends
    /// as in [`Self::line_at`]).
    fn resume_after_line(&mut self, line: u64, start: usize) {
        // csv's line number is not used (see `line_mark`), only its byte offset.
        let rest = &self.text.as_bytes()[start..];
        let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
            self.done = true;
            return;
        };
        let next = if rest[end..].starts_with(b"\r\n") {
            end + 2
        } else {
            end + 1
        };
        if self.seek_line(start + next, line + 1).is_err() {
            self.done = true;
        }
    }

    /// Moves the reader to the line starting at byte `start`.
    ///
    /// csv drops a byte-order mark where it starts reading, as it would at the start of
    /// a file; a line in the middle of the file keeps it when read in order. So the
    /// reader starts on the line break before the line: an empty line, which it skips.
    fn seek_line(&mut self, start: usize, line: u64) -> csv::Result<()> {
        let bytes = self.text.as_bytes();
        let at = match start.checked_sub(1) {
            Some(before) if matches!(bytes.get(before), Some(b'\n' | b'\r')) => before,
            _ => start,
        };
        let mut position = csv::Position::new();
        position.set_byte(at as u64).set_line(line);
        self.reader.seek(position)
    }

    /// The current record as a row, read through `columns`.
    fn row(
        &mut self,
        columns: Columns,
        line: u64,
        start: usize,
    ) -> Result<MasterIocRow<'a>, RowError> {
        let error = |reason: String| RowError { line, reason };

        let width = columns.width();
        if self.record.len() < width {
            return Err(error(format!(
                "expected at least {width} fields, found {}",
                self.record.len()
            )));
        }
        self.locate_fields(start, width);

        let publication = self.field(columns.publication);
        if publication.trim().is_empty() {
            return Err(error("empty publication".to_owned()));
        }
        let indicator = self.field(columns.indicator);
        if indicator.trim().is_empty() {
            return Err(error("empty indicator".to_owned()));
        }
        let date_text = self.field(columns.detection_date);
        let Some(detection_date) = parse_date(&date_text) else {
            return Err(error(format!(
                "invalid detection_date {date_text:?} (expected YYYY-MM-DD)"
            )));
        };

        self.last = (start, line);
        Ok(MasterIocRow {
            line,
            uid: self.field(columns.uid),
            publication,
            indicator,
            detection_date,
            indicator_type: self.field(columns.indicator_type),
        })
    }

    /// Finds the first `count` fields of the current record in `text`, walking the raw
    /// line from `start`. A field is found when its value is the text there, bare or
    /// between quotes; every match compares the bytes, so a found range always holds
    /// exactly the field's value. After a field with a doubled quote the walk stops and
    /// the fields after it are copied instead.
    fn locate_fields(&mut self, start: usize, count: usize) {
        self.spans.clear();
        let raw = &self.text.as_bytes()[start..];
        let mut at = Some(0usize);

        for value in self.record.iter().take(count) {
            let found = at.and_then(|pos| {
                let rest = &raw[pos..];
                let ends_field =
                    |end: usize| matches!(rest.get(end), None | Some(b',' | b'\n' | b'\r'));
                if rest.starts_with(value) && ends_field(value.len()) {
                    Some((pos, value.len(), value.len() + 1))
                } else if rest.first() == Some(&b'\'')
                    && rest[1..].starts_with(value)
                    && rest.get(value.len() + 1) == Some(&b'\'')
                    && ends_field(value.len() + 2)
                {
                    Some((pos + 1, value.len(), value.len() + 3))
                } else {
                    None
                }
            });
            match found {
                Some((begin, len, consumed)) => {
                    self.spans.push(Some((start + begin, start + begin + len)));
                    at = at.map(|pos| pos + consumed);
                }
                None => {
                    self.spans.push(None);
                    at = None;
                }
            }
        }
    }

    /// Field `index` of the current record: borrowed from `text` when it was found
    /// there by [`Self::locate_fields`], copied otherwise.
    fn field(&self, index: usize) -> Cow<'a, str> {
        let text: &'a str = self.text;
        if let Some(Some((begin, end))) = self.spans.get(index)
            && let Some(value) = text.get(*begin..*end)
        {
            return Cow::Borrowed(value);
        }
        let value = self.record.get(index).unwrap_or_default();
        Cow::Owned(String::from_utf8_lossy(value).into_owned())
    }
}

impl<'a> Iterator for Rows<'a> {
    type Item = Result<MasterIocRow<'a>, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let (line, start) = match self.next_record()? {
                Ok(found) => found,
                Err(err) => return Some(Err(err)),
            };

            if let Some(columns) = self.columns {
                return Some(self.row(columns, line, start));
            }

            // The first row: a header by name, or by position (skipped unless it is data).
            if let Some(columns) = Columns::from_header(&self.record) {
                self.columns = Some(columns);
                continue;
            }
            self.columns = Some(Columns::BY_POSITION);
            if let Ok(row) = self.row(Columns::BY_POSITION, line, start) {
                return Some(Ok(row));
            }
            tracing::debug!(line, "master ioc first row taken as a header");
        }
        None
    }
}

/// `YYYY-MM-DD` (month and day with one or two digits) at midnight UTC, in the years
/// that [`super::dates::parse`] takes as real (1900..=9999): `0000-01-01` is a
/// placeholder, not a detection date.
fn parse_date(text: &str) -> Option<Timestamp> {
    let mut parts = text.trim().split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || !(1..=2).contains(&month.len()) {
        return None;
    }
    if !(1..=2).contains(&day.len()) {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year) && digits(month) && digits(day)) {
        return None;
    }
    let year: i16 = year.parse().ok()?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return None;
    }
    let date = Date::new(year, month.parse().ok()?, day.parse().ok()?).ok()?;
    Offset::UTC
        .to_timestamp(date.to_datetime(Time::midnight()))
        .ok()
}

#[cfg(test)]
mod tests;
