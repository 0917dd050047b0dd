//! The `connector-kaspersky` binary: everything is in the library; this only starts it.

fn main() -> std::process::ExitCode {
    connector_kaspersky::cli::main()
}
