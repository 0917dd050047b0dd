//! Publication metadata: titles, tags, dates, and which files each publication carries.
//!
//! The first eight publications follow a fixed schedule so that even the small default
//! world shows every case (each file present and absent, no actors, a monthly report,
//! Unix and ISO dates); later ones are drawn at random.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::names::{ACTORS, INDUSTRIES, MALWARE, MONTHS, MORE_GEO, REQUIRED_GEO, TAGS, VERBS};
use super::rng::Rng;

/// The prefix of the reports the connector skips by default.
pub(crate) const MONTHLY_PREFIX: &str = "Monthly APT activity report";

/// 2023-01-01T00:00:00Z, the start of generated time.
pub(crate) const EPOCH: i64 = 1_672_531_200;

const DAY: i64 = 86_400;

/// How a publication's dates are written in the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateForm {
    UnixSeconds,
    IsoZ,
    IsoOffset,
}

/// One publication before its files are made.
#[derive(Clone, Debug)]
pub(crate) struct PublicationPlan {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) malware: &'static str,
    pub(crate) published: i64,
    pub(crate) updated: i64,
    pub(crate) has_pdf: bool,
    pub(crate) has_iocs: bool,
    pub(crate) has_yara: bool,
    meta: Map<String, Value>,
}

impl PublicationPlan {
    pub(crate) fn meta(&self) -> Map<String, Value> {
        self.meta.clone()
    }

    pub(crate) fn is_monthly(&self) -> bool {
        self.name.starts_with(MONTHLY_PREFIX)
    }
}

/// (pdf, iocs, yara, actors) of the first publications.
const SCHEDULE: [(bool, bool, bool, usize); 8] = [
    (true, true, true, 2),
    (true, false, true, 1), // the monthly report
    (true, true, false, 0),
    (false, true, true, 3),
    (true, false, false, 1),
    (true, true, true, 1),
    (true, false, true, 2),
    (false, true, false, 1),
];

/// Index of the monthly report in the schedule.
const MONTHLY_INDEX: usize = 1;

pub(crate) fn plan(rng: &mut Rng, count: usize) -> Vec<PublicationPlan> {
    (0..count).map(|index| plan_one(rng, index)).collect()
}

fn plan_one(rng: &mut Rng, index: usize) -> PublicationPlan {
    let id = rng.hex(12);
    let (has_pdf, has_iocs, has_yara, actor_count) = match SCHEDULE.get(index) {
        Some(&entry) => entry,
        None => (rng.chance(90), rng.chance(70), rng.chance(60), rng.index(4)),
    };

    let mut actors: Vec<&'static str> = Vec::new();
    while actors.len() < actor_count {
        let actor = *rng.pick(ACTORS);
        if !actors.contains(&actor) {
            actors.push(actor);
        }
    }
    let malware = *rng.pick(MALWARE);

    let mut geo: Vec<&'static str> = Vec::new();
    if let Some(&required) = REQUIRED_GEO.get(index) {
        geo.push(required);
    }
    if rng.chance(50) || geo.is_empty() {
        let more = *rng.pick(MORE_GEO);
        if !geo.contains(&more) {
            geo.push(more);
        }
    }
    let industry_count = rng_count(rng, 3);
    let industries = distinct(rng, INDUSTRIES, industry_count);
    let tag_count = 1 + rng_count(rng, 3);
    let tags = distinct(rng, TAGS, tag_count);

    let published = EPOCH + rng.below(700) as i64 * DAY + rng.below(DAY as u64) as i64;
    let updated = if rng.chance(15) {
        published
    } else {
        published + rng.below(60 * DAY as u64) as i64
    };

    let name = if index == MONTHLY_INDEX {
        let date = Timestamp::from_second(published).expect("generated times are in range");
        let civil = date.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        format!(
            "{MONTHLY_PREFIX}: {} {}",
            MONTHS[civil.month() as usize - 1],
            civil.year()
        )
    } else {
        let who = actors.first().copied().unwrap_or("Unknown actor");
        let whom = industries
            .first()
            .map_or("various".to_owned(), |sector| sector.to_lowercase());
        format!(
            "{who} {} {whom} organizations in {} with {malware}",
            rng.pick(VERBS),
            geo[0]
        )
    };
    let desc = format!(
        "Fictional publication generated for testing. {} activity involving the {malware} \
         malware family was observed against {} targets. No real event is described here.",
        if actors.is_empty() {
            "Unattributed".to_owned()
        } else {
            actors.join(", ")
        },
        if industries.is_empty() {
            "unspecified".to_owned()
        } else {
            industries.join(", ")
        },
    );
    let report_group = match index % 10 {
        4 => "fin",
        7 => "ics",
        _ => "apt",
    };
    let form = match index % 3 {
        0 => DateForm::UnixSeconds,
        1 => DateForm::IsoZ,
        _ => DateForm::IsoOffset,
    };

    let Value::Object(meta) = json!({
        "id": id,
        "name": name,
        "desc": desc,
        "updated": write_date(updated, form),
        "published": write_date(published, form),
        "report_group": report_group,
        "tags": tags,
        "tags_industry": industries,
        "tags_geo": geo,
        "tags_actors": actors,
    }) else {
        unreachable!("a JSON object literal")
    };

    PublicationPlan {
        id,
        name,
        malware,
        published,
        updated,
        has_pdf,
        has_iocs,
        has_yara,
        meta,
    }
}

