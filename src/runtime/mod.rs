//! Running the connector: scheduling, state, the run over the scopes, shutdown.

pub mod schedule;
pub mod state;
