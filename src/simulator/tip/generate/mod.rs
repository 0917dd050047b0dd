//! A deterministic generator of fictional TIP worlds, for `demo`, tests and benchmarks.
//!
//! The same [`GenerateParams`] give the same bytes on every run. Content is invented:
//! actor, malware and company names are made up, IP addresses come from the
//! documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32),
//! domains, URLs and e-mail addresses sit under example.com/.net/.org, hashes are random
//! hex, PDFs are one page saying they are fictional.
//!
//! The default world (about the size of `samples/`) shows every case the connector must
//! handle; [`GenerateParams`] documents the sizes at which coverage is complete. Big
//! Master files for benchmarks can be streamed straight to a file with
//! [`write_master_ioc`] and [`write_master_yara`] instead of being built in memory, and
//! `master_ioc_group_rows` gives the Master IoC groups the sizes of a real file's.

mod master_ioc;
mod names;
mod openioc;
mod pdf;
mod publications;
mod rng;
mod values;
mod yara;

use std::io::{self, Write};

use serde_json::json;

pub use master_ioc::{HEADER as MASTER_IOC_HEADER, MasterIocRow, MasterIocRows};
use publications::PublicationPlan;
use rng::Rng;

use super::world::{Payload, World, WorldPublication};

/// Sizes and seed of a generated world.
///
/// Complete coverage needs at least 8 publications (the fixed schedule of cases), 4
/// items per OpenIOC document (43 searches over the five documents of the schedule need
/// 9), 7 Master IoC rows and 20 Master YARA rules; the defaults exceed all of these.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GenerateParams {
    /// Seed of every random choice (default 1).
    pub seed: u64,
    /// Publications (default 8).
    pub publications: usize,
    /// OpenIOC items per publication that has an OpenIOC file (default 12).
    pub iocs_per_publication: usize,
    /// Rows of the Master IoC file (default 300); 0 leaves the file out.
    pub master_ioc_rows: usize,
    /// Publication names the Master IoC rows and Master YARA rules are spread over
    /// (default 8): the world's publication names first, then invented ones. Ignored when
    /// `master_ioc_group_rows` is set.
    pub master_ioc_groups: usize,
    /// `(min, max)` rows per Master IoC group (default `None`). When set, the file is
    /// written group by group, each group's size drawn in `min..=max`, and there are as
    /// many groups as that takes; benchmarks use `(100, 1000)`, the size of a real file's
    /// groups (a million rows make about 1,800 groups). `None` spreads the rows at random
    /// over `master_ioc_groups` names.
    pub master_ioc_group_rows: Option<(usize, usize)>,
    /// Rules of the Master YARA file (default 40); 0 leaves the file out.
    pub master_yara_rules: usize,
    /// Minimum PDF size in bytes (default 0: a tiny one-page PDF of about 1 KiB).
    pub pdf_bytes: usize,
}

impl Default for GenerateParams {
    fn default() -> GenerateParams {
        GenerateParams {
            seed: 1,
            publications: 8,
            iocs_per_publication: 12,
            master_ioc_rows: 300,
            master_ioc_groups: 8,
            master_ioc_group_rows: None,
            master_yara_rules: 40,
            pdf_bytes: 0,
        }
    }
}

