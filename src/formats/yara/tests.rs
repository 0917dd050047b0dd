//! YARA splitting: our fixtures, the synthetic samples and the real-world files.

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/formats/yara");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

fn names(file: &YaraFile) -> Vec<&str> {
    file.rules.iter().map(|rule| rule.name.as_str()).collect()
}

fn rule<'a>(file: &'a YaraFile, name: &str) -> &'a YaraRule {
    file.rules.iter().find(|rule| rule.name == name).unwrap()
}

fn errors(file: &YaraFile) -> Vec<(&str, usize)> {
    file.errors
        .iter()
        .map(|error| (error.rule.as_str(), error.line))
        .collect()
}

#[test]
fn commented_out_rules_are_not_rules() {
    let text = fixture("commented_out.yar");
    let file = split(&text);
    assert_eq!(names(&file), ["live_rule"]);
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert_eq!(file.imports, ["import \"pe\""]);

    let live = &file.rules[0];
    assert_eq!(live.line, 14);
    assert_eq!(live.tags, ["example"]);
    assert_eq!(
        live.description.as_deref(),
        Some("The only rule here; braces in a string: { }")
    );
    assert!(live.text.starts_with("rule live_rule : example\n{"));
    assert!(live.text.ends_with("pe.number_of_sections > 1\n}"));
    // Imports, an empty line, the rule, a final line break; comments outside left out.
    assert_eq!(live.pattern, format!("import \"pe\"\n\n{}\n", live.text));
}

#[test]
fn references_carry_the_named_rules_in_file_order() {
    let text = fixture("references.yar");
    let file = split(&text);
    assert_eq!(
        names(&file),
        [
            "global_size_limit",
            "private_marker",
            "uses_private",
            "unrelated",
            "chain"
        ]
    );
    assert!(file.errors.is_empty(), "{:?}", file.errors);

    let global = rule(&file, "global_size_limit");
    assert!(global.global && !global.private);
    let private = rule(&file, "private_marker");
    assert!(private.private && !private.global);

    // No imports: the pattern still opens with its empty line.
    assert_eq!(private.pattern, format!("\n{}\n", private.text));

    let uses = rule(&file, "uses_private");
    assert_eq!(uses.description.as_deref(), Some("Names a private rule"));
    assert_eq!(
        uses.pattern,
        format!("\n{}\n\n{}\n", private.text, uses.text)
    );

    // Transitive, in file order, each once; the global rule is not named, so not carried.
    let chain = rule(&file, "chain");
    let unrelated = rule(&file, "unrelated");
    assert_eq!(
        chain.pattern,
        format!(
            "\n{}\n\n{}\n\n{}\n\n{}\n",
            private.text, uses.text, unrelated.text, chain.text
        )
    );
}

#[test]
fn a_broken_rule_between_two_good_ones() {
    let text = fixture("broken_between.yar");
    let file = split(&text);
    assert_eq!(names(&file), ["good_before", "good_after"]);
    assert_eq!(errors(&file), [("broken_middle", 7), ("needs_broken", 21)]);
    assert!(
        file.errors[0].reason.contains("expecting"),
        "{}",
        file.errors[0]
    );
    assert_eq!(
        file.errors[1].reason,
        "its condition names rule `broken_middle`, which was skipped"
    );
    assert_eq!(
        file.errors[0].to_string(),
        format!("rule broken_middle (line 7): {}", file.errors[0].reason)
    );
}

#[test]
fn unbalanced_braces_cost_only_the_broken_rule() {
    let text = fixture("unbalanced.yar");
    let file = split(&text);
    assert_eq!(
        names(&file),
        ["first_ok", "swallowed_one", "swallowed_two", "after_ok"]
    );
    let skipped = errors(&file);
    assert_eq!(skipped[0], ("missing_brace", 7));
    // The stray closing braces at the end are reported, not taken for rules.
    assert!(
        skipped[1..].iter().all(|(rule, _)| *rule == "<unnamed>"),
        "{skipped:?}"
    );
    assert!(!skipped[1..].is_empty());

    let two = rule(&file, "swallowed_two");
    assert!(two.private);
    assert!(two.text.starts_with("private rule swallowed_two\n{"));
    assert!(two.text.ends_with("true\n}"));
    let after = rule(&file, "after_ok");
    assert_eq!(after.pattern, format!("\n{}\n\n{}\n", two.text, after.text));
}

