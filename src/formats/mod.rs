//! What the TIP sends, decoded and parsed: payloads, OpenIOC, Master IoC CSV, YARA, dates.
//!
//! Every parser here treats its input as hostile. A broken item is reported with what
//! identifies it (line, rule name, item id) and the reason, and the parser goes on with
//! the next one; only a document that cannot be read at all is an error of the whole.
//!
//! - [`payload`]: base64 of gzip, as every TIP file field travels, decoded in one stream
//!   with a cap on the decompressed size; [`payload::decode_text`] also checks UTF-8.
//! - [`openioc`]: a publication's OpenIOC 1.0/1.1 document, flattened to its indicator
//!   items; DTDs refused, node count and nesting bounded.
//! - [`master_ioc`]: the Master IoC CSV, read lazily row by row, values borrowed from the
//!   text; a bad row is an `Err` and the rows after it still come.
//! - [`yara`]: a YARA file split into rules by yara-x's parser, with name, flags, tags,
//!   `description`/`report`/`last_modified` meta and a self-contained indicator pattern
//!   per rule, compiled with boreal under the `yara-validate` feature.
//! - [`dates`]: the one lenient date parser behind YARA `last_modified`, OpenIOC dates
//!   and the like (DESIGN.md difference 5).

pub mod dates;
pub mod master_ioc;
pub mod openioc;
pub mod payload;
pub mod text;
pub mod yara;
