//! connector-kaspersky: imports the Kaspersky Threat Intelligence Portal (TIP) into OpenCTI.
//!
//! The modules follow the data flow, left to right:
//!
//! ```text
//! config ─► tip ─► formats ─► scopes (build with stix) ─► sink ─► OpenCTI or a directory
//!                                                          │
//!                         runtime: state moves only past what the sink confirmed
//! ```
//!
//! - [`config`]: layered settings (defaults, `config.yml`, environment), validated once.
//! - [`tip`]: the Kaspersky TIP client (`get_list`, `get_one`, master files) with retries.
//! - [`formats`]: payload decoding and the parsers of OpenIOC, Master IoC CSV, YARA, dates.
//! - [`stix`]: STIX 2.1 objects, pycti-compatible deterministic ids, patterns, bundles.
//! - [`scopes`]: the three importers; pure builders from parsed input to bundles.
//! - [`opencti`]: the platform client (GraphQL), bundle splitting and AMQP publishing.
//! - [`sink`]: where bundles go, the OpenCTI queue or a directory of STIX files.
//! - [`runtime`]: scheduling, state, shutdown, logs and metrics.
//! - [`simulator`]: a TIP stand-in over HTTPS with client certificates, for `demo` and tests.

pub mod cli;
pub mod config;
pub mod errors;
pub mod formats;
pub mod opencti;
pub mod runtime;
pub mod scopes;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod sink;
pub mod stix;
#[doc(hidden)]
pub mod testdata;
pub mod tip;
