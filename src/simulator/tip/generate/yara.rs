//! YARA text for generated worlds: per-publication rule files and the Master YARA file.
//!
//! Rules are valid YARA. A rule uses a module only where its file imports it; the Master
//! file imports `pe`, `math` and `hash` at the top. The meta blocks carry what the
//! connector reads (`description` or `desc`, `report`, `last_modified`) in the shapes the
//! field shows: private rules, rules without description or report, report names with
//! trailing spaces, escaped quotes, and `last_modified` in many date forms.

use std::fmt::Write;
use std::io;

use super::names::{HOST_WORDS, MALWARE, MONTHS};
use super::publications::{EPOCH, PublicationPlan};
use super::rng::Rng;

/// The modules a rule's condition may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Modules {
    pe: bool,
    math: bool,
    hash: bool,
}

/// Everything that differs between two generated rules.
struct RuleSpec<'a> {
    name: String,
    private: bool,
    tags: &'static str,
    /// `Some((key, text))`: `description` or `desc`; `text` already escaped for YARA.
    description: Option<(&'static str, String)>,
    report: Option<&'a str>,
    last_modified: Option<String>,
    /// A private rule this one's condition requires.
    requires: Option<String>,
    modules: Modules,
    family: &'static str,
}

/// The rule file of one publication: 2 or 3 rules naming it in `report`.
pub(crate) fn publication_rules(
    rng: &mut Rng,
    plan: &PublicationPlan,
    file_index: usize,
) -> String {
    let mut text = String::new();
    let modules = match file_index % 3 {
        0 => {
            text.push_str("import \"pe\"\nimport \"math\"\n\n");
            Modules {
                pe: true,
                math: true,
                hash: false,
            }
        }
        1 => {
            let _ = write!(
                text,
                "// Fictional rules for the {} family\nimport \"pe\"\n\n",
                plan.malware
            );
            Modules {
                pe: true,
                math: false,
                hash: false,
            }
        }
        _ => Modules {
            pe: false,
            math: false,
            hash: false,
        },
    };

    let count = 2 + rng.index(2);
    let short_id = &plan.id[..6];
    let mut private_name: Option<String> = None;
    for index in 0..count {
        // The second file gets a private helper rule that the next rule requires.
        let private = file_index == 1 && index == 0;
        let name = format!(
            "{}_{}_{short_id}_{index}",
            if private {
                "priv"
            } else {
                ["apt", "susp"][index % 2]
            },
            plan.malware
        );
        let description = if index == 1 && file_index.is_multiple_of(2) {
            (
                "desc",
                format!(
                    "Detects the fictional {} family (variant {index})",
                    plan.malware
                ),
            )
        } else {
            (
                "description",
                format!(
                    "Detects the fictional {} family (variant {index})",
                    plan.malware
                ),
            )
        };
        let spec = RuleSpec {
            name: name.clone(),
            private,
            tags: ["", " : x64", " : fict"][index % 3],
            description: Some(description),
            report: Some(&plan.name),
            last_modified: last_modified(rng, file_index * 3 + index),
            requires: if private { None } else { private_name.take() },
            modules,
            family: plan.malware,
        };
        write_rule(rng, &mut text, &spec, index % 2 == 1);
        if private {
            private_name = Some(name);
        }
        text.push('\n');
    }
    text
}

/// The Master YARA file: `count` rules spread over `groups` (publication names).
pub(crate) fn master_rules(seed: u64, count: usize, groups: &[String]) -> String {
    let mut text = Vec::new();
    write_master_rules(seed, count, groups, &mut text).expect("writing to memory cannot fail");
    String::from_utf8(text).expect("generated rules are UTF-8")
}