#[test]
fn many_unclosed_rules_stay_linear() {
    let text = "rule open_rule { condition: true\n".repeat(3000) + "}\n";
    let file = split(&text);
    // Only the last one is closed, by the final brace.
    assert_eq!(file.rules.len(), 1);
    assert_eq!(file.rules[0].line, 3000);
    assert_eq!(file.errors.len(), 2999);
    assert_eq!(file.errors[2998].line, 2999);
}

#[test]
fn meta_values() {
    let text = fixture("meta.yar");
    let file = split(&text);
    assert!(file.errors.is_empty(), "{:?}", file.errors);

    let forms = rule(&file, "meta_forms");
    assert_eq!(forms.tags, ["tag_one", "tag_two"]);
    assert_eq!(forms.description.as_deref(), Some("Preferred over desc"));
    assert_eq!(forms.report.as_deref(), Some("Example Report Name"));
    assert_eq!(forms.last_modified_text.as_deref(), Some("20240314"));
    assert_eq!(
        forms.last_modified,
        Some("2024-03-14T00:00:00Z".parse().unwrap())
    );

    let blank = rule(&file, "meta_blank_report");
    assert_eq!(blank.report, None);
    assert_eq!(blank.description.as_deref(), Some("-"));
    assert_eq!(
        blank.last_modified,
        Some("2024-03-14T00:00:00Z".parse().unwrap())
    );

    let none = rule(&file, "meta_none");
    assert_eq!(
        (&none.description, &none.report, &none.last_modified_text),
        (&None, &None, &None)
    );
    assert_eq!(none.text, "rule meta_none { condition: true }");
}

#[test]
fn escaped_quotes_are_unescaped() {
    let text = "rule q { meta: desc = \"Matches the \\\"Example\\\" loader\\tx\" condition: true }";
    let file = split(text);
    assert_eq!(
        file.rules[0].description.as_deref(),
        Some("Matches the \"Example\" loader\tx")
    );
}

#[test]
fn crlf_is_kept_in_the_rule_text() {
    let text = fixture("crlf_imports.yar");
    assert!(text.contains("\r\n"));
    let file = split(&text);
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert_eq!(file.imports, ["import \"pe\"", "import \"hash\""]);
    let crlf = &file.rules[0];
    assert_eq!(crlf.line, 4);
    assert!(crlf.text.contains("\r\n    condition:\r\n"));
    assert!(crlf.text.ends_with("\r\n}"));
    assert_eq!(
        crlf.pattern,
        format!("import \"pe\"\nimport \"hash\"\n\n{}\n", crlf.text)
    );
}

#[test]
fn imports_are_listed_once() {
    let text = "import \"pe\"\nimport \"math\"\nimport \"pe\"\nrule r { condition: true }\n";
    let file = split(text);
    assert_eq!(file.imports, ["import \"pe\"", "import \"math\""]);
}

#[test]
fn include_and_garbage_are_reported() {
    let text = "include \"other.yar\"\nrule ok { condition: true }\nnot yara at all\n";
    let file = split(text);
    assert_eq!(names(&file), ["ok"]);
    assert_eq!(errors(&file), [("<unnamed>", 1), ("<unnamed>", 3)]);
    assert!(file.errors[0].reason.contains("include"));
}

#[test]
fn unfinished_rule_at_the_end_of_the_file() {
    let file = split("rule complete { condition: true }\nrule cut { condition: tr");
    assert_eq!(names(&file), ["complete"]);
    assert_eq!(errors(&file), [("cut", 2)]);
}

#[test]
fn a_one_megabyte_string() {
    let big = "A".repeat(1 << 20);
    let text = format!(
        "rule big_string {{\n strings:\n  $a = \"{big}\"\n condition:\n  $a\n}}\n\
         rule after {{ condition: true }}\n"
    );
    let file = split(&text);
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert_eq!(names(&file), ["big_string", "after"]);
    assert!(file.rules[0].text.len() > 1 << 20);
}

