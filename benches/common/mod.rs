//! What the two benchmark programs share: reproducible inputs and the conversion
//! pipelines they time.
//!
//! - [`inputs`]: writes the generated inputs (TIP answers, a world directory) from the
//!   library's deterministic generator, so anyone gets the same bytes from the same size
//!   and seed.
//! - [`convert`]: one function per case that runs, from an answer body already in memory
//!   to encoded queue messages, the steps the connector's runtime runs.

pub mod convert;
pub mod inputs;
