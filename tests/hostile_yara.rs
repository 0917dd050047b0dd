//! Hostile YARA: unbalanced braces and a rule with an enormous string. The bad rule is
//! named and the other rules still convert.

#[path = "support/hostile_input.rs"]
mod convert;

use convert::{convert, write, yara_rule};

fn names(run: &convert::Converted) -> Vec<String> {
    let mut names: Vec<String> = run
        .of_type("indicator")
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn unbalanced_braces_cost_only_the_broken_rules() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\
         rule missing_close\n{{\n    condition:\n        true\n\n\
         {}\
         rule extra_open\n{{\n    {{ condition:\n        true\n}}\n\n\
         rule stray_close {{ condition: false }}\n}}\n}}\n\n\
         {}",
        yara_rule("before_ok"),
        yara_rule("swallowed_ok"),
        yara_rule("after_ok"),
    );
    let file = write(dir.path(), "unbalanced.yar", text);

    let run = convert(dir.path(), "master-yara", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    let names = names(&run);
    for kept in ["after_ok", "before_ok", "swallowed_ok"] {
        assert!(names.iter().any(|n| n == kept), "{kept} lost: {names:?}");
    }
    for broken in ["missing_close", "extra_open"] {
        assert!(!names.iter().any(|n| n == broken), "{broken} kept");
        assert!(
            run.stderr.contains(&format!("YARA rule {broken}")),
            "{broken} not named: {}",
            run.stderr
        );
    }
}

#[test]
fn an_enormous_string_does_not_stop_the_other_rules() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "A".repeat(2 << 20);
    let hex = "4D 5A ".repeat(200_000);
    let text = format!(
        "{}\
         rule enormous_text\n{{\n    strings:\n        $a = \"{huge}\"\n    condition:\n        \
         $a\n}}\n\n\
         rule enormous_hex\n{{\n    strings:\n        $h = {{ {hex} }}\n    condition:\n        \
         $h\n}}\n\n\
         rule unterminated_string\n{{\n    strings:\n        $u = \"{huge}\n    \
         condition:\n        $u\n}}\n\n\
         {}",
        yara_rule("first_ok"),
        yara_rule("last_ok"),
    );
    let file = write(dir.path(), "enormous.yar", text);

    let run = convert(dir.path(), "master-yara", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    let names = names(&run);
    for kept in ["first_ok", "last_ok"] {
        assert!(names.iter().any(|n| n == kept), "{kept} lost: {names:?}");
    }
    // An enormous rule that converts is whole; one that does not is named.
    for enormous in ["enormous_text", "enormous_hex", "unterminated_string"] {
        if names.iter().any(|n| n == enormous) {
            let indicator = run
                .of_type("indicator")
                .find(|i| i["name"] == enormous)
                .unwrap();
            assert!(indicator["pattern"].as_str().unwrap().len() > 1 << 20);
        } else {
            assert!(
                run.stderr.contains(&format!("YARA rule {enormous}")),
                "{enormous} neither converted nor named: {}",
                run.stderr
            );
        }
    }
    assert!(
        !names.iter().any(|n| n == "unterminated_string"),
        "{names:?}"
    );
}
