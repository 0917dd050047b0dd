//! The OpenCTI platform: GraphQL client, bundle splitting and AMQP publishing.
