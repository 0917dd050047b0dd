//! A stand-in for the Kaspersky TIP publications API, for `demo`, tests and trials.
//!
//! It serves a [`World`] over HTTPS on 127.0.0.1 the way the real TIP does: a client
//! certificate signed by its CA is required in the TLS handshake, HTTP basic auth on top,
//! the four endpoints with their query parameters, JSON envelopes, files as base64 of
//! gzip. Faults can be queued to test the client's retries and error handling.
//!
//! - [`world`] — the data: load a directory in the layout of `samples/decoded`, build one
//!   in memory, write one out.
//! - [`generate`](mod@generate) — a deterministic generator of fictional worlds of any size.
//! - [`server`] — the HTTPS server and its handle, [`TipSimulator`].
//! - [`routes`] — the endpoints, basic auth, and the admin routes.
//! - [`faults`] — queued faults and request counters.
//! - [`certs`] — the throwaway CA, server and client certificates.
//!
//! # Running it for a connector
//!
//! [`serve`] starts a simulator; [`TipSimulator::write_credentials`] writes `ca.pem`,
//! `client.pem` and `simulator.env` into a directory. A connector is then pointed at it
//! with these variables (all written to `simulator.env`):
//!
//! | variable | value |
//! | --- | --- |
//! | `KASPERSKY_BASE_URL` | `https://127.0.0.1:<port>` |
//! | `KASPERSKY_CERTIFICATE_PATH` | `<dir>/client.pem` (certificate and key) |
//! | `KASPERSKY_CA_PATH` | `<dir>/ca.pem` |
//! | `KASPERSKY_USER` | `simulator` unless chosen |
//! | `KASPERSKY_PASSWORD` | random per start unless chosen |
//!
//! # Controlling a running simulator
//!
//! In process, through [`TipSimulator::faults`] and [`TipSimulator::requests`]. From
//! outside (same TLS client certificate and basic auth as the API):
//!
//! - `POST /_simulator/faults` with one [`FaultSpec`] per line in the body
//!   (`get_one:503*2`, `any:429;retry-after=5`, `get_list:delay=40s`, `drop`,
//!   `malformed`, `not-ok`, `wrong-shape`) queues faults;
//! - `DELETE /_simulator/faults` clears them;
//! - `GET /_simulator/requests` returns the request count per endpoint.
//!
//! Master files are served for `report_group` `apt`, `all` or none; other groups get 404.

pub mod certs;
pub mod faults;
pub mod generate;
pub mod routes;
pub mod server;
pub mod world;

pub use certs::SimulatorCertificates;
pub use faults::{Fault, FaultSpec, FaultTarget, Faults, RequestCounts};
pub use generate::{GenerateParams, generate};
pub use server::{CredentialFiles, SimulatorError, SimulatorOptions, TipSimulator};
pub use world::{Payload, World, WorldError, WorldPublication};

/// Starts a simulator serving `world` on the current tokio runtime; the returned handle
/// stops it when dropped. See the module documentation for what to do next.
pub async fn serve(
    world: World,
    options: SimulatorOptions,
) -> Result<TipSimulator, SimulatorError> {
    TipSimulator::start(world, options).await
}
