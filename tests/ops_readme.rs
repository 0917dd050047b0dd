//! The README's configuration table is the one generated from the settings table.
//!
//! When a setting changes, regenerate the table with
//! `UPDATE_README=1 cargo test --test ops_readme` and commit README.md.

use std::path::PathBuf;

use connector_kaspersky::config::{markdown_table, settings};

const START: &str = "<!-- settings:start -->\n";
const END: &str = "<!-- settings:end -->";
const REGENERATE: &str = "UPDATE_README=1 cargo test --test ops_readme";

fn readme_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")
}

/// The README split around its generated table: before, table, after.
fn split(readme: &str) -> (&str, &str, &str) {
    assert_eq!(
        readme.matches(START.trim_end()).count(),
        1,
        "one {START:?} in README.md"
    );
    assert_eq!(readme.matches(END).count(), 1, "one {END:?} in README.md");
    let (before, rest) = readme.split_once(START).unwrap();
    let (table, after) = rest.split_once(END).unwrap();
    (before, table, after)
}

/// The first line where two texts differ, numbered from 1, for a readable failure.
fn first_difference(left: &str, right: &str) -> String {
    let mut right_lines = right.lines();
    for (index, line) in left.lines().enumerate() {
        let other = right_lines.next().unwrap_or("<missing>");
        if line != other {
            return format!(
                "table line {}:\n  README:    {line}\n  generated: {other}",
                index + 1
            );
        }
    }
    let extra = right_lines.next().unwrap_or("<none>");
    format!("the generated table has more lines, the next being:\n  {extra}")
}

#[test]
fn readme_settings_table_matches_the_settings() {
    let path = readme_path();
    let readme = std::fs::read_to_string(&path).unwrap();
    let (before, table, after) = split(&readme);
    let generated = markdown_table();
    if table == generated {
        return;
    }

    if std::env::var("UPDATE_README").as_deref() == Ok("1") {
        std::fs::write(&path, format!("{before}{START}{generated}{END}{after}")).unwrap();
        eprintln!("README.md: configuration table regenerated");
        return;
    }
    panic!(
        "README.md's configuration table differs from config::markdown_table() at {}\n\
         Regenerate it with `{REGENERATE}` and commit README.md.",
        first_difference(table, &generated)
    );
}

#[test]
fn readme_tells_how_to_regenerate_the_table() {
    let readme = std::fs::read_to_string(readme_path()).unwrap();
    let (before, _, _) = split(&readme);
    let section = &before[before
        .find("## Configuration")
        .expect("a ## Configuration section")..];
    assert!(
        section.contains(REGENERATE),
        "the section names `{REGENERATE}`"
    );
}

#[test]
fn generated_table_has_one_row_per_setting() {
    let table = markdown_table();
    assert_eq!(table.lines().count(), settings().len() + 2);
    for setting in settings() {
        let row = format!("| `{}` | `{}` |", setting.path, setting.env);
        assert_eq!(table.matches(&row).count(), 1, "{setting}");
    }
}
