//! What the TIP sends, decoded and parsed: payloads, OpenIOC, Master IoC CSV, YARA, dates.
//!
//! Every parser here treats its input as hostile. A broken item is reported with what
//! identifies it (line, rule name, item id) and the reason, and the parser goes on with
//! the next one; only a document that cannot be read at all is an error of the whole.

pub mod dates;
pub mod master_ioc;
pub mod openioc;
pub mod payload;
pub mod yara;
