//! What a run of the scopes needs, and what it tells at the end.
//!
//! An [`Importer`] holds the TIP client, the build settings and the look-ups a run shares;
//! each scope module ([`super::publications`], [`super::master_ioc`],
//! [`super::master_yara`]) runs over it and returns a [`ScopeReport`] with the state keys
//! it owns. A scope that fails leaves its keys as they were (or moves them only past what
//! was delivered), so the next run fetches again what did not arrive.

use std::collections::HashMap;
use std::time::Instant;

use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use super::metrics;
use super::state::State;
use crate::config::{KasperskyConfig, Scope};
use crate::opencti::OpenCtiClient;
use crate::scopes::anchor::KnownPublication;
use crate::scopes::{BuildSettings, Skipped};
use crate::tip::{Publication, TipClient, TipError};

/// Everything a run of the scopes shares.
pub struct Importer {
    pub tip: TipClient,
    pub settings: BuildSettings,
    pub kaspersky: KasperskyConfig,
    /// The platform, for the Master YARA updater; `None` offline (directory sink only).
    pub platform: Option<OpenCtiClient>,
    pub cancel: CancellationToken,
    /// The TIP's publications by name, fetched at most once per run, for the master files.
    known: OnceCell<HashMap<String, KnownPublication>>,
}

impl Importer {
    /// An importer for one run. The TIP client is tied to `cancel`, so that a stop
    /// request ends a call in flight or waiting to retry at once instead of after its
    /// whole retry schedule.
    pub fn new(
        tip: TipClient,
        settings: BuildSettings,
        kaspersky: KasperskyConfig,
        platform: Option<OpenCtiClient>,
        cancel: CancellationToken,
    ) -> Self {
        Importer {
            tip: tip.cancelled_by(cancel.clone()),
            settings,
            kaspersky,
            platform,
            cancel,
            known: OnceCell::new(),
        }
    }

    /// The publication of a name (case-insensitive, trimmed), from one `get_list` without
    /// dates made the first time a master file asks.
    ///
    /// When the list cannot be fetched, groups fall back to their own stable `published`
    /// (logged once); that loses nothing, it only means a second report for that run.
    pub async fn known_publication(&self, name: &str) -> Option<KnownPublication> {
        let known = self
            .known
            .get_or_init(|| async {
                match timed("get_list", self.tip.get_list(None, None)).await {
                    Ok(list) => index_by_name(list),
                    Err(error) => {
                        tracing::warn!(
                            error = %error,
                            "Cannot list the TIP publications: master groups get their own reports"
                        );
                        HashMap::new()
                    }
                }
            })
            .await;
        known.get(&name_key(name)).cloned()
    }
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Publications by name; of two with one name, the earlier published wins (it is the
/// one a reader would have seen first).
fn index_by_name(list: Vec<Publication>) -> HashMap<String, KnownPublication> {
    let mut index: HashMap<String, KnownPublication> = HashMap::new();
    for publication in list {
        let candidate = KnownPublication {
            name: publication.name.clone(),
            published: publication.published,
        };
        index
            .entry(name_key(&publication.name))
            .and_modify(|kept| {
                if candidate.published < kept.published {
                    *kept = candidate.clone();
                }
            })
            .or_insert(candidate);
    }
    index
}

/// Times a TIP call for the latency metric.
pub async fn timed<T>(
    endpoint: &'static str,
    call: impl Future<Output = Result<T, TipError>>,
) -> Result<T, TipError> {
    let started = Instant::now();
    let result = call.await;
    metrics::tip_request(endpoint, started.elapsed(), result.is_ok());
    result
}

/// What one scope did in a run.
#[derive(Clone, Debug)]
pub struct ScopeReport {
    pub scope: Scope,
    /// False when the scope was not due (weekday, nothing new).
    pub ran: bool,
    /// True when a stop request ended it early: not a failure, and what was not reached is
    /// fetched next run.
    pub interrupted: bool,
    /// Items fetched from the TIP (publications, rows, rules).
    pub fetched: usize,
    /// Bundles delivered to every sink.
    pub delivered: usize,
    /// Bundles already delivered by an earlier run and left alone.
    pub unchanged: usize,
    /// Objects in the delivered bundles.
    pub objects: usize,
    /// Messages confirmed by the broker (0 without the queue).
    pub messages: usize,
    /// Bad input items left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// What failed: fetches and deliveries that will be retried next run.
    pub failures: Vec<String>,
    /// The scope's own state keys (a `null` removes a key).
    pub state: State,
}

impl ScopeReport {
    /// An empty report of a scope.
    pub fn new(scope: Scope) -> Self {
        ScopeReport {
            scope,
            ran: true,
            interrupted: false,
            fetched: 0,
            delivered: 0,
            unchanged: 0,
            objects: 0,
            messages: 0,
            skipped: Vec::new(),
            failures: Vec::new(),
            state: State::new(),
        }
    }

    /// The report of a scope that was not due.
    pub fn not_due(scope: Scope) -> Self {
        ScopeReport {
            ran: false,
            ..ScopeReport::new(scope)
        }
    }

    /// True when nothing failed.
    pub fn succeeded(&self) -> bool {
        self.failures.is_empty()
    }

    /// Records skipped items in the report, the log and the metrics.
    pub fn skip(&mut self, skipped: Vec<Skipped>) {
        for item in &skipped {
            let scope = self.scope.as_str();
            if item.minor {
                tracing::debug!(scope, item = %item.item, reason = %item.reason, "Item skipped");
            } else {
                tracing::warn!(scope, item = %item.item, reason = %item.reason, "Item skipped");
            }
        }
        metrics::items_skipped(self.scope.as_str(), "bad_input", skipped.len() as u64);
        self.skipped.extend(skipped);
    }

    /// Records a failure in the report, the log and the metrics.
    pub fn fail(&mut self, what: impl Into<String>, reason: &'static str) {
        let what = what.into();
        tracing::error!(scope = self.scope.as_str(), error = %what, "Import failed");
        metrics::items_failed(self.scope.as_str(), reason);
        self.failures.push(what);
    }
}

/// The report of a whole run.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub scopes: Vec<ScopeReport>,
    /// Failures outside the scopes: the state could not be stored, the work not opened.
    pub errors: Vec<String>,
    /// The bundle files this run wrote, in order (a file written twice, twice).
    pub files: Vec<std::path::PathBuf>,
}

impl RunReport {
    /// A run that failed before any scope ran.
    pub fn failed(error: impl Into<String>) -> Self {
        RunReport {
            scopes: Vec::new(),
            errors: vec![error.into()],
            files: Vec::new(),
        }
    }

    /// True when a stop request cut the run short.
    pub fn interrupted(&self) -> bool {
        self.scopes.iter().any(|s| s.interrupted)
    }

    /// True when every scope succeeded and the state was stored.
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty() && self.scopes.iter().all(ScopeReport::succeeded)
    }

    /// The failures, prefixed by their scope, for the work's closing message.
    pub fn failures(&self) -> Vec<String> {
        let scopes = self
            .scopes
            .iter()
            .flat_map(|s| s.failures.iter().map(move |f| format!("{}: {f}", s.scope)));
        self.errors.iter().cloned().chain(scopes).collect()
    }
}
