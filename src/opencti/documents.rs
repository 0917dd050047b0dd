//! Every GraphQL document the connector sends, exactly as pycti sends them (whitespace
//! normalised; reference/opencti-protocol.md appendices A and C).
//!
//! The OpenCTI stand-in checks requests against these same constants, so a change here is
//! a change of the wire contract.

/// A named GraphQL operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The operation name, for logs and errors.
    pub name: &'static str,
    /// The document text.
    pub document: &'static str,
}

/// `about { version }`: sent at start until the platform answers.
pub const HEALTH_CHECK: Operation = Operation {
    name: "healthCheck",
    document: "query healthCheck { about { version } }",
};

/// Registers the connector and returns its broker settings and stored state.
pub const REGISTER_CONNECTOR: Operation = Operation {
    name: "RegisterConnector",
    document: "mutation RegisterConnector($input: RegisterConnectorInput) { \
        registerConnector(input: $input) { id connector_state jwks config { \
        connection { host vhost use_ssl port user pass } \
        s3 { endpoint port use_ssl bucket_name bucket_region access_key secret_key } \
        listen listen_routing listen_exchange push push_routing push_exchange } \
        connector_user_id } }",
};

/// The heartbeat that also stores the connector's state.
pub const PING_CONNECTOR: Operation = Operation {
    name: "PingConnector",
    document: "mutation PingConnector($id: ID!, $state: String, \
        $connectorInfo: ConnectorInfoInput) { pingConnector(id: $id, state: $state, \
        connectorInfo: $connectorInfo) { id connector_state connector_info { \
        run_and_terminate buffering queue_threshold queue_messages_size next_run_datetime \
        last_run_datetime } } }",
};

/// The connector as the platform sees it; used for the queue size.
pub const GET_CONNECTOR: Operation = Operation {
    name: "GetConnector",
    document: "query GetConnector($id: String!) { connector(id: $id) { id name active auto \
        only_contextual connector_type connector_scope connector_state \
        connector_queue_details { messages_number messages_size } updated_at created_at \
        config { listen listen_exchange push push_exchange push_routing } built_in } }",
};

/// Opens a work (one per run).
pub const WORK_ADD: Operation = Operation {
    name: "workAdd",
    document: "mutation workAdd($connectorId: String!, $friendlyName: String, \
        $isMultiPartWork: Boolean) { workAdd(connectorId: $connectorId, \
        friendlyName: $friendlyName, isMultiPartWork: $isMultiPartWork) { id } }",
};

/// Adds to the number of objects the work waits for.
pub const ADD_EXPECTATIONS: Operation = Operation {
    name: "addExpectations",
    document: "mutation addExpectations($id: ID!, $expectations: Int) { workEdit(id: $id) { \
        addExpectations(expectations: $expectations) } }",
};

/// Closes a work, in error or not.
pub const WORK_TO_PROCESSED: Operation = Operation {
    name: "workToProcessed",
    document: "mutation workToProcessed($id: ID!, $message: String, $inError: Boolean) { \
        workEdit(id: $id) { toProcessed(message: $message, inError: $inError) } }",
};

/// Pushes a whole bundle through the API (`queue_protocol: api`).
pub const STIX_BUNDLE_PUSH: Operation = Operation {
    name: "StixBundlePush",
    document: "mutation StixBundlePush($connectorId: String!, $bundle: String!, \
        $work_id: String) { stixBundlePush(connectorId: $connectorId, bundle: $bundle, \
        work_id: $work_id) }",
};

/// Lists locations (the publication scope reads the regions).
pub const LOCATIONS: Operation = Operation {
    name: "Locations",
    document: "query Locations($types: [String], $filters: FilterGroup, $search: String, \
        $first: Int, $after: ID, $orderBy: LocationsOrdering, $orderMode: OrderingMode) { \
        locations(types: $types, filters: $filters, search: $search, first: $first, \
        after: $after, orderBy: $orderBy, orderMode: $orderMode) { edges { node { id name \
        x_opencti_aliases entity_type } } pageInfo { startCursor endCursor hasNextPage \
        hasPreviousPage globalCount } } }",
};

/// Finds indicators by name (the Master YARA scope).
pub const INDICATORS: Operation = Operation {
    name: "Indicators",
    document: "query Indicators($filters: FilterGroup, $search: String, $first: Int, \
        $after: ID, $orderBy: IndicatorsOrdering, $orderMode: OrderingMode, \
        $toStix: Boolean) { indicators(filters: $filters, search: $search, first: $first, \
        after: $after, orderBy: $orderBy, orderMode: $orderMode, toStix: $toStix) { edges { \
        node { id pattern } } pageInfo { startCursor endCursor hasNextPage hasPreviousPage \
        globalCount } } }",
};

/// Replaces a field of an entity (the pattern of a newer YARA rule).
pub const STIX_DOMAIN_OBJECT_EDIT: Operation = Operation {
    name: "StixDomainObjectEdit",
    document: "mutation StixDomainObjectEdit($id: ID!, $input: [EditInput]!) { \
        stixDomainObjectEdit(id: $id) { fieldPatch(input: $input) { id standard_id \
        entity_type } } }",
};

/// The workflow statuses of an entity type (ours: `Report`). Not sent by the Python
/// connector; `subType` is the platform's own query for the statuses of a type.
pub const SUB_TYPE_STATUSES: Operation = Operation {
    name: "SubTypeStatuses",
    document: "query SubTypeStatuses($id: String!) { subType(id: $id) { id label \
        workflowEnabled statuses { id order template { id name color } } } }",
};

/// Every operation above.
pub const ALL: &[Operation] = &[
    HEALTH_CHECK,
    REGISTER_CONNECTOR,
    PING_CONNECTOR,
    GET_CONNECTOR,
    WORK_ADD,
    ADD_EXPECTATIONS,
    WORK_TO_PROCESSED,
    STIX_BUNDLE_PUSH,
    LOCATIONS,
    INDICATORS,
    STIX_DOMAIN_OBJECT_EDIT,
    SUB_TYPE_STATUSES,
];

/// A document with every run of whitespace turned into one space, trimmed: two documents
/// are the same operation when this is equal.
pub fn normalise(document: &str) -> String {
    document.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_normalised_and_named() {
        for operation in ALL {
            assert_eq!(
                normalise(operation.document),
                operation.document,
                "{}",
                operation.name
            );
            let words: Vec<&str> = operation.document.split(' ').take(2).collect();
            assert!(words[1].starts_with(operation.name), "{}", operation.name);
        }
    }

    #[test]
    fn register_matches_the_reference_text() {
        assert_eq!(
            REGISTER_CONNECTOR.document,
            concat!(
                "mutation RegisterConnector($input: RegisterConnectorInput) { ",
                "registerConnector(input: $input) { id connector_state jwks config { ",
                "connection { host vhost use_ssl port user pass } s3 { endpoint port ",
                "use_ssl bucket_name bucket_region access_key secret_key } listen ",
                "listen_routing listen_exchange push push_routing push_exchange } ",
                "connector_user_id } }",
            )
        );
    }
}
