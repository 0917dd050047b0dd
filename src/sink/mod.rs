//! Where bundles go: the OpenCTI queue, a directory of STIX bundle files, or both.
//!
//! A sink says a bundle is delivered only when it is safe: the file renamed into place, or
//! every message confirmed by the broker. The runtime moves the state only past delivered
//! bundles.

pub mod directory;

pub use directory::{DirectoryError, DirectorySink};

use std::path::PathBuf;

use crate::opencti::{ApiDelivery, DeliveryError, QueueDelivery};
use crate::stix::Bundle;

/// What a bundle is, for naming and logging: its scope and the item it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleLabel {
    /// `publication`, `master_ioc`, `master_yara` or `openioc`.
    pub scope: &'static str,
    /// The publication id, or the group name.
    pub item: String,
    /// The id that identifies the bundle's content (the report id when there is one).
    pub key: String,
}

/// The OpenCTI queue, by the configured protocol.
#[derive(Debug)]
pub enum QueueSink {
    /// RabbitMQ with publisher confirms (`queue_protocol: amqp`, the default).
    Amqp(Box<QueueDelivery>),
    /// GraphQL `stixBundlePush` (`queue_protocol: api`).
    Api(ApiDelivery),
}

/// A bundle that did not reach every configured sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Queue(#[from] DeliveryError),
}

/// What a delivery did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Messages confirmed by the broker (or bundles pushed over the API).
    pub messages: usize,
    /// Bundle files written.
    pub files: usize,
}

/// The sinks of a run.
#[derive(Debug, Default)]
pub struct Sinks {
    pub directory: Option<DirectorySink>,
    pub queue: Option<QueueSink>,
    /// The OpenCTI work the queue's expectations go to.
    pub work_id: Option<String>,
    /// The bundle files written since [`crate::runtime::run::run_once`] last took them:
    /// what a run wrote, told apart from what was already in the directory.
    pub files_written: Vec<PathBuf>,
}

impl Sinks {
    /// Delivers one bundle to every sink; `Ok` only when all of them have it safely.
    pub async fn deliver(
        &mut self,
        label: &BundleLabel,
        bundle: &Bundle,
    ) -> Result<Delivered, SinkError> {
        let mut delivered = Delivered::default();
        if let Some(directory) = &self.directory {
            // A multi-megabyte write must not stall the async reactor.
            let path = tokio::task::block_in_place(|| directory.write(label, bundle))?;
            self.files_written.push(path);
            delivered.files = 1;
        }
        let work_id = self.work_id.as_deref();
        let report = match &mut self.queue {
            Some(QueueSink::Amqp(queue)) => Some(queue.deliver(bundle, work_id).await?),
            Some(QueueSink::Api(api)) => Some(api.deliver(bundle, work_id).await?),
            None => None,
        };
        if let Some(report) = report {
            crate::runtime::metrics::messages_published(report.messages as u64);
            crate::runtime::metrics::messages_confirmed(report.messages as u64);
            delivered.messages = report.messages;
        }
        Ok(delivered)
    }
}
