//! Which TIP failures are worth another try, and how long to wait before it.
//!
//! Issue #5942 of the Python connector: one 503 used to abort a whole run. The policy here
//! retries 429, 500, 502, 503, 504, connection failures and timeouts with exponential
//! backoff, honours `Retry-After`, and never retries any other 4xx. Everything in this
//! module is a pure function so that the policy is tested without a network.

use std::time::Duration;

use jiff::Timestamp;

/// What one try ended with, reduced to what the retry decision needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The TIP answered with a non-success HTTP status.
    Status {
        code: u16,
        /// The `Retry-After` header, already turned into a delay.
        retry_after: Option<Duration>,
    },
    /// The TCP connection could not be opened (refused, reset, DNS).
    Connect,
    /// No answer (or no further bytes) within a timeout.
    Timeout,
    /// The connection broke while the answer was read.
    Interrupted,
    /// Anything a new try cannot fix: TLS handshake, bad body, certificate.
    Permanent,
}

impl Failure {
    /// The HTTP status, when the failure is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Failure::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// How many times to try and how long to wait between tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first try.
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each later one.
    pub base_delay: Duration,
    /// Cap for the backoff and for `Retry-After`.
    pub max_delay: Duration,
}

/// True for the HTTP statuses that a later try may not get again.
///
/// ```
/// use connector_kaspersky::tip::retry::is_transient_status;
/// assert!(is_transient_status(503));
/// assert!(is_transient_status(429));
/// assert!(!is_transient_status(404));
/// assert!(!is_transient_status(401));
/// ```
pub fn is_transient_status(code: u16) -> bool {
    matches!(code, 429 | 500 | 502 | 503 | 504)
}

/// True when a failure deserves another try.
pub fn is_transient(failure: &Failure) -> bool {
    match failure {
        Failure::Status { code, .. } => is_transient_status(*code),
        Failure::Connect | Failure::Timeout | Failure::Interrupted => true,
        Failure::Permanent => false,
    }
}

/// The backoff before retry number `retry` (0 for the first retry): `base * 2^retry`,
/// capped at `max`.
pub fn backoff_delay(base: Duration, retry: u32, max: Duration) -> Duration {
    let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

/// The wait before retry number `retry` after `failure`, or `None` when no retry is due
/// (a permanent failure, or the budget is spent). A `Retry-After` of the server replaces
/// the backoff; both are capped at the policy's `max_delay`.
pub fn next_delay(policy: &RetryPolicy, failure: &Failure, retry: u32) -> Option<Duration> {
    if retry >= policy.max_retries || !is_transient(failure) {
        return None;
    }
    let delay = match failure {
        Failure::Status {
            retry_after: Some(after),
            ..
        } => *after,
        _ => backoff_delay(policy.base_delay, retry, policy.max_delay),
    };
    Some(delay.min(policy.max_delay))
}

/// Reads a `Retry-After` value: delta-seconds (`120`) or an HTTP-date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), relative to `now`. A date in the past means "now"
/// (zero). Anything unreadable is `None`, and the backoff applies.
///
/// ```
/// use std::time::Duration;
/// use connector_kaspersky::tip::retry::parse_retry_after;
/// let now: jiff::Timestamp = "2026-03-09T10:00:00Z".parse().unwrap();
/// assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
/// assert_eq!(
///     parse_retry_after("Mon, 09 Mar 2026 10:01:00 GMT", now),
///     Some(Duration::from_secs(60))
/// );
/// ```
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long digit strings still mean "wait a long time"; the cap shortens it.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = date.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 5,
        base_delay: Duration::from_secs(5),
        max_delay: Duration::from_secs(300),
    };

    fn status(code: u16) -> Failure {
        Failure::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn transient_statuses_and_network_failures_are_retried() {
        for code in [429, 500, 502, 503, 504] {
            assert!(is_transient(&status(code)), "{code}");
        }
        assert!(is_transient(&Failure::Connect));
        assert!(is_transient(&Failure::Timeout));
        assert!(is_transient(&Failure::Interrupted));
    }

    #[test]
    fn client_errors_and_permanent_failures_are_not_retried() {
        for code in [400, 401, 403, 404, 405, 410, 418, 422, 501, 505] {
            assert!(!is_transient(&status(code)), "{code}");
        }
        assert!(!is_transient(&Failure::Permanent));
        assert_eq!(next_delay(&POLICY, &status(401), 0), None);
    }

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_the_cap() {
        let delays: Vec<u64> = (0..5)
            .map(|retry| next_delay(&POLICY, &status(503), retry).unwrap().as_secs())
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 80]);
        let cap = Duration::from_secs(300);
        assert_eq!(backoff_delay(Duration::from_secs(5), 7, cap), cap);
        assert_eq!(backoff_delay(Duration::from_secs(5), 40, cap), cap);
    }

    #[test]
    fn the_budget_ends_retrying() {
        assert!(next_delay(&POLICY, &Failure::Timeout, 4).is_some());
        assert_eq!(next_delay(&POLICY, &Failure::Timeout, 5), None);
        let none = RetryPolicy {
            max_retries: 0,
            ..POLICY
        };
        assert_eq!(next_delay(&none, &Failure::Timeout, 0), None);
    }

    #[test]
    fn retry_after_replaces_the_backoff_and_is_capped() {
        let failure = Failure::Status {
            code: 429,
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            next_delay(&POLICY, &failure, 3),
            Some(Duration::from_secs(2))
        );
        let long = Failure::Status {
            code: 503,
            retry_after: Some(Duration::from_secs(86_400)),
        };
        assert_eq!(
            next_delay(&POLICY, &long, 0),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: Timestamp = "2026-03-09T10:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("Mon, 09 Mar 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }
}
