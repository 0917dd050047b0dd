//! What the two Master scopes share: fetching their file and making it text.
//!
//! The file comes as one JSON answer holding base64 of gzip. Each step hands its buffer
//! on and the step before is freed, so the peak is the compressed and the decompressed
//! file side by side, never the encoded text too (see [`payload::decode_owned`]). A line
//! that is not UTF-8 costs that line of a Master IoC file, and every rule that spans it in
//! a Master YARA file (a blanked line would silently change such a rule); never the file.

use super::importer::{Importer, ScopeReport, timed};
use crate::formats::payload;
use crate::formats::text::{self, BadLine, Mend};
use crate::scopes::Skipped;
use crate::tip::TipError;

/// Which Master file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MasterFile {
    Ioc,
    Yara,
}

impl MasterFile {
    fn title(self) -> &'static str {
        match self {
            MasterFile::Ioc => "Master IoC",
            MasterFile::Yara => "Master YARA",
        }
    }

    fn mend(self) -> Mend {
        match self {
            MasterFile::Ioc => Mend::Blank,
            MasterFile::Yara => Mend::Replace,
        }
    }
}

/// The file's text and its lines that were not UTF-8, or `None` with the failure written
/// into `report`.
///
/// Master IoC: bad lines are blanked and reported here as skipped, one row each. Master
/// YARA: they are mended with [`Mend::Replace`] and left to the caller, which must drop
/// the rules they fall in ([`crate::formats::yara::split_except`]).
pub async fn fetch_text(
    importer: &Importer,
    file: MasterFile,
    report: &mut ScopeReport,
) -> Option<(String, Vec<BadLine>)> {
    let title = file.title();
    let fetched = match file {
        MasterFile::Ioc => timed("get_master_ioc", importer.tip.get_master_ioc()).await,
        MasterFile::Yara => timed("get_master_yara", importer.tip.get_master_yara()).await,
    };
    let encoded = match fetched {
        Ok(encoded) => encoded,
        Err(TipError::Cancelled { .. }) => {
            // A stop request: the file is fetched again next run, nothing failed.
            report.interrupted = true;
            return None;
        }
        Err(error) => {
            report.fail(format!("cannot fetch the {title} file: {error}"), "tip");
            return None;
        }
    };

    let limit = importer.kaspersky.max_payload_bytes;
    let decoded = tokio::task::block_in_place(|| {
        let raw = payload::decode_owned(encoded, limit).map_err(|e| e.to_string())?;
        text::mostly_utf8(raw, file.mend()).map_err(|e| e.to_string())
    });
    let (text, bad_lines) = match decoded {
        Ok(decoded) => decoded,
        Err(error) => {
            let what = format!("the {title} file cannot be decoded: {error}");
            report.fail(what, "bad_file");
            return None;
        }
    };
    if file == MasterFile::Yara {
        return Some((text, bad_lines));
    }
    report.skip(
        bad_lines
            .iter()
            .map(|bad| Skipped {
                item: format!("{title} line {}", bad.line),
                reason: format!("not UTF-8 (invalid byte at offset {})", bad.offset),
                minor: false,
            })
            .collect(),
    );
    Some((text, bad_lines))
}