/// Builds a world in memory.
pub fn generate(params: &GenerateParams) -> World {
    let mut rng = Rng::new(params.seed, 0x5055_424c);
    let plans = publications::plan(&mut rng, params.publications);

    let mut world = World::new();
    let mut iocs = openioc::IocWriter::default();
    let mut yara_files = 0;
    for plan in &plans {
        let mut publication =
            WorldPublication::new(plan.meta()).expect("generated metadata has id and updated");
        if plan.has_pdf {
            let lines = pdf_lines(plan);
            publication.pdf = Some(Payload::new(pdf::document(
                &mut rng,
                &lines,
                params.pdf_bytes,
            )));
        }
        if plan.has_iocs && params.iocs_per_publication > 0 {
            let xml = iocs.document(&mut rng, plan, params.iocs_per_publication);
            publication.iocs = Some(Payload::new(xml.into_bytes()));
        }
        if plan.has_yara {
            let text = yara::publication_rules(&mut rng, plan, yara_files);
            publication.yara = Some(Payload::new(text.into_bytes()));
            yara_files += 1;
        }
        world.push(publication);
    }

    let groups = group_names(params, &plans);
    let mut master_types = Vec::new();
    if params.master_ioc_rows > 0 {
        let mut csv = Vec::with_capacity(params.master_ioc_rows * 110);
        master_types = write_master_ioc_rows(params, &groups, &mut csv)
            .expect("writing to memory cannot fail");
        world.master_ioc = Some(Payload::new(csv));
    }
    if params.master_yara_rules > 0 {
        let text = yara::master_rules(params.seed, params.master_yara_rules, &groups);
        world.master_yara = Some(Payload::new(text.into_bytes()));
    }

    let count = |has: fn(&PublicationPlan) -> bool| plans.iter().filter(|p| has(p)).count();
    world.description = Some(json!({
        "generator": "connector-kaspersky simulator",
        "params": params,
        "counts": {
            "publications": plans.len(),
            "with_pdf": count(|p| p.has_pdf),
            "with_iocs": count(|p| p.has_iocs),
            "with_yara": yara_files,
            "monthly_reports": count(PublicationPlan::is_monthly),
            "ioc_items": iocs.items,
            "master_ioc_rows": params.master_ioc_rows,
            "master_ioc_types": master_types
                .into_iter()
                .map(|(kind, n)| (kind.to_owned(), n))
                .collect::<serde_json::Map<_, _>>(),
            "master_ioc_groups": groups.len(),
            "master_yara_rules": params.master_yara_rules,
        },
    }));
    world
}

/// Writes the Master IoC CSV of the world `params` describes to `out`, row by row, without
/// building the world: for benchmark files of millions of rows. The bytes equal those of
/// [`generate`]'s `master_ioc` for the same parameters.
pub fn write_master_ioc<W: Write>(params: &GenerateParams, out: W) -> io::Result<()> {
    let groups = master_group_names(params);
    write_master_ioc_rows(params, &groups, out).map(|_| ())
}

/// Writes the Master YARA file of the world `params` describes to `out`, rule by rule,
/// without building the world. The bytes equal those of [`generate`]'s `master_yara`.
pub fn write_master_yara<W: Write>(params: &GenerateParams, out: W) -> io::Result<()> {
    let groups = master_group_names(params);
    let out = io::BufWriter::with_capacity(1 << 16, out);
    yara::write_master_rules(params.seed, params.master_yara_rules, &groups, out)
}

/// The group names of the Master files, from the publication plans alone (no files).
fn master_group_names(params: &GenerateParams) -> Vec<String> {
    let mut rng = Rng::new(params.seed, 0x5055_424c);
    let plans = publications::plan(&mut rng, params.publications);
    group_names(params, &plans)
}

fn write_master_ioc_rows<W: Write>(
    params: &GenerateParams,
    groups: &[String],
    out: W,
) -> io::Result<Vec<(&'static str, serde_json::Value)>> {
    let mut rows = MasterIocRows::new(params.seed, params.master_ioc_rows, groups.to_vec());
    if let Some(sizes) = group_sizes(params) {
        rows = rows.in_runs(sizes);
    }
    let counts = master_ioc::write_csv(rows, io::BufWriter::with_capacity(1 << 16, out))?;
    Ok(counts
        .into_iter()
        .map(|(kind, n)| (kind, json!(n)))
        .collect())
}

/// The names Master rows and rules are grouped by: the non-monthly publications' names,
/// then invented "infrastructure update" names.
fn group_names(params: &GenerateParams, plans: &[PublicationPlan]) -> Vec<String> {
    let wanted = match group_sizes(params) {
        Some(sizes) => sizes.len(),
        None => params.master_ioc_groups,
    }
    .max(1);
    let mut groups: Vec<String> = plans
        .iter()
        .filter(|plan| !plan.is_monthly())
        .map(|plan| plan.name.clone())
        .take(wanted)
        .collect();
    let mut rng = Rng::new(params.seed, 0x4752_5550);
    while groups.len() < wanted {
        groups.push(format!(
            "{} infrastructure update {:03}",
            rng.pick(names::ACTORS),
            groups.len() + 1
        ));
    }
    groups
}

/// The size of each Master IoC group when `master_ioc_group_rows` is set: drawn in
/// `min..=max` until they add up to `master_ioc_rows` (the last one cut short).
fn group_sizes(params: &GenerateParams) -> Option<Vec<usize>> {
    let (min, max) = params.master_ioc_group_rows?;
    let (min, max) = (min.max(1), max.max(min.max(1)));
    let mut rng = Rng::new(params.seed, 0x5349_5a45);
    let mut sizes = Vec::new();
    let mut left = params.master_ioc_rows;
    while left > 0 {
        let size = (min + rng.index(max - min + 1)).min(left);
        sizes.push(size);
        left -= size;
    }
    Some(sizes)
}

