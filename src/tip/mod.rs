//! The Kaspersky TIP publications API client: the first stage of the pipeline.
//!
//! [`TipClient`] fetches publications (`get_list`, `get_one`) and the Master IoC and
//! Master YARA files over HTTPS with a client certificate and basic auth, retrying
//! transient failures (DESIGN.md, difference 6). What it returns is still encoded: the
//! payloads are base64 of gzip, decoded by `formats::payload`.
//!
//! - [`settings`] — [`TipSettings`], with the defaults.
//! - [`client`] — [`TipClient`] and its four endpoints.
//! - [`tls`] — the client certificate file and extra CAs, with a clear error per mistake.
//! - [`retry`] — the retry policy as pure functions.
//! - [`response`] — the JSON envelope and data of each endpoint, as pure functions.
//! - [`model`] — [`Publication`] and its lenient field readers.
//! - [`error`] — [`TipError`].

pub mod client;
pub mod endpoint;
pub mod error;
pub mod model;
pub mod response;
pub mod retry;
pub mod settings;
pub mod tls;

pub use client::{RetryEvent, TipClient};
pub use endpoint::Endpoint;
pub use error::TipError;
pub use model::Publication;
pub use response::PublicationList;
pub use settings::TipSettings;
