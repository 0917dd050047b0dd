//! Running the `master_yara` scope: fetch the file on its weekday, update the rules
//! OpenCTI already has when ours are newer, send the groups whose content is new.
//!
//! Rule identity is the name, compared case-insensitively (the TIP has renamed rules by
//! case only); a stored rule is replaced only when our `last_modified` is strictly later,
//! both read with the lenient date parser. Either way the rule stays in its group's
//! bundle, so the group's report keeps referencing it: with our text when ours is newer or
//! new, with the stored text otherwise (its id is then the stored indicator's id, so
//! nothing is duplicated).

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::digest::{self, Fingerprint};
use super::importer::{Importer, ScopeReport};
use super::master_file::{MasterFile, fetch_text};
use super::progress::Progress;
use super::schedule::master_file_is_due;
use super::state::{LATEST_MASTER_YARA, State};
use crate::config::Scope;
use crate::formats::yara::{self, YaraRule};
use crate::scopes::{self, BuildSettings};
use crate::sink::{BundleLabel, Sinks};

/// Fingerprints of the groups delivered from the current file.
pub const DELIVERED_GROUPS: &str = "kaspersky_master_yara_groups";
/// True while a fetched file has groups not yet delivered.
pub const PENDING: &str = "kaspersky_master_yara_pending";
/// When each group without any dated rule was first seen (fingerprint of its name, in
/// hex, to Unix seconds): its report's stable `published`.
pub const FIRST_SEEN: &str = "kaspersky_master_yara_first_seen";

/// A rule OpenCTI already has.
#[derive(Clone, Debug)]
struct Stored {
    id: String,
    pattern: String,
    last_modified: Option<Timestamp>,
}

/// What to do with a rule that OpenCTI has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Ours is strictly newer: replace the stored pattern.
    Update,
    /// Keep the stored rule and reference it.
    Keep,
}

/// Whether a rule replaces the stored one: only a strictly later `last_modified`; when
/// either side has no readable date, nothing says ours is newer.
pub fn decide(ours: Option<Timestamp>, stored: Option<Timestamp>) -> Decision {
    match (ours, stored) {
        (Some(ours), Some(stored)) if ours > stored => Decision::Update,
        _ => Decision::Keep,
    }
}

