//! Stand-ins for the two services the connector talks to, for `demo`, tests and trials.
//!
//! - [`tip`]: the Kaspersky TIP publications API over HTTPS with client certificates,
//!   serving a world directory, with fault injection.
//! - [`opencti`]: OpenCTI's GraphQL API as far as this connector uses it, checking every
//!   operation against the contract and keeping the connector's state between runs.

pub mod opencti;
pub mod tip;
