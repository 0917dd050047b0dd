//! When a run is due, and which master files a run fetches.

use std::time::Duration;

use jiff::{Timestamp, tz::TimeZone};

/// Whether a run is due: no previous run, or the previous one is at least `interval` old.
pub fn run_is_due(latest_run: Option<Timestamp>, interval: Duration, now: Timestamp) -> bool {
    match latest_run {
        None => true,
        Some(latest) => {
            let elapsed = now.duration_since(latest);
            elapsed.as_secs() >= interval.as_secs() as i64
        }
    }
}

/// Whether a master file is fetched on this run.
///
/// With no weekday (empty or 0) it is fetched on every run; otherwise only on that ISO
/// weekday (1 = Monday .. 7 = Sunday) and only if the last fetch was on an earlier date,
/// both in UTC.
pub fn master_file_is_due(
    weekday: Option<u8>,
    last_fetch: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    let Some(weekday) = weekday.filter(|&d| d != 0) else {
        return true;
    };
    let today = now.to_zoned_datetime(TimeZone::UTC).date();
    if today.weekday().to_monday_one_offset() as u8 != weekday {
        return false;
    }
    match last_fetch {
        None => true,
        Some(last) => last.to_zoned_datetime(TimeZone::UTC).date() < today,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn runs_are_due_after_the_interval() {
        let hour = Duration::from_secs(3600);
        assert!(run_is_due(None, hour, t("2026-12-04T00:00:00Z")));
        assert!(!run_is_due(
            Some(t("2026-12-04T00:00:00Z")),
            hour,
            t("2026-12-04T00:59:59Z")
        ));
        assert!(run_is_due(
            Some(t("2026-12-04T00:00:00Z")),
            hour,
            t("2026-12-04T01:00:00Z")
        ));
    }

    #[test]
    fn master_files_follow_the_iso_weekday() {
        // 2026-12-07 is a Monday.
        let monday = t("2026-12-07T10:00:00Z");
        assert!(master_file_is_due(Some(1), None, monday));
        assert!(!master_file_is_due(Some(2), None, monday));
        assert!(!master_file_is_due(
            Some(1),
            Some(t("2026-12-07T01:00:00Z")),
            monday
        ));
        assert!(master_file_is_due(
            Some(1),
            Some(t("2026-11-30T23:00:00Z")),
            monday
        ));
        assert!(master_file_is_due(None, Some(monday), monday));
        assert!(master_file_is_due(Some(0), Some(monday), monday));
        assert!(master_file_is_due(Some(7), None, t("2026-12-06T10:00:00Z")));
    }
}
