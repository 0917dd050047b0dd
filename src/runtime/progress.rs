//! Progress of long work: a log line at a steady pace (items done, rate, time left), and
//! a progress bar on a terminal when the command asks for one (`convert`, `demo`).

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a progress line is logged.
const LOG_EVERY: Duration = Duration::from_secs(10);

static BARS: OnceLock<bool> = OnceLock::new();

/// Shows progress bars instead of log lines from now on, when standard error is a
/// terminal (`convert` and `demo` call this; the service never does).
pub fn enable_bars() {
    let _ = BARS.set(std::io::stderr().is_terminal());
}

fn bars() -> bool {
    BARS.get().copied().unwrap_or(false)
}

/// Progress over a known number of items of a scope.
pub struct Progress {
    scope: &'static str,
    what: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    last_log: Instant,
    log_every: Duration,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Progress over `total` items (`what`: "groups", "publications").
    pub fn new(scope: &'static str, what: &'static str, total: usize) -> Self {
        let bar = bars().then(|| {
            let bar = ProgressBar::new(total as u64);
            let template =
                format!("{scope} {{bar:30}} {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)");
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            bar
        });
        let now = Instant::now();
        Progress {
            scope,
            what,
            total: total as u64,
            done: 0,
            started: now,
            last_log: now,
            log_every: LOG_EVERY,
            bar,
        }
    }

    /// The same, logging at another pace.
    pub fn every(mut self, interval: Duration) -> Self {
        self.log_every = interval;
        self
    }

    /// `n` more items done; logs when the last line is old enough.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
            return;
        }
        if self.last_log.elapsed() >= self.log_every {
            self.last_log = Instant::now();
            let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
            let rate = self.done as f64 / elapsed;
            let left = self.total.saturating_sub(self.done) as f64 / rate.max(1e-9);
            tracing::info!(
                scope = self.scope,
                what = self.what,
                done = self.done,
                total = self.total,
                rate_per_second = (rate * 10.0).round() / 10.0,
                seconds_left = left.round() as u64,
                "Progress"
            );
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::prelude::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn progress_lines_tell_done_total_rate_and_time_left() {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || sink.clone())
                .event_format(super::super::logging::PyctiJson::new("Kaspersky")),
        );
        tracing::subscriber::with_default(subscriber, || {
            let mut progress = Progress::new("master_ioc", "groups", 10).every(Duration::ZERO);
            progress.advance(4);
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["message"], "Progress");
        assert_eq!(line["attributes"]["done"], 4);
        assert_eq!(line["attributes"]["total"], 10);
        assert!(line["attributes"]["rate_per_second"].is_number());
        assert!(line["attributes"]["seconds_left"].is_u64());
    }
}
