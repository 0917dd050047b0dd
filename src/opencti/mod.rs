//! The OpenCTI platform: GraphQL client, bundle splitting and AMQP publishing.

pub mod message;
pub mod pyjson;
pub mod split;
