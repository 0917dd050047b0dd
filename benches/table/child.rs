//! Running a case in a child process of this program, so that its peak memory is its own.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

/// Runs this program with `args` (`case …`) and reads the JSON line it prints last.
/// The child's standard error goes straight to ours.
pub fn run_case<T: DeserializeOwned>(args: &[&str]) -> anyhow::Result<T> {
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let output = Command::new(&exe)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    if !output.status.success() {
        bail!("`{}` failed ({})", args.join(" "), output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .with_context(|| format!("`{}` printed nothing", args.join(" ")))?;
    serde_json::from_str(line).with_context(|| format!("`{}` printed {line:?}", args.join(" ")))
}

/// `case <name> --input <path>` as arguments.
pub fn case_args<'a>(name: &'a str, input: &'a Path) -> anyhow::Result<[&'a str; 4]> {
    let input = input
        .to_str()
        .with_context(|| format!("{} is not UTF-8", input.display()))?;
    Ok(["case", name, "--input", input])
}