/// Runs the scope.
pub async fn run(
    importer: &Importer,
    sinks: &mut Sinks,
    state: &State,
    now: Timestamp,
) -> ScopeReport {
    let weekday = importer.kaspersky.master_yara_fetch_weekday;
    let pending = state.get(PENDING) == Some(&Value::Bool(true));
    if !pending && !master_file_is_due(weekday, state.timestamp(LATEST_MASTER_YARA), now) {
        tracing::info!(
            scope = "master_yara",
            "Master YARA file not due on this run"
        );
        return ScopeReport::not_due(Scope::MasterYara);
    }
    let mut report = ScopeReport::new(Scope::MasterYara);
    report.state.set(PENDING, Value::Bool(true));

    let Some((text, bad_lines)) = fetch_text(importer, MasterFile::Yara, &mut report).await else {
        return report;
    };
    let file = tokio::task::block_in_place(|| yara::split_except(&text, &bad_lines));
    report.fetched = file.rules.len() + file.errors.len();
    super::metrics::items_fetched("master_yara", report.fetched as u64);
    report.skip(scopes::master_yara::skipped(&file));
    tracing::info!(
        scope = "master_yara",
        rules = file.rules.len(),
        "Master YARA file read"
    );

    if !importer.settings.create_indicators {
        tracing::info!(
            scope = "master_yara",
            "create_indicators is false: no YARA indicator"
        );
        report.state = done(State::new(), HashSet::new(), now);
        return report;
    }

    // Rules OpenCTI already has: update the older ones in place.
    let mut rules = file.rules.clone();
    if let Some(platform) = &importer.platform
        && let Err(error) = reconcile(platform, &mut rules).await
    {
        let what = format!("cannot look up or update the rules OpenCTI has: {error}");
        report.fail(what, "opencti");
        return report;
    }

    let previous = digest::load(state.get(DELIVERED_GROUPS));
    let mut delivered_now = HashSet::new();
    let mut first_seen = first_seen_map(state);
    let settings_print = settings_fingerprint(&importer.settings);
    let grouped = {
        let view = yara::YaraFile {
            imports: file.imports.clone(),
            rules,
            errors: Vec::new(),
        };
        owned_groups(&view)
    };

    let mut progress = Progress::new("master_yara", "groups", grouped.len());
    for (name, group) in &grouped {
        progress.advance(1);
        if importer.cancel.is_cancelled() {
            report.interrupted = true;
            break;
        }
        let fingerprint = group_fingerprint(name, group, settings_print);
        if previous.contains(&fingerprint) {
            report.unchanged += 1;
            delivered_now.insert(fingerprint);
            continue;
        }

        let refs: Vec<&YaraRule> = group.iter().collect();
        let known = if name.is_empty() {
            None
        } else {
            importer.known_publication(name).await
        };
        let name_key = first_seen_key(name);
        let seen = first_seen
            .get(&name_key)
            .and_then(Value::as_i64)
            .and_then(|s| Timestamp::from_second(s).ok());
        let needs_first_seen = !name.is_empty()
            && known.is_none()
            && scopes::master_yara::earliest_last_modified(&refs).is_none();
        // The state keeps whole seconds: a first sighting uses them too, or its report
        // id would differ from the one every later run builds.
        let now_second = Timestamp::from_second(now.as_second()).unwrap_or(now);
        if needs_first_seen && seen.is_none() {
            first_seen.insert(name_key.clone(), Value::from(now_second.as_second()));
        }
        let anchor = scopes::master_yara::anchor(
            name,
            &refs,
            known.as_ref(),
            seen.or(Some(now_second)),
            &importer.settings,
        );
        let built = tokio::task::block_in_place(|| {
            scopes::master_yara::build_group(&refs, anchor.as_ref(), &importer.settings, now)
        });
        let item = if name.is_empty() {
            "without-report".to_owned()
        } else {
            name.clone()
        };
        let key = bundle_key(name, built.report_id.as_deref());
        match sinks
            .deliver(
                &BundleLabel {
                    scope: "master_yara",
                    item,
                    key,
                },
                &built.bundle,
            )
            .await
        {
            Ok(delivered) => {
                delivered_now.insert(fingerprint);
                report.delivered += 1;
                report.objects += built.bundle.len();
                report.messages += delivered.messages;
            }
            Err(error) => {
                report.fail(
                    format!("group {name:?}: delivery failed: {error}"),
                    "delivery",
                );
            }
        }
    }

    // Keep first-seen dates only for groups still in the file.
    let present: HashSet<String> = grouped
        .iter()
        .map(|(name, _)| first_seen_key(name))
        .collect();
    first_seen.retain(|key, _| present.contains(key));
    let mut keys = State::new();
    keys.set(
        FIRST_SEEN,
        if first_seen.is_empty() {
            Value::Null
        } else {
            Value::Object(first_seen)
        },
    );
    report.state = if report.succeeded() && !report.interrupted {
        done(keys, delivered_now, now)
    } else {
        keys.set(DELIVERED_GROUPS, digest::store(&delivered_now));
        keys.set(PENDING, Value::Bool(true));
        keys
    };
    report
}

/// What names a group's bundle (and so its file in directory mode): the report id, or for
/// the group without a report a fingerprint of its name. Not the bundle id: that changes
/// with every run (`created` is now), so each run would leave one more file behind.
/// Like a group with a report, the group keeps one file, holding its latest rules.
pub fn bundle_key(group: &str, report_id: Option<&str>) -> String {
    match report_id {
        Some(id) => id.to_owned(),
        None => format!("group--{:08x}", digest::group(group, [])),
    }
}

/// [`bundle_key`] for `convert`, where the group without a report is named after its
/// rules too: two files converted into one folder must not overwrite each other's, and
/// one file converted twice gives the same name.
pub fn content_key(group: &str, rules: &[&YaraRule], report_id: Option<&str>) -> String {
    match report_id {
        Some(id) => id.to_owned(),
        None => {
            let rules = rules
                .iter()
                .map(|rule| Fingerprint::default().feed(rule.pattern.as_bytes()).value());
            format!("group--{:08x}", digest::group(group, rules))
        }
    }
}

/// The keys of a file whose every group was delivered.
fn done(mut keys: State, delivered: HashSet<u32>, now: Timestamp) -> State {
    keys.set(DELIVERED_GROUPS, digest::store(&delivered));
    keys.set_timestamp(LATEST_MASTER_YARA, now);
    keys.set(PENDING, Value::Null);
    keys
}

