//! Running the connector: scheduling, state, the run over the scopes, shutdown.

pub mod health;
pub mod logging;
pub mod metrics;
pub mod schedule;
pub mod state;
