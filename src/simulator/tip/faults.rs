//! Misbehaviour on demand: queued faults per endpoint, and request counters.
//!
//! A test (or a user of the stand-alone simulator) queues faults; each request to an
//! endpoint takes the next fault queued for that endpoint, else the next one queued for
//! any endpoint, else is served normally. Counters record every request, so a test can
//! assert how many tries the client made.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::tip::Endpoint;

/// One way to answer a request badly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status (and a small JSON error body), with an optional
    /// `Retry-After` header value (seconds or an HTTP-date, sent as given).
    Status {
        code: u16,
        retry_after: Option<String>,
    },
    /// Wait this long, then answer normally (to provoke client timeouts).
    Delay(Duration),
    /// Answer 200 with a body that is not JSON.
    MalformedBody,
    /// Answer 200 with `{"status": "error", "status_msg": ...}`.
    NotOk,
    /// Answer 200 with `status: ok` and a `return_data` of the wrong type (a string).
    WrongShape,
    /// Send the headers and half of the normal body, then close the connection.
    DropConnection,
}

/// Which requests a fault is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    /// The next request to any endpoint that has no fault of its own queued.
    Any,
    /// The next request to this endpoint.
    Endpoint(Endpoint),
}

impl From<Endpoint> for FaultTarget {
    fn from(endpoint: Endpoint) -> FaultTarget {
        FaultTarget::Endpoint(endpoint)
    }
}

/// A fault with its target and how many requests it hits, written as text:
/// `[TARGET:]FAULT[*COUNT]`.
///
/// TARGET is `any` (the default) or an endpoint name. FAULT is an HTTP status with an
/// optional `;retry-after=VALUE`, `delay=DURATION` (`250ms`, `3s`), `malformed`,
/// `not-ok`, `wrong-shape` or `drop`.
///
/// ```
/// use connector_kaspersky::simulator::tip::{Fault, FaultSpec, FaultTarget};
/// use connector_kaspersky::tip::Endpoint;
/// let spec: FaultSpec = "get_one:429;retry-after=2*3".parse().unwrap();
/// assert_eq!(spec.target, FaultTarget::Endpoint(Endpoint::GetOne));
/// assert_eq!(spec.fault, Fault::Status { code: 429, retry_after: Some("2".into()) });
/// assert_eq!(spec.count, 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultSpec {
    pub target: FaultTarget,
    pub fault: Fault,
    pub count: u32,
}

/// A fault spec that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("fault {spec:?}: {reason} (expected [TARGET:]FAULT[*COUNT], e.g. get_one:503*2)")]
pub struct FaultSpecError {
    spec: String,
    reason: String,
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(spec: &str) -> Result<FaultSpec, FaultSpecError> {
        let error = |reason: &str| FaultSpecError {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let mut rest = spec.trim();

        let mut count = 1;
        if let Some((head, times)) = rest.rsplit_once('*') {
            count = times
                .trim()
                .parse()
                .map_err(|_| error("the count after `*` is not a number"))?;
            rest = head;
        }

        let mut target = FaultTarget::Any;
        if let Some((head, tail)) = rest.split_once(':') {
            let head = head.trim();
            if head == "any" {
                rest = tail;
            } else if let Some(endpoint) = Endpoint::from_name(head) {
                target = FaultTarget::Endpoint(endpoint);
                rest = tail;
            }
        }

        let fault = parse_fault(rest.trim()).map_err(|reason| error(&reason))?;
        Ok(FaultSpec {
            target,
            fault,
            count,
        })
    }
}

fn parse_fault(text: &str) -> Result<Fault, String> {
    match text {
        "malformed" => return Ok(Fault::MalformedBody),
        "not-ok" => return Ok(Fault::NotOk),
        "wrong-shape" => return Ok(Fault::WrongShape),
        "drop" => return Ok(Fault::DropConnection),
        _ => {}
    }
    if let Some(duration) = text.strip_prefix("delay=") {
        return parse_duration(duration).map(Fault::Delay);
    }

    let (code, retry_after) = match text.split_once(';') {
        Some((code, option)) => {
            let value = option
                .trim()
                .strip_prefix("retry-after=")
                .ok_or("the only status option is retry-after=VALUE")?;
            (code, Some(value.trim().to_owned()))
        }
        None => (text, None),
    };
    let code: u16 = code
        .trim()
        .parse()
        .map_err(|_| format!("unknown fault {text:?}"))?;
    if !(100..=599).contains(&code) {
        return Err(format!("{code} is not an HTTP status"));
    }
    Ok(Fault::Status { code, retry_after })
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("unreadable duration {text:?} (use e.g. 250ms or 3s)");
    if let Some(ms) = text.strip_suffix("ms") {
        return ms.parse().map(Duration::from_millis).map_err(|_| bad());
    }
    if let Some(s) = text.strip_suffix('s') {
        return s
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(bad);
    }
    Err(bad())
}

impl fmt::Display for FaultTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultTarget::Any => f.write_str("any"),
            FaultTarget::Endpoint(endpoint) => endpoint.fmt(f),
        }
    }
}

/// The queues of faults waiting for requests.
#[derive(Debug, Default)]
pub struct Faults {
    /// One queue per endpoint (by [`Endpoint::index`]), then the queue for any endpoint.
    queues: Mutex<[VecDeque<Fault>; 5]>,
}