/// [`master_rules`], written to `out` one rule at a time: only one rule's text is ever in
/// memory, whatever `count`.
pub(crate) fn write_master_rules<W: io::Write>(
    seed: u64,
    count: usize,
    groups: &[String],
    mut out: W,
) -> io::Result<()> {
    let mut rng = Rng::new(seed, 0x5941_5241);
    out.write_all(b"import \"pe\"\nimport \"math\"\nimport \"hash\"\n\n")?;
    let mut text = String::new();
    let modules = Modules {
        pe: true,
        math: true,
        hash: true,
    };

    let mut private_name: Option<String> = None;
    for index in 0..count {
        let family = *rng.pick(MALWARE);
        let private = index % 10 == 3;
        let prefix = if private {
            "priv"
        } else {
            ["apt", "susp", "crime"][index % 3]
        };
        let name = format!("{prefix}_{family}_{}_{index:05}", rng.hex(4));

        let description = match index {
            _ if index % 17 == 6 => None,
            _ if index % 19 == 2 => Some((
                "description",
                format!(r#"Detects the \"{family}\" loader stage (fictional)"#),
            )),
            _ if index % 4 == 1 => Some((
                "desc",
                format!("Fictional detection for {family} sample set {index}"),
            )),
            _ => Some((
                "description",
                format!("Detects the fictional {family} family"),
            )),
        };
        let group = &groups[rng.index(groups.len())];
        let padded;
        let report = if index % 9 == 7 {
            None
        } else if index % 11 == 5 {
            padded = format!("{group}  ");
            Some(padded.as_str())
        } else {
            Some(group.as_str())
        };

        let spec = RuleSpec {
            name: name.clone(),
            private,
            tags: ["", " : fict", " : x86 x64"][index % 3],
            description,
            report,
            last_modified: last_modified(&mut rng, index),
            requires: if private { None } else { private_name.take() },
            modules,
            family,
        };
        text.clear();
        write_rule(&mut rng, &mut text, &spec, index % 2 == 0);
        if private {
            private_name = Some(name);
        }
        text.push('\n');
        out.write_all(text.as_bytes())?;
    }
    out.flush()
}

/// `last_modified` in one of the forms seen in the field, chosen by `form`; `None` means
/// no `last_modified` at all.
fn last_modified(rng: &mut Rng, form: usize) -> Option<String> {
    let seconds = EPOCH + rng.below(700) as i64 * 86_400 + rng.below(86_400) as i64;
    let time = jiff::Timestamp::from_second(seconds).expect("generated times are in range");
    let month_name = MONTHS[time.to_zoned_datetime(jiff::tz::TimeZone::UTC).month() as usize - 1];
    let format = |pattern: &str| time.strftime(pattern).to_string();
    Some(match form % 15 {
        0 => format("%Y-%m-%d"),
        1 => format("%Y-%m-%dT%H:%M:%S"),
        2 => format("%Y-%m-%dT%H:%M:%SZ"),
        3 => format("%Y-%m-%d %H:%M:%S"),
        4 => format("%d-%m-%Y"),
        5 => format("%d.%m.%Y"),
        6 => format("%Y.%m.%d"),
        7 => format("%Y-%m"),
        8 => format!("{month_name} {}, {}", format("%-d"), format("%Y")),
        9 => format("%d %b %Y"),
        10 => format("%Y%m%d"),
        11 => format("['%Y-%m-%d']"),
        12 => "-".to_owned(),
        13 => return None,
        _ => format("%b %d %Y"),
    })
}

fn write_rule(rng: &mut Rng, text: &mut String, spec: &RuleSpec<'_>, brace_on_own_line: bool) {
    let keyword = if spec.private { "private rule" } else { "rule" };
    let _ = write!(text, "{keyword} {}{}", spec.name, spec.tags);
    text.push_str(if brace_on_own_line { "\n{\n" } else { " {\n" });

    text.push_str("    meta:\n");
    if let Some((key, description)) = &spec.description {
        let _ = writeln!(text, "        {key} = \"{description}\"");
    }
    text.push_str("        author = \"Fictional Research Lab\"\n");
    if let Some(report) = spec.report {
        let _ = writeln!(text, "        report = \"{}\"", escape(report));
    }
    if let Some(last_modified) = &spec.last_modified {
        let _ = writeln!(text, "        last_modified = \"{last_modified}\"");
    }
    let _ = writeln!(text, "        version = \"1.{}\"", rng.below(10));

    let family = spec.family.to_lowercase();
    let word = rng.pick(HOST_WORDS);
    text.push_str("    strings:\n");
    let _ = writeln!(
        text,
        "        $s1 = \"{family}-{word}-{}\" ascii wide",
        rng.hex(6)
    );
    let _ = writeln!(
        text,
        "        $s2 = \"{word}{}.example.org\" nocase",
        rng.below(100)
    );
    let hex: Vec<String> = (0..6 + rng.index(8))
        .map(|_| format!("{:02X}", rng.below(256)))
        .collect();
    let _ = writeln!(text, "        $h1 = {{ 4D 5A ?? ?? {} }}", hex.join(" "));
    if rng.chance(40) {
        let _ = writeln!(
            text,
            "        $r1 = /{word}[0-9a-f]{{4}}\\.example\\.(com|net)/"
        );
    }

    let mut condition = match rng.below(4) {
        1 if spec.modules.pe => {
            "uint16(0) == 0x5A4D and pe.number_of_sections > 4 and any of them".to_owned()
        }
        2 if spec.modules.math => {
            format!(
                "uint16(0) == 0x5A4D and math.entropy(0, filesize) > 7.{} and 1 of them",
                rng.below(10)
            )
        }
        3 if spec.modules.hash => format!(
            "any of them or hash.md5(0, filesize) == \"{}\"",
            rng.hex(32)
        ),
        _ => "uint16(0) == 0x5A4D and 1 of them".to_owned(),
    };
    if let Some(required) = &spec.requires {
        condition = format!("{required} and ({condition})");
    }
    let _ = write!(text, "    condition:\n        {condition}\n}}\n");
}

/// A YARA string body: backslashes and quotes escaped.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::super::publications;
    use super::*;

    fn groups() -> Vec<String> {
        vec![
            "Group one".to_owned(),
            "Group in Korea, Republic of".to_owned(),
        ]
    }

    #[test]
    fn master_rules_show_every_oddity() {
        let text = master_rules(4, 40, &groups());
        assert!(text.starts_with("import \"pe\"\nimport \"math\"\nimport \"hash\"\n"));
        assert_eq!(
            text.matches("\nrule ").count() + text.matches("\nprivate rule ").count(),
            40
        );
        assert!(text.contains("private rule priv_"));
        assert!(text.contains(r#"\" loader stage"#));
        assert!(text.contains("  \"\n"), "a report with trailing spaces");
        assert!(text.contains("last_modified = \"-\""));
        assert!(text.contains("last_modified = \"['"));
        assert!(text.contains("desc = "));
        let rules: Vec<&str> = text.split("\n}\n").collect();
        assert!(
            rules
                .iter()
                .any(|r| !r.contains("report =") && r.contains("rule "))
        );
        assert!(
            rules.iter().any(|r| !r.contains("description =")
                && !r.contains("desc =")
                && r.contains("rule "))
        );
    }

    #[test]
    fn every_last_modified_form_appears() {
        let mut rng = Rng::new(1, 0);
        let forms: Vec<Option<String>> =
            (0..15).map(|form| last_modified(&mut rng, form)).collect();
        assert!(forms.contains(&None));
        assert!(
            forms
                .iter()
                .flatten()
                .any(|f| f.len() == 8 && f.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(forms.iter().flatten().any(|f| f.contains(", 20")));
    }

    #[test]
    fn publication_files_vary_their_preamble() {
        let mut rng = Rng::new(2, 0);
        let plan = &publications::plan(&mut rng, 1)[0];
        let first = publication_rules(&mut rng, plan, 0);
        let second = publication_rules(&mut rng, plan, 1);
        let third = publication_rules(&mut rng, plan, 2);
        assert!(first.starts_with("import \"pe\"\nimport \"math\""));
        assert!(second.starts_with("// Fictional rules"));
        assert!(second.contains("private rule"));
        assert!(!third.contains("import") && !third.contains("pe.") && !third.contains("math."));
        assert!(first.contains(&format!("report = \"{}\"", plan.name)));
    }

    #[cfg(feature = "yara-validate")]
    #[test]
    fn generated_rules_compile() {
        let mut rng = Rng::new(3, 0);
        let plans = publications::plan(&mut rng, 3);
        let mut files = vec![master_rules(3, 60, &groups())];
        for (index, plan) in plans.iter().enumerate() {
            files.push(publication_rules(&mut rng, plan, index));
        }
        for file in files {
            let mut compiler = boreal::Compiler::new();
            if let Err(error) = compiler.add_rules_str(&file) {
                panic!("{error:?}\n{file}");
            }
        }
    }
}