fn rng_count(rng: &mut Rng, max: u64) -> usize {
    rng.below(max + 1) as usize
}

fn distinct(rng: &mut Rng, items: &[&'static str], count: usize) -> Vec<&'static str> {
    let mut chosen = Vec::new();
    while chosen.len() < count.min(items.len()) {
        let item = *rng.pick(items);
        if !chosen.contains(&item) {
            chosen.push(item);
        }
    }
    chosen
}

pub(crate) fn write_date(seconds: i64, form: DateForm) -> Value {
    let time = Timestamp::from_second(seconds).expect("generated times are in range");
    match form {
        DateForm::UnixSeconds => json!(seconds),
        DateForm::IsoZ => json!(time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        DateForm::IsoOffset => json!(time.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
    }
}

/// `YYYY-MM-DDTHH:MM:SS`, the OpenIOC date form.
pub(crate) fn naive_datetime(seconds: i64) -> String {
    let time = Timestamp::from_second(seconds).expect("generated times are in range");
    time.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `YYYY-MM-DD`.
pub(crate) fn date(seconds: i64) -> String {
    let time = Timestamp::from_second(seconds).expect("generated times are in range");
    time.strftime("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_covers_every_case() {
        let plans = plan(&mut Rng::new(1, 0), 8);
        assert_eq!(plans.iter().filter(|p| p.is_monthly()).count(), 1);
        let actors = |p: &PublicationPlan| p.meta["tags_actors"].as_array().unwrap().len();
        assert!(plans.iter().any(|p| actors(p) == 0));
        assert!(plans.iter().any(|p| actors(p) >= 2));
        let cases: [fn(&PublicationPlan) -> bool; 3] =
            [|p| p.has_pdf, |p| p.has_iocs, |p| p.has_yara];
        for has in cases {
            assert!(plans.iter().any(has) && !plans.iter().all(has));
        }
        let geo: Vec<Value> = plans
            .iter()
            .flat_map(|p| p.meta["tags_geo"].as_array().unwrap().clone())
            .collect();
        for required in REQUIRED_GEO {
            assert!(geo.contains(&json!(required)), "{required}");
        }
        assert!(plans.iter().any(|p| p.meta["updated"].is_i64()));
        assert!(
            plans
                .iter()
                .any(|p| p.meta["updated"].as_str().is_some_and(|s| s.ends_with('Z')))
        );
    }

    #[test]
    fn dates_are_written_in_three_forms() {
        assert_eq!(write_date(EPOCH, DateForm::UnixSeconds), json!(EPOCH));
        assert_eq!(
            write_date(EPOCH, DateForm::IsoZ),
            json!("2023-01-01T00:00:00Z")
        );
        assert_eq!(
            write_date(EPOCH, DateForm::IsoOffset),
            json!("2023-01-01T00:00:00+00:00")
        );
    }
}
