//! Hostile OpenIOC: DTDs, entity expansion, external entities, deep nesting, invalid
//! UTF-8. A standalone document that cannot be read is refused in one line; inside a
//! publication it is named and the rest of the publication converts.

#[path = "support/hostile_input.rs"]
mod convert;

use convert::{convert, get_one, openioc, pack, write, yara_rule};
use serde_json::json;

/// A billion-laughs document: ten levels of ten references, 10^10 `lol`s if expanded.
fn billion_laughs() -> String {
    let mut dtd = String::from("<!ENTITY l0 \"lol\">\n");
    for level in 1..=10 {
        let refs = format!("&l{};", level - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY l{level} \"{refs}\">\n"));
    }
    format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE ioc [\n{dtd}]>\n\
         <ioc xmlns=\"http://schemas.mandiant.com/2010/ioc\" id=\"laughs\">\
         <description>&l10;</description><definition/></ioc>\n"
    )
}

/// A document whose external entity names a file holding `secret`.
fn external_entity(dir: &std::path::Path, secret: &str) -> String {
    let target = write(dir, "local-secret.txt", secret);
    format!(
        "<?xml version=\"1.0\"?>\n\
         <!DOCTYPE ioc [<!ENTITY leak SYSTEM \"file://{}\">]>\n\
         <ioc xmlns=\"http://schemas.mandiant.com/2010/ioc\" id=\"xxe\">\
         <description>&leak;</description><definition>\
         <IndicatorItem id=\"x1\" condition=\"is\">\
         <Context document=\"Network\" search=\"Network/DNS\" type=\"mir\"/>\
         <Content type=\"string\">&leak;</Content></IndicatorItem>\
         </definition></ioc>\n",
        target.display()
    )
}

/// Elements nested `depth` levels deep inside an otherwise valid document.
fn deeply_nested(depth: usize) -> String {
    format!(
        "<ioc xmlns=\"http://schemas.mandiant.com/2010/ioc\" id=\"deep\"><definition>{}{}\
         </definition></ioc>",
        "<Indicator operator=\"OR\">".repeat(depth),
        "</Indicator>".repeat(depth)
    )
}

/// Everything the run wrote: standard output, standard error and the bundles.
fn everything(run: &convert::Converted) -> String {
    let bundles: Vec<String> = run.bundles.iter().map(|(_, b)| b.to_string()).collect();
    format!("{}{}{}", run.stdout, run.stderr, bundles.join(""))
}

#[test]
fn a_dtd_is_refused_without_expansion() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "laughs.ioc", billion_laughs());

    let run = convert(dir.path(), "openioc", &file, &[]);

    assert!(!run.success);
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("is not a readable OpenIOC document")
            && lines[0].contains("malformed XML"),
        "{lines:?}"
    );
    assert!(!everything(&run).contains("lollol"));
}

#[test]
fn an_external_entity_is_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "secret-marker-4f1c9a";
    let file = write(dir.path(), "xxe.ioc", external_entity(dir.path(), secret));

    let run = convert(dir.path(), "openioc", &file, &[]);

    assert!(!run.success);
    assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
    assert!(!everything(&run).contains(secret));
}

#[test]
fn hostile_documents_in_a_publication_are_named_and_the_rest_converts() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "secret-marker-77d2e0";
    for (name, document) in [
        ("laughs", billion_laughs().into_bytes()),
        ("xxe", external_entity(dir.path(), secret).into_bytes()),
        ("deep", deeply_nested(10_000).into_bytes()),
        ("utf8", b"<ioc id=\"\xff\xfe\"><definition/></ioc>".to_vec()),
    ] {
        let body = get_one(json!({
            "report_iocs": pack(&document),
            "report_yara": pack(yara_rule("kept_rule").as_bytes()),
        }));
        let file = write(dir.path(), &format!("{name}.json"), body.to_string());

        let run = convert(dir.path(), "publication", &file, &[]);

        assert!(run.success, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("publication p1 OpenIOC document"),
            "{name}: {}",
            run.stderr
        );
        assert_eq!(run.of_type("indicator").count(), 1, "{name}");
        assert_eq!(run.of_type("report").count(), 1, "{name}");
        assert!(!everything(&run).contains(secret), "{name}");
        assert!(!everything(&run).contains("lollol"), "{name}");
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "deep.ioc", deeply_nested(200_000));

    let run = convert(dir.path(), "openioc", &file, &[]);

    assert!(!run.success);
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("nested deeper than 256 levels"),
        "{lines:?}"
    );
}

#[test]
fn nesting_within_the_limit_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 200;
    let item = "<IndicatorItem id=\"n1\" condition=\"is\">\
                <Context document=\"Network\" search=\"Network/DNS\" type=\"mir\"/>\
                <Content type=\"string\">deep.example.com</Content></IndicatorItem>";
    let document = format!(
        "<ioc xmlns=\"http://schemas.mandiant.com/2010/ioc\" id=\"deep\"><definition>\
         {}{item}{}</definition></ioc>",
        "<Indicator operator=\"OR\">".repeat(depth),
        "</Indicator>".repeat(depth)
    );
    let file = write(dir.path(), "deep.ioc", document);

    let run = convert(dir.path(), "openioc", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    let domain = run.of_type("domain-name").next().unwrap();
    assert_eq!(domain["value"], "deep.example.com");
}

#[test]
fn invalid_utf8_refuses_a_standalone_document_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = openioc(&[("u1", "Network/DNS", "string", "ok.example.com")]).into_bytes();
    let at = bytes.len() - 20;
    bytes[at] = 0xC3;
    let file = write(dir.path(), "bad.ioc", &bytes);

    let run = convert(dir.path(), "openioc", &file, &[]);

    assert!(!run.success);
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(&format!("not UTF-8 text (invalid byte at offset {at})")),
        "{lines:?}"
    );
}