fn first_seen_map(state: &State) -> Map<String, Value> {
    state
        .get(FIRST_SEEN)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Groups with owned rules (their patterns may have been replaced by stored ones).
pub fn owned_groups(file: &yara::YaraFile) -> Vec<(String, Vec<YaraRule>)> {
    scopes::master_yara::groups(file)
        .into_iter()
        .map(|(name, rules)| (name, rules.into_iter().cloned().collect()))
        .collect()
}

/// Looks up every rule by name, updates the stored ones ours supersede, and makes the
/// others reference the stored indicator.
async fn reconcile(
    platform: &crate::opencti::OpenCtiClient,
    rules: &mut [YaraRule],
) -> Result<(), crate::opencti::ApiError> {
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    let nodes = platform.indicators_by_names(&names).await?;
    let mut stored: HashMap<String, Stored> = HashMap::new();
    for node in nodes {
        // The look-up returns patterns only: the stored rule's name and date are read from
        // its own text (the last rule of the pattern).
        let parsed = yara::split(&node.pattern);
        if let Some(rule) = parsed.rules.last() {
            stored.insert(
                rule.name.to_lowercase(),
                Stored {
                    id: node.id,
                    pattern: node.pattern,
                    last_modified: rule.last_modified,
                },
            );
        }
    }

    for rule in rules.iter_mut() {
        let Some(existing) = stored.get(&rule.name.to_lowercase()) else {
            tracing::debug!(rule = %rule.name, "YARA rule is new to OpenCTI");
            continue;
        };
        match decide(rule.last_modified, existing.last_modified) {
            Decision::Update if existing.pattern != rule.pattern => {
                platform
                    .set_indicator_pattern(&existing.id, &rule.pattern)
                    .await?;
                tracing::debug!(
                    rule = %rule.name,
                    ours = ?rule.last_modified_text,
                    stored = ?existing.last_modified,
                    "YARA rule updated in OpenCTI"
                );
            }
            Decision::Update => {
                tracing::debug!(rule = %rule.name, "YARA rule unchanged in OpenCTI");
            }
            Decision::Keep => {
                tracing::debug!(
                    rule = %rule.name,
                    ours = ?rule.last_modified_text,
                    stored = ?existing.last_modified,
                    "YARA rule kept as OpenCTI has it"
                );
                rule.pattern = existing.pattern.clone();
            }
        }
    }
    Ok(())
}

/// What of the configuration shapes a group's bundle: a change re-sends every group.
pub fn settings_fingerprint(settings: &BuildSettings) -> u64 {
    Fingerprint::default()
        .feed(settings.tlp.id().as_bytes())
        .feed(&[settings.master_yara_include_report as u8])
        .feed(format!("{:?}", settings.confidence).as_bytes())
        .feed(format!("{:?}", settings.master_yara).as_bytes())
        .feed(format!("{:?}", settings.publication).as_bytes())
        .value()
}

/// A group's fingerprint: its name and its rules' text under the settings; a group whose
/// fingerprint was delivered is not sent again.
pub fn group_fingerprint(name: &str, rules: &[YaraRule], settings: u64) -> u32 {
    let rule = |rule: &YaraRule| {
        Fingerprint::default()
            .feed(&settings.to_le_bytes())
            .feed(rule.pattern.as_bytes())
            .value()
    };
    digest::group(name, rules.iter().map(rule))
}

/// The key of a group's name in [`FIRST_SEEN`].
pub fn first_seen_key(name: &str) -> String {
    format!("{:08x}", digest::group(name, []))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Option<Timestamp> {
        crate::formats::dates::parse(text)
    }

    #[test]
    fn a_group_without_report_has_a_key_of_its_name_only() {
        let key = bundle_key("", None);
        assert_eq!(key, bundle_key("", None));
        assert!(key.starts_with("group--"), "{key}");
        assert_ne!(key, bundle_key("other", None));
        assert_eq!(bundle_key("", Some("report--1")), "report--1");
    }

    #[test]
    fn only_a_strictly_later_date_updates() {
        assert_eq!(decide(t("2024-03-15"), t("14.03.2024")), Decision::Update);
        assert_eq!(decide(t("20240314"), t("March 14, 2024")), Decision::Keep);
        assert_eq!(decide(t("2024-03"), t("2024-03-01")), Decision::Keep);
        assert_eq!(decide(None, t("2024-03-01")), Decision::Keep);
        assert_eq!(decide(t("['2024-03-02']"), None), Decision::Keep);
        assert_eq!(decide(t("['2024-03-02']"), t("-")), Decision::Keep);
        assert_eq!(decide(None, None), Decision::Keep);
    }
}