#[test]
fn empty_and_comment_only_files() {
    for text in ["", "\n\n", "// nothing\n/* at all */\n", "import \"pe\"\n"] {
        let file = split(text);
        assert!(file.rules.is_empty() && file.errors.is_empty(), "{text:?}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 5000;
    let text = format!(
        "rule deep {{ condition: {}true{} }}\nrule fine {{ condition: true }}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let file = split(&text);
    assert_eq!(names(&file), ["fine"]);
    assert_eq!(errors(&file), [("deep", 1)]);
}

#[cfg(feature = "yara-validate")]
#[test]
fn rules_that_do_not_compile_are_skipped() {
    let text = fixture("does_not_compile.yar");
    let file = split(&text);
    assert_eq!(names(&file), ["compiles"]);
    assert_eq!(
        errors(&file),
        [("uses_missing_string", 1), ("unknown_function", 13)]
    );
    let reason = &file.errors[0].reason;
    assert!(reason.starts_with("does not compile: mem:"), "{reason}");
    assert!(
        reason.contains("$missing") && !reason.contains('\n'),
        "{reason}"
    );
}

#[cfg(not(feature = "yara-validate"))]
#[test]
fn without_validation_syntax_is_enough() {
    let file = split(&fixture("does_not_compile.yar"));
    assert_eq!(
        names(&file),
        ["uses_missing_string", "compiles", "unknown_function"]
    );
}

/// The synthetic Master YARA file: 40 rules, all usable.
#[test]
fn shared_master_yara() {
    let Some(path) = crate::testdata::shared("samples/decoded/master_yara.yar") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let file = split(&text);
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert_eq!(file.rules.len(), 40);
    assert_eq!(
        file.imports,
        ["import \"pe\"", "import \"math\"", "import \"hash\""]
    );

    let private: Vec<_> = file
        .rules
        .iter()
        .filter(|r| r.private)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        private,
        ["apt_LinenThimble_9140_00009", "apt_LittleBucket_a4ee_00013"]
    );
    assert_eq!(file.rules.iter().filter(|r| r.report.is_none()).count(), 5);
    assert_eq!(
        file.rules
            .iter()
            .filter(|r| r.description.is_none())
            .count(),
        1
    );
    assert_eq!(
        file.rules
            .iter()
            .filter(|r| r.last_modified_text.is_none())
            .count(),
        3
    );
    // Every `last_modified` but the three `-` reads as a date.
    let undated = file
        .rules
        .iter()
        .filter(|r| r.last_modified_text.is_some())
        .filter(|r| r.last_modified.is_none())
        .map(|r| r.last_modified_text.as_deref().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(undated, ["-", "-", "-"]);

    let first = &file.rules[0];
    assert_eq!(first.name, "apt_QuietTrellis_b757_00000");
    assert_eq!(first.line, 5);
    assert_eq!(first.tags, ["fict"]);
    assert_eq!(
        first.last_modified,
        Some("2024-01-17T00:00:00Z".parse().unwrap())
    );
    let prefix = "import \"pe\"\nimport \"math\"\nimport \"hash\"\n\n";
    assert_eq!(first.pattern, format!("{prefix}{}\n", first.text));
    assert!(
        file.rules
            .iter()
            .all(|r| r.pattern.starts_with(prefix) && r.pattern.ends_with("}\n"))
    );

    let quoted = rule(&file, "apt_QuietTrellis_6a0c_00005");
    assert_eq!(
        quoted.description.as_deref(),
        Some("Matches the \"QuietTrellis\" loader")
    );
    let padded = file.rules.iter().find(|r| r.line == 255).unwrap();
    assert_eq!(
        padded.report.as_deref(),
        Some("Junipershrike operations overview 0")
    );
}

/// Every publication's rules file: counts and rule texts that compile alone.
#[test]
fn shared_publication_rules() {
    let Some(dir) = crate::testdata::shared("samples/decoded/publications") else {
        return;
    };
    for (id, count, imports) in [
        ("7930f04777c6", 1, 2),
        ("9e9aa600bccf", 3, 0),
        ("e72b525c828a", 1, 2),
        ("f52f7e6885e1", 3, 2),
    ] {
        let text = std::fs::read_to_string(dir.join(id).join("rules.yar")).unwrap();
        let file = split(&text);
        assert!(file.errors.is_empty(), "{id}: {:?}", file.errors);
        assert_eq!(
            (file.rules.len(), file.imports.len()),
            (count, imports),
            "{id}"
        );
        assert!(
            file.rules
                .iter()
                .all(|r| r.report.is_some() && r.last_modified.is_some()),
            "{id}"
        );
    }
}

/// The real-world files and what each exercises (samples/real/yara/SOURCES.md).
#[test]
fn real_world_files() {
    let Some(dir) = crate::testdata::shared("samples/real/yara") else {
        return;
    };
    let read = |name: &str| split(&std::fs::read_to_string(dir.join(name)).unwrap());

    let hellsing = read("sigbase_apt_hellsing_kaspersky.yar");
    assert_eq!(hellsing.rules.len(), 6);
    assert!(
        hellsing
            .rules
            .iter()
            .all(|r| r.last_modified_text.is_none())
    );

    let moonlight = read("sigbase_apt_moonlightmaze.yar");
    assert_eq!(moonlight.rules.len(), 10);
    let dated: Vec<_> = moonlight
        .rules
        .iter()
        .filter_map(|r| r.last_modified_text.as_deref())
        .collect();
    assert!(
        dated.contains(&"2017-03-22") && dated.contains(&"2017-03-27"),
        "{dated:?}"
    );

    let days = read("sigbase_gen_100days_of_yara_2023.yar");
    assert_eq!(days.rules.len(), 10);
    assert_eq!(days.imports, ["import \"pe\""]);
    let dotted = days
        .rules
        .iter()
        .find(|r| r.last_modified_text.as_deref() == Some("2023.01.01"));
    assert_eq!(
        dotted.unwrap().last_modified,
        Some("2023-01-01T00:00:00Z".parse().unwrap())
    );
    assert!(rule(&days, "MAL_GOLDBACKDOOR_LNK").description.is_none());

    let stuxshop = read("sigbase_apt_stuxshop_desc_field.yar");
    assert_eq!(stuxshop.rules.len(), 2);
    assert!(stuxshop.rules.iter().all(|r| r.description.is_some()));

    let bear = read("yararules_APT_EnergeticBear_backdoored_ssh.yar");
    assert_eq!(bear.rules.len(), 1);
    assert_eq!(bear.rules[0].description, None);

    for file in [&hellsing, &moonlight, &days, &stuxshop, &bear] {
        assert!(file.errors.is_empty(), "{:?}", file.errors);
    }
}

/// A condition line with a byte that is not UTF-8 in its comment: blanking the line would
/// leave `$a` alone and the rule would match far more. The rule is dropped and named with
/// its lines, a rule that names it goes too, the others are kept as written.
#[test]
fn a_rule_spanning_a_line_that_is_not_utf8_is_skipped_whole() {
    let bytes = b"import \"pe\" // \xe9\n\
        rule Before { condition: true }\n\
        rule Damaged\n\
        {\n\
            strings:\n\
                $a = \"x\"\n\
            condition:\n\
                $a\n\
                and filesize < 100 // caf\xe9\n\
        }\n\
        rule Naming { condition: Damaged }\n\
        /* \xff between rules */\n\
        rule After { condition: false }\n";
    let (text, bad) = crate::formats::text::replaced_lines(bytes.to_vec());
    assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [1, 9, 12]);

    let file = split_except(&text, &bad);
    assert_eq!(names(&file), ["Before", "After"]);
    assert_eq!(file.imports, ["import \"pe\""]);
    assert_eq!(rule(&file, "After").text, "rule After { condition: false }");
    assert_eq!(errors(&file), [("Damaged", 3), ("Naming", 11)]);
    assert_eq!(file.errors[0].end_line, Some(10));
    assert_eq!(file.errors[0].reason, "not UTF-8 at line 9");
    assert!(
        file.errors[1].reason.contains("`Damaged`"),
        "{:?}",
        file.errors
    );

    // Without the bad lines the same text keeps every rule.
    assert_eq!(split(&text).rules.len(), 4);
}
