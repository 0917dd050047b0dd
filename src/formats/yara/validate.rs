//! Compiling each rule's pattern with boreal, so that no indicator carries YARA that a
//! scanner would refuse (an unknown module, an undeclared string, a type error).

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Compiles `pattern` alone in a fresh compiler with boreal's default modules (`pe`,
/// `elf`, `math`, `hash`, `time`, …).
///
/// # Errors
///
/// Boreal's one-line message (`mem:LINE:COL: error: …`, lines counted in the pattern),
/// or a note that the compiler panicked, which is caught so that one hostile rule cannot
/// stop a run.
pub(super) fn compile(pattern: &str) -> Result<(), String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut compiler = boreal::Compiler::new();
        compiler
            .add_rules_str(pattern)
            .map(|_| ())
            .map_err(|err| err.to_string())
    }));
    result.unwrap_or_else(|_| Err("the YARA compiler panicked on this rule".to_owned()))
}
