//! Sending a bundle to OpenCTI: split, announce, publish, wait for the broker.
//!
//! The `amqp` protocol (the default) splits the bundle (§7.3), adds the expectations to
//! the work once, before publishing (§7.4), publishes one message per object (§7.5) and
//! returns only when the broker confirmed every one. The `api` protocol pushes the whole
//! bundle through GraphQL and lets the platform split it (§7.7).

use super::amqp::{AmqpError, AmqpPublisher};
use super::api::OpenCtiClient;
use super::graphql::ApiError;
use super::message::{MessageEncoder, MessageError};
use super::pyjson;
use super::split::{SplitBundle, split_bundle};
use crate::stix::Bundle;

/// What one delivery did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages published and confirmed (= expectations added).
    pub messages: usize,
    /// Objects the splitter did not send (unsupported, or a relationship missing an end).
    pub dropped: usize,
}

/// A bundle could not be delivered; nothing in it counts as delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The split left nothing to send (pycti: "Nothing to import").
    #[error("bundle {bundle_id}: nothing to import")]
    NothingToImport { bundle_id: String },
    /// A GraphQL call failed (`addExpectations`, `stixBundlePush`).
    #[error("bundle {bundle_id}: {source}")]
    Api {
        bundle_id: String,
        #[source]
        source: ApiError,
    },
    /// Publishing failed or was cancelled before every message was confirmed.
    #[error("bundle {bundle_id}: {source}")]
    Broker {
        bundle_id: String,
        #[source]
        source: AmqpError,
    },
    /// An object could not be written.
    #[error("bundle {bundle_id}: {source}")]
    Message {
        bundle_id: String,
        #[source]
        source: MessageError,
    },
}

/// Delivery over RabbitMQ (`queue_protocol: amqp`): owns the run's publisher.
#[derive(Debug)]
pub struct QueueDelivery {
    client: OpenCtiClient,
    publisher: AmqpPublisher,
    applicant_id: String,
}

impl QueueDelivery {
    /// Delivery for the connector user `applicant_id` (registration's
    /// `connector_user_id`) through `publisher`.
    pub fn new(client: OpenCtiClient, publisher: AmqpPublisher, applicant_id: String) -> Self {
        QueueDelivery {
            client,
            publisher,
            applicant_id,
        }
    }

    /// The publisher, for its counters.
    pub fn publisher(&self) -> &AmqpPublisher {
        &self.publisher
    }

    /// Delivers `bundle` into `work_id` (`None`: no work, no expectations). Returns when
    /// every message is confirmed by the broker.
    ///
    /// # Errors
    ///
    /// See [`DeliveryError`]. After an error the bundle must be sent again (messages
    /// already published may arrive twice, which OpenCTI merges).
    pub async fn deliver(
        &mut self,
        bundle: &Bundle,
        work_id: Option<&str>,
    ) -> Result<DeliveryReport, DeliveryError> {
        let split = split_bundle(bundle);
        self.deliver_split(&split, work_id).await
    }

    /// Delivers an already split bundle (see [`super::split::split_json`] for JSON input).
    ///
    /// # Errors
    ///
    /// As [`QueueDelivery::deliver`].
    pub async fn deliver_split(
        &mut self,
        split: &SplitBundle<'_>,
        work_id: Option<&str>,
    ) -> Result<DeliveryReport, DeliveryError> {
        let bundle_id = &split.bundle_id;
        if split.items.is_empty() {
            return Err(DeliveryError::NothingToImport {
                bundle_id: bundle_id.clone(),
            });
        }

        if let Some(work_id) = work_id {
            tracing::debug!(
                work_id,
                expectations = split.expectations(),
                "update action expectations"
            );
            self.client
                .add_expectations(work_id, split.expectations())
                .await
                .map_err(|source| DeliveryError::Api {
                    bundle_id: bundle_id.clone(),
                    source,
                })?;
        }

        let mut encoder = MessageEncoder::new(&self.applicant_id, work_id);
        for (index, item) in split.items.iter().enumerate() {
            let body = encoder
                .encode(bundle_id, index as u64 + 1, item)
                .map_err(|source| DeliveryError::Message {
                    bundle_id: bundle_id.clone(),
                    source,
                })?;
            self.publisher
                .publish(body)
                .await
                .map_err(|source| DeliveryError::Broker {
                    bundle_id: bundle_id.clone(),
                    source,
                })?;
        }
        super::failpoint::before_confirm();
        self.publisher
            .flush()
            .await
            .map_err(|source| DeliveryError::Broker {
                bundle_id: bundle_id.clone(),
                source,
            })?;

        tracing::info!(
            bundle_id = %bundle_id,
            messages = split.items.len(),
            dropped = split.dropped.len(),
            "bundle sent to queue"
        );
        Ok(DeliveryReport {
            messages: split.items.len(),
            dropped: split.dropped.len(),
        })
    }

    /// Waits for outstanding confirms and closes the broker connection.
    ///
    /// # Errors
    ///
    /// As [`AmqpPublisher::close`].
    pub async fn close(self) -> Result<(), AmqpError> {
        self.publisher.close().await
    }
}

/// Delivery through GraphQL (`queue_protocol: api`).
#[derive(Clone, Debug)]
pub struct ApiDelivery {
    client: OpenCtiClient,
    connector_id: String,
}

impl ApiDelivery {
    /// Delivery as connector `connector_id`.
    pub fn new(client: OpenCtiClient, connector_id: String) -> Self {
        ApiDelivery {
            client,
            connector_id,
        }
    }

    /// Pushes the whole, unsplit bundle with `stixBundlePush`; the platform splits it and
    /// adds the expectations itself. The split runs only to refuse an empty bundle, as in
    /// pycti.
    ///
    /// # Errors
    ///
    /// [`DeliveryError::NothingToImport`] or [`DeliveryError::Api`].
    pub async fn deliver(
        &self,
        bundle: &Bundle,
        work_id: Option<&str>,
    ) -> Result<DeliveryReport, DeliveryError> {
        let split = split_bundle(bundle);
        let bundle_id = bundle.id().to_owned();
        if split.items.is_empty() {
            return Err(DeliveryError::NothingToImport { bundle_id });
        }
        let text = pyjson::to_string(bundle).map_err(|e| DeliveryError::Message {
            bundle_id: bundle_id.clone(),
            source: MessageError::Serialise {
                id: bundle_id.clone(),
                source: e,
            },
        })?;
        self.client
            .stix_bundle_push(&self.connector_id, &text, work_id)
            .await
            .map_err(|source| DeliveryError::Api {
                bundle_id: bundle_id.clone(),
                source,
            })?;
        Ok(DeliveryReport {
            messages: 1,
            dropped: split.dropped.len(),
        })
    }
}
