//! The OpenCTI platform: GraphQL client, bundle splitting and AMQP publishing.

pub mod amqp;
mod amqp_tls;
pub mod api;
pub mod backoff;
pub mod documents;
pub mod graphql;
pub mod message;
pub mod pyjson;
pub mod split;
pub mod state;
