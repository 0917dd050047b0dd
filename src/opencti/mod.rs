//! The OpenCTI platform: GraphQL client, bundle splitting and AMQP publishing.
//!
//! Nothing else in the crate knows GraphQL or AMQP. What the runtime calls, in order:
//!
//! 1. [`api::OpenCtiClient::new`], then [`api::OpenCtiClient::wait_until_reachable`]
//!    (health check with backoff, cancellable).
//! 2. [`api::OpenCtiClient::register`] → [`api::Registration`] (connector id, applicant,
//!    stored state, broker settings, push exchange and routing key).
//! 3. [`ping::Pinger::spawn`] (pings at once, then every 40 s; holds the local state,
//!    clears it on a remote reset), unless run-and-terminate ([`ping::force_ping`] at the
//!    end instead).
//! 4. [`amqp::AmqpPublisher::connect`] with the broker settings (`MQ_*` applied) and the
//!    push target, wrapped in [`delivery::QueueDelivery`]; or [`delivery::ApiDelivery`]
//!    for `queue_protocol: api`.
//! 5. Per run: [`api::OpenCtiClient::work_add`], [`delivery::QueueDelivery::deliver`] per
//!    bundle (split, `addExpectations`, publish, wait for confirms), then
//!    [`api::OpenCtiClient::work_to_processed`]; the new state goes to
//!    [`ping::Pinger::set_state`] and [`ping::Pinger::ping_now`].
//!
//! Look-ups for the scopes: [`api::OpenCtiClient::regions`],
//! [`api::OpenCtiClient::indicators_by_names`],
//! [`api::OpenCtiClient::set_indicator_pattern`], [`api::OpenCtiClient::report_workflow`];
//! the queue size for scheduling: [`api::OpenCtiClient::queue_details`].

pub mod amqp;
mod amqp_tls;
pub mod api;
pub mod backoff;
pub mod delivery;
pub mod documents;
pub mod failpoint;
pub mod graphql;
pub mod message;
pub mod ping;
pub mod pyjson;
pub mod split;
pub mod state;

pub use amqp::{
    AmqpError, AmqpPublisher, BrokerSettings, BrokerTls, PublishTarget, PublisherOptions,
};
pub use api::{ConnectorInfo, ConnectorRegistration, OpenCtiClient, Registration};
pub use delivery::{ApiDelivery, DeliveryError, DeliveryReport, QueueDelivery};
pub use graphql::{ApiError, ApiSettings, Secret, TlsVerification};
pub use ping::{PingOutcome, Pinger};