fn pdf_lines(plan: &PublicationPlan) -> Vec<String> {
    vec![
        plan.name.clone(),
        String::new(),
        format!(
            "Publication {} - fictional, generated for testing.",
            plan.id
        ),
        "No real event, organization or person is described here.".to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_params_give_the_same_world() {
        let params = GenerateParams::default();
        let a = generate(&params);
        let b = generate(&params);
        assert_eq!(a.publications().len(), 8);
        for (x, y) in a.publications().iter().zip(b.publications()) {
            assert_eq!(x.meta(), y.meta());
            assert_eq!(
                x.pdf.as_ref().map(Payload::raw),
                y.pdf.as_ref().map(Payload::raw)
            );
            assert_eq!(
                x.iocs.as_ref().map(Payload::raw),
                y.iocs.as_ref().map(Payload::raw)
            );
        }
        assert_eq!(
            a.master_ioc.as_ref().unwrap().raw(),
            b.master_ioc.as_ref().unwrap().raw()
        );
        let other = generate(&GenerateParams { seed: 2, ..params });
        assert_ne!(other.publications()[0].id(), a.publications()[0].id());
    }

    #[test]
    fn streaming_the_master_file_gives_the_same_bytes() {
        let params = GenerateParams::default();
        let world = generate(&params);
        let mut streamed = Vec::new();
        write_master_ioc(&params, &mut streamed).unwrap();
        assert_eq!(streamed, world.master_ioc.unwrap().raw());
    }

    #[test]
    fn streaming_the_master_yara_gives_the_same_bytes() {
        let params = GenerateParams {
            master_yara_rules: 30,
            ..GenerateParams::default()
        };
        let world = generate(&params);
        let mut streamed = Vec::new();
        write_master_yara(&params, &mut streamed).unwrap();
        assert_eq!(streamed, world.master_yara.unwrap().raw());
    }

    #[test]
    fn groups_of_a_chosen_size_come_one_after_the_other() {
        let params = GenerateParams {
            master_ioc_rows: 5_000,
            master_ioc_group_rows: Some((100, 1000)),
            ..GenerateParams::default()
        };
        let world = generate(&params);
        let mut streamed = Vec::new();
        write_master_ioc(&params, &mut streamed).unwrap();
        let csv = world.master_ioc.unwrap();
        assert_eq!(streamed, csv.raw());

        let mut reader = csv::ReaderBuilder::new()
            .quote(b'\'')
            .from_reader(csv.raw());
        let mut runs: Vec<(String, usize)> = Vec::new();
        for record in reader.records() {
            let name = record.unwrap()[1].to_owned();
            match runs.last_mut() {
                Some((last, n)) if *last == name => *n += 1,
                _ => runs.push((name, 1)),
            }
        }
        let names: std::collections::HashSet<&String> = runs.iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), runs.len(), "each group is one run");
        assert!(runs.len() >= 5 && runs.len() <= 50, "{} groups", runs.len());
        let (last, whole) = runs.split_last().unwrap();
        assert!(whole.iter().all(|(_, n)| (100..=1000).contains(n)));
        assert!(last.1 <= 1000);
        let counts = &world.description.unwrap()["counts"];
        assert_eq!(counts["master_ioc_groups"], runs.len());
    }

    #[test]
    fn the_default_world_has_the_demo_size() {
        let world = generate(&GenerateParams::default());
        let csv = std::str::from_utf8(world.master_ioc.as_ref().unwrap().raw()).unwrap();
        assert_eq!(csv.lines().count(), 301);
        let yara = std::str::from_utf8(world.master_yara.as_ref().unwrap().raw()).unwrap();
        assert_eq!(yara.matches("rule ").count(), 40);
        let description = world.description.unwrap();
        assert_eq!(description["counts"]["monthly_reports"], 1);
        assert!(description["counts"]["ioc_items"].as_u64().unwrap() >= 43);
    }

    #[test]
    fn a_world_without_master_files_has_none() {
        let params = GenerateParams {
            publications: 2,
            master_ioc_rows: 0,
            master_yara_rules: 0,
            ..GenerateParams::default()
        };
        let world = generate(&params);
        assert!(world.master_ioc.is_none() && world.master_yara.is_none());
        assert_eq!(world.publications().len(), 2);
    }
}
