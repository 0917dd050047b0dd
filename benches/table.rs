//! `cargo bench --bench table -- <command>`: the benchmark table of issue #7.
//!
//! A plain program, not a criterion harness: it writes reproducible inputs (`gen`), runs
//! one case and prints one JSON line (`case`), or runs every case in a child process and
//! prints a Markdown table with the targets (`table`). `bench/run.sh` runs the
//! table; `bench/README.md` says what each case measures.

mod common;
#[path = "table/mod.rs"]
mod table;

fn main() -> std::process::ExitCode {
    table::main()
}