const ANY: usize = 4;

impl Faults {
    /// Queues a fault for the next request to `target`.
    pub fn push(&self, target: impl Into<FaultTarget>, fault: Fault) {
        self.push_times(target, fault, 1);
    }

    /// Queues the same fault for the next `count` requests to `target`.
    pub fn push_times(&self, target: impl Into<FaultTarget>, fault: Fault, count: u32) {
        let slot = match target.into() {
            FaultTarget::Any => ANY,
            FaultTarget::Endpoint(endpoint) => endpoint.index(),
        };
        let mut queues = self.queues.lock().expect("fault queue lock poisoned");
        for _ in 0..count {
            queues[slot].push_back(fault.clone());
        }
    }

    /// Queues what a spec says.
    pub fn push_spec(&self, spec: &FaultSpec) {
        self.push_times(spec.target, spec.fault.clone(), spec.count);
    }

    /// Drops every queued fault.
    pub fn clear(&self) {
        let mut queues = self.queues.lock().expect("fault queue lock poisoned");
        queues.iter_mut().for_each(VecDeque::clear);
    }

    /// Faults still waiting, over all queues.
    pub fn pending(&self) -> usize {
        let queues = self.queues.lock().expect("fault queue lock poisoned");
        queues.iter().map(VecDeque::len).sum()
    }

    /// The fault for a request to `endpoint`, taken off its queue.
    pub(crate) fn take(&self, endpoint: Endpoint) -> Option<Fault> {
        let mut queues = self.queues.lock().expect("fault queue lock poisoned");
        queues[endpoint.index()]
            .pop_front()
            .or_else(|| queues[ANY].pop_front())
    }
}

/// Requests received per endpoint, authenticated or not, faulty or not.
#[derive(Debug, Default)]
pub struct RequestCounts {
    counts: [AtomicU64; 4],
}

impl RequestCounts {
    /// Requests to `endpoint` so far.
    pub fn get(&self, endpoint: Endpoint) -> u64 {
        self.counts[endpoint.index()].load(Ordering::Relaxed)
    }

    /// Requests to every endpoint so far.
    pub fn total(&self) -> u64 {
        Endpoint::ALL
            .into_iter()
            .map(|endpoint| self.get(endpoint))
            .sum()
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        self.counts
            .iter()
            .for_each(|count| count.store(0, Ordering::Relaxed));
    }

    pub(crate) fn record(&self, endpoint: Endpoint) {
        self.counts[endpoint.index()].fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> FaultSpec {
        text.parse().unwrap()
    }

    #[test]
    fn specs_read_every_fault_kind() {
        assert_eq!(
            spec("503").fault,
            Fault::Status {
                code: 503,
                retry_after: None
            }
        );
        assert_eq!(spec("503").target, FaultTarget::Any);
        assert_eq!(spec("any:drop").fault, Fault::DropConnection);
        assert_eq!(spec("get_list:malformed").fault, Fault::MalformedBody);
        assert_eq!(spec("not-ok").fault, Fault::NotOk);
        assert_eq!(spec("wrong-shape*2").count, 2);
        assert_eq!(
            spec("delay=250ms").fault,
            Fault::Delay(Duration::from_millis(250))
        );
        assert_eq!(
            spec("delay=1.5s").fault,
            Fault::Delay(Duration::from_millis(1500))
        );
        let dated = spec("get_master_ioc:503;retry-after=Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(dated.target, FaultTarget::Endpoint(Endpoint::GetMasterIoc));
        assert_eq!(
            dated.fault,
            Fault::Status {
                code: 503,
                retry_after: Some("Sun, 06 Nov 1994 08:49:37 GMT".into())
            }
        );
    }

    #[test]
    fn bad_specs_say_why() {
        for text in [
            "teapot",
            "999",
            "503;after=2",
            "delay=soon",
            "503*x",
            "get_al:503",
        ] {
            let error = text.parse::<FaultSpec>().unwrap_err().to_string();
            assert!(error.contains(text), "{error}");
        }
    }

    #[test]
    fn endpoint_faults_come_before_faults_for_any() {
        let faults = Faults::default();
        faults.push(FaultTarget::Any, Fault::NotOk);
        faults.push_times(Endpoint::GetOne, Fault::MalformedBody, 2);
        assert_eq!(faults.pending(), 3);
        assert_eq!(faults.take(Endpoint::GetOne), Some(Fault::MalformedBody));
        assert_eq!(faults.take(Endpoint::GetList), Some(Fault::NotOk));
        assert_eq!(faults.take(Endpoint::GetList), None);
        assert_eq!(faults.take(Endpoint::GetOne), Some(Fault::MalformedBody));
        assert_eq!(faults.take(Endpoint::GetOne), None);
        faults.push(Endpoint::GetOne, Fault::NotOk);
        faults.clear();
        assert_eq!(faults.pending(), 0);
    }

    #[test]
    fn counters_count_per_endpoint() {
        let counts = RequestCounts::default();
        counts.record(Endpoint::GetOne);
        counts.record(Endpoint::GetOne);
        counts.record(Endpoint::GetList);
        assert_eq!(counts.get(Endpoint::GetOne), 2);
        assert_eq!(counts.total(), 3);
        counts.reset();
        assert_eq!(counts.total(), 0);
    }
}
