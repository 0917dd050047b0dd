//! Running the connector: scheduling, state, the run over the scopes, shutdown.

pub mod digest;
pub mod health;
pub mod importer;
pub mod logging;
pub mod master_file;
pub mod master_ioc;
pub mod master_yara;
pub mod metrics;
pub mod progress;
pub mod publications;
pub mod run;
pub mod schedule;
pub mod service;
pub mod state;
