//! Running the connector: scheduling, state, the run over the scopes, shutdown.

pub mod logging;
pub mod schedule;
pub mod state;
