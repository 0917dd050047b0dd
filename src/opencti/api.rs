//! The platform operations this connector uses, typed: lifecycle, works, bundle push and
//! the look-ups of the Kaspersky scopes (reference/opencti-protocol.md §3-§7, appendix C).
//!
//! Variables are written in the exact key order and shape pycti sends; the documents are
//! in [`super::documents`].

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::amqp::BrokerSettings;
use super::backoff::Backoff;
use super::documents::{self as doc};
use super::graphql::{ApiError, ApiSettings, GraphqlClient, Secret};
use super::state::{self, StateMap};

/// Page size of the regions look-up (pycti's default).
const REGIONS_PAGE: u32 = 50;
/// Page size of the indicators look-up.
const INDICATORS_PAGE: u32 = 500;
/// Names per indicators query, to keep each request small.
const NAMES_PER_QUERY: usize = 200;
/// Pages followed at most in one look-up (a platform that never ends a listing).
const MAX_PAGES: usize = 10_000;

/// The typed OpenCTI client. Cloning is cheap (the HTTP pool is shared).
#[derive(Clone, Debug)]
pub struct OpenCtiClient {
    graphql: GraphqlClient,
}

/// What the connector declares about itself when registering.
#[derive(Clone, Debug)]
pub struct ConnectorRegistration {
    /// `connector.id`: a UUID chosen by the operator.
    pub id: String,
    /// `connector.name`, default `Kaspersky`.
    pub name: String,
    /// `connector.scope`, split on commas and trimmed.
    pub scope: Vec<String>,
}

/// What the platform answered to the registration.
#[derive(Clone, Debug)]
pub struct Registration {
    /// The connector id to ping with and to open works under.
    pub connector_id: String,
    /// The connector's user (`connector_user_id`): the `applicant_id` of every message.
    pub applicant_id: String,
    /// The stored state, as the platform keeps it.
    pub state: Option<StateMap>,
    /// The broker, before `MQ_*` overrides.
    pub broker: BrokerSettings,
    /// Exchange that bundles are published to.
    pub push_exchange: String,
    /// Routing key of the connector's push queue.
    pub push_routing: String,
    /// Name of the push queue (informative).
    pub push_queue: String,
}

/// The `connectorInfo` of a ping: what the platform shows about the schedule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConnectorInfo {
    /// True in run-and-terminate mode.
    pub run_and_terminate: bool,
    /// True while runs are skipped because the queue is full.
    pub buffering: bool,
    /// `connector.queue_threshold`, in MB (default 500).
    pub queue_threshold: f64,
    /// The last queue size seen, in MB.
    pub queue_messages_size: f64,
    /// Next run, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub next_run_datetime: Option<String>,
    /// Last run, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub last_run_datetime: Option<String>,
}

impl Default for ConnectorInfo {
    fn default() -> Self {
        ConnectorInfo {
            run_and_terminate: false,
            buffering: false,
            queue_threshold: 500.0,
            queue_messages_size: 0.0,
            next_run_datetime: None,
            last_run_datetime: None,
        }
    }
}

/// The format of `next_run_datetime` and `last_run_datetime`.
pub fn info_datetime(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The connector's queue as the platform reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
pub struct QueueDetails {
    /// Messages waiting.
    #[serde(default)]
    pub messages_number: f64,
    /// Bytes waiting.
    #[serde(default)]
    pub messages_size: f64,
}

impl QueueDetails {
    /// The size in MB, as compared with `queue_threshold`.
    pub fn size_mb(&self) -> f64 {
        self.messages_size / 1_000_000.0
    }
}

/// A location node of the regions look-up.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct LocationNode {
    pub id: String,
    pub name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub x_opencti_aliases: Vec<String>,
    #[serde(default)]
    pub entity_type: String,
}

/// An indicator found by name: its internal id and pattern (what the document asks for).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct IndicatorNode {
    pub id: String,
    #[serde(default)]
    pub pattern: String,
}

/// The workflow of reports in the platform.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportWorkflow {
    /// Whether reports have a workflow at all.
    pub enabled: bool,
    /// Its statuses, in the platform's order.
    pub statuses: Vec<WorkflowStatus>,
}

/// One workflow status.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowStatus {
    /// The status id, sent as `x_opencti_workflow_id`.
    pub id: String,
    /// The template name users see (`New`, `Analyzed`, …).
    pub name: String,
    pub order: i64,
}

impl ReportWorkflow {
    /// The id of the status named `name` (case-insensitive), if the workflow is on and has
    /// it.
    pub fn status_id(&self, name: &str) -> Option<&str> {
        if !self.enabled {
            return None;
        }
        let wanted = name.trim().to_lowercase();
        self.statuses
            .iter()
            .find(|s| s.name.to_lowercase() == wanted)
            .map(|s| s.id.as_str())
    }
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    edges: Vec<Edge<T>>,
    #[serde(rename = "pageInfo")]
    page_info: PageInfo,
}

#[derive(Deserialize)]
struct Edge<T> {
    node: T,
}

#[derive(Deserialize)]
struct PageInfo {
    #[serde(rename = "endCursor", default)]
    end_cursor: Option<String>,
    #[serde(rename = "hasNextPage", default)]
    has_next_page: bool,
}

fn response(operation: &'static str, detail: &str) -> ApiError {
    ApiError::Response {
        operation,
        detail: detail.to_owned(),
    }
}

impl OpenCtiClient {
    /// A client for `settings`.
    ///
    /// # Errors
    ///
    /// [`ApiError::Setup`] when the TLS settings cannot be used.
    pub fn new(settings: &ApiSettings) -> Result<Self, ApiError> {
        Ok(OpenCtiClient {
            graphql: GraphqlClient::new(settings)?,
        })
    }

    /// The GraphQL layer, for operations not wrapped here.
    pub fn graphql(&self) -> &GraphqlClient {
        &self.graphql
    }

    /// `healthCheck`: the platform's version.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn health_check(&self) -> Result<String, ApiError> {
        let data: Value = self.graphql.execute(doc::HEALTH_CHECK, &json!({})).await?;
        data.pointer("/about/version")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| response(doc::HEALTH_CHECK.name, "no about.version"))
    }

    /// Health checks until the platform answers, waiting with `backoff` in between and
    /// logging each failure; it never gives up on an unreachable platform (Docker-style
    /// restarts are not needed), only on a permanent error (a refused token) or `cancel`.
    ///
    /// # Errors
    ///
    /// A non-transient [`ApiError`], or [`ApiError::Cancelled`].
    pub async fn wait_until_reachable(
        &self,
        cancel: &CancellationToken,
        mut backoff: Backoff,
    ) -> Result<String, ApiError> {
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let error = match self.health_check().await {
                Ok(version) => {
                    tracing::info!(version = %version, attempt, "opencti reachable");
                    return Ok(version);
                }
                Err(error) if error.is_transient() => error,
                Err(error) => return Err(error),
            };
            let delay = backoff.next_delay();
            tracing::warn!(
                endpoint = %self.graphql.endpoint(),
                attempt,
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "opencti not reachable, retrying"
            );
            tokio::select! {
                () = cancel.cancelled() => {
                    return Err(ApiError::Cancelled { operation: doc::HEALTH_CHECK.name });
                }
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// `registerConnector` as an external-import connector.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`]; a missing broker connection is a `Response` error.
    pub async fn register(
        &self,
        connector: &ConnectorRegistration,
    ) -> Result<Registration, ApiError> {
        let variables = RegisterVariables {
            input: RegisterInput {
                id: &connector.id,
                name: &connector.name,
                kind: "EXTERNAL_IMPORT",
                scope: &connector.scope,
                auto: false,
                auto_update: false,
                enrichment_resolution: "none",
                only_contextual: false,
                playbook_compatible: false,
                listen_callback_uri: None,
            },
        };
        let data: Value = self
            .graphql
            .execute(doc::REGISTER_CONNECTOR, &variables)
            .await?;
        parse_registration(&data)
    }

    /// `pingConnector` with the state text (see [`state::ping_text`]); returns the
    /// state the platform now holds.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn ping(
        &self,
        connector_id: &str,
        state_text: &str,
        info: &ConnectorInfo,
    ) -> Result<Option<String>, ApiError> {
        #[derive(Serialize)]
        struct Variables<'a> {
            id: &'a str,
            state: &'a str,
            #[serde(rename = "connectorInfo")]
            connector_info: &'a ConnectorInfo,
        }
        let variables = Variables {
            id: connector_id,
            state: state_text,
            connector_info: info,
        };
        let data: Value = self
            .graphql
            .execute(doc::PING_CONNECTOR, &variables)
            .await?;
        let ping = data
            .get("pingConnector")
            .filter(|v| !v.is_null())
            .ok_or_else(|| response(doc::PING_CONNECTOR.name, "no pingConnector"))?;
        Ok(ping
            .get("connector_state")
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    /// `GetConnector`: the size of the connector's queue.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`]; an unknown connector is a `Response` error.
    pub async fn queue_details(&self, connector_id: &str) -> Result<QueueDetails, ApiError> {
        let data: Value = self
            .graphql
            .execute(doc::GET_CONNECTOR, &json!({"id": connector_id}))
            .await?;
        let details = data
            .pointer("/connector/connector_queue_details")
            .filter(|v| !v.is_null())
            .ok_or_else(|| response(doc::GET_CONNECTOR.name, "no connector found"))?;
        serde_json::from_value(details.clone())
            .map_err(|e| response(doc::GET_CONNECTOR.name, &e.to_string()))
    }

    /// The connector's stored state, read with the same `GetConnector` query; `None` when
    /// the connector is unknown to the platform or has no state.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn connector_state(&self, connector_id: &str) -> Result<Option<StateMap>, ApiError> {
        let data: Value = self
            .graphql
            .execute(doc::GET_CONNECTOR, &json!({"id": connector_id}))
            .await?;
        let text = data
            .pointer("/connector/connector_state")
            .and_then(Value::as_str);
        Ok(state::parse_state(text))
    }

    /// `workAdd`: opens a work and returns its id.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn work_add(
        &self,
        connector_id: &str,
        friendly_name: &str,
        multipart: bool,
    ) -> Result<String, ApiError> {
        let variables = WorkAdd {
            connector_id,
            friendly_name,
            is_multi_part_work: multipart,
        };
        let data: Value = self.graphql.execute(doc::WORK_ADD, &variables).await?;
        data.pointer("/workAdd/id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| response(doc::WORK_ADD.name, "no work id"))
    }

    /// `addExpectations`: the work waits for `expectations` more objects.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`] (`WORK_NOT_ALIVE` when the work was deleted).
    pub async fn add_expectations(
        &self,
        work_id: &str,
        expectations: usize,
    ) -> Result<(), ApiError> {
        #[derive(Serialize)]
        struct Variables<'a> {
            id: &'a str,
            expectations: usize,
        }
        let variables = Variables {
            id: work_id,
            expectations,
        };
        let _: Value = self
            .graphql
            .execute(doc::ADD_EXPECTATIONS, &variables)
            .await?;
        Ok(())
    }

    /// `workToProcessed`: closes the work with `message`, in error or not.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn work_to_processed(
        &self,
        work_id: &str,
        message: &str,
        in_error: bool,
    ) -> Result<(), ApiError> {
        #[derive(Serialize)]
        struct Variables<'a> {
            id: &'a str,
            message: &'a str,
            #[serde(rename = "inError")]
            in_error: bool,
        }
        let variables = Variables {
            id: work_id,
            message,
            in_error,
        };
        let _: Value = self
            .graphql
            .execute(doc::WORK_TO_PROCESSED, &variables)
            .await?;
        Ok(())
    }

    /// `stixBundlePush`: hands a whole bundle to the platform (`queue_protocol: api`).
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn stix_bundle_push(
        &self,
        connector_id: &str,
        bundle: &str,
        work_id: Option<&str>,
    ) -> Result<(), ApiError> {
        #[derive(Serialize)]
        struct Variables<'a> {
            #[serde(rename = "connectorId")]
            connector_id: &'a str,
            bundle: &'a str,
            work_id: Option<&'a str>,
        }
        let variables = Variables {
            connector_id,
            bundle,
            work_id,
        };
        let _: Value = self
            .graphql
            .execute(doc::STIX_BUNDLE_PUSH, &variables)
            .await?;
        Ok(())
    }

    /// Every region of the platform, 50 a page.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn regions(&self) -> Result<Vec<LocationNode>, ApiError> {
        #[derive(Serialize)]
        struct Variables<'a> {
            types: [&'a str; 1],
            filters: Option<()>,
            search: Option<()>,
            first: u32,
            after: Option<&'a str>,
            #[serde(rename = "orderBy")]
            order_by: &'a str,
            #[serde(rename = "orderMode")]
            order_mode: &'a str,
        }
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let variables = Variables {
                types: ["Region"],
                filters: None,
                search: None,
                first: REGIONS_PAGE,
                after: after.as_deref(),
                order_by: "created_at",
                order_mode: "asc",
            };
            let data: Value = self.graphql.execute(doc::LOCATIONS, &variables).await?;
            let page: Page<LocationNode> = take_page(doc::LOCATIONS.name, &data, "locations")?;
            let done = page.edges.is_empty() || !page.page_info.has_next_page;
            out.extend(page.edges.into_iter().map(|e| e.node));
            if done || page.page_info.end_cursor.is_none() || page.page_info.end_cursor == after {
                break;
            }
            after = page.page_info.end_cursor;
        }
        Ok(out)
    }

    /// Indicators whose name equals one of `names` (the platform compares without case),
    /// 500 a page, a few hundred names a query. Callers match the results to their names
    /// themselves (the document returns id and pattern only).
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn indicators_by_names(
        &self,
        names: &[&str],
    ) -> Result<Vec<IndicatorNode>, ApiError> {
        let mut out = Vec::new();
        for chunk in names.chunks(NAMES_PER_QUERY) {
            let mut after: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let variables = IndicatorsVariables {
                    filters: FilterGroup {
                        mode: "and",
                        filters: [Filter {
                            key: "name",
                            values: chunk,
                            operator: "eq",
                        }],
                        filter_groups: [],
                    },
                    search: None,
                    first: INDICATORS_PAGE,
                    after: after.as_deref(),
                    order_by: None,
                    order_mode: None,
                    to_stix: false,
                };
                let data: Value = self.graphql.execute(doc::INDICATORS, &variables).await?;
                let page: Page<IndicatorNode> =
                    take_page(doc::INDICATORS.name, &data, "indicators")?;
                let done = page.edges.is_empty() || !page.page_info.has_next_page;
                out.extend(page.edges.into_iter().map(|e| e.node));
                if done || page.page_info.end_cursor.is_none() || page.page_info.end_cursor == after
                {
                    break;
                }
                after = page.page_info.end_cursor;
            }
        }
        Ok(out)
    }

    /// Replaces the pattern of indicator `id` (a newer version of a YARA rule).
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn set_indicator_pattern(&self, id: &str, pattern: &str) -> Result<(), ApiError> {
        #[derive(Serialize)]
        struct Input<'a> {
            key: &'a str,
            value: &'a str,
        }
        #[derive(Serialize)]
        struct Variables<'a> {
            id: &'a str,
            input: Input<'a>,
        }
        let variables = Variables {
            id,
            input: Input {
                key: "pattern",
                value: pattern,
            },
        };
        let _: Value = self
            .graphql
            .execute(doc::STIX_DOMAIN_OBJECT_EDIT, &variables)
            .await?;
        Ok(())
    }

    /// The workflow statuses of reports.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn report_workflow(&self) -> Result<ReportWorkflow, ApiError> {
        let data: Value = self
            .graphql
            .execute(doc::SUB_TYPE_STATUSES, &json!({"id": "Report"}))
            .await?;
        let Some(sub_type) = data.get("subType").filter(|v| !v.is_null()) else {
            return Ok(ReportWorkflow::default());
        };
        let enabled = sub_type
            .get("workflowEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut statuses: Vec<WorkflowStatus> = sub_type
            .get("statuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|status| {
                Some(WorkflowStatus {
                    id: status.get("id")?.as_str()?.to_owned(),
                    name: status.pointer("/template/name")?.as_str()?.to_owned(),
                    order: status.get("order").and_then(Value::as_i64).unwrap_or(0),
                })
            })
            .collect();
        statuses.sort_by_key(|s| s.order);
        Ok(ReportWorkflow {
            enabled: enabled && !statuses.is_empty(),
            statuses,
        })
    }
}

#[derive(Serialize)]
struct WorkAdd<'a> {
    #[serde(rename = "connectorId")]
    connector_id: &'a str,
    #[serde(rename = "friendlyName")]
    friendly_name: &'a str,
    #[serde(rename = "isMultiPartWork")]
    is_multi_part_work: bool,
}

#[derive(Serialize)]
struct RegisterVariables<'a> {
    input: RegisterInput<'a>,
}

/// `RegisterConnectorInput`, fields in pycti's order.
#[derive(Serialize)]
struct RegisterInput<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    scope: &'a [String],
    auto: bool,
    auto_update: bool,
    enrichment_resolution: &'a str,
    only_contextual: bool,
    playbook_compatible: bool,
    listen_callback_uri: Option<&'a str>,
}

#[derive(Serialize)]
struct IndicatorsVariables<'a> {
    filters: FilterGroup<'a>,
    search: Option<&'a str>,
    first: u32,
    after: Option<&'a str>,
    #[serde(rename = "orderBy")]
    order_by: Option<&'a str>,
    #[serde(rename = "orderMode")]
    order_mode: Option<&'a str>,
    #[serde(rename = "toStix")]
    to_stix: bool,
}

#[derive(Serialize)]
struct FilterGroup<'a> {
    mode: &'a str,
    filters: [Filter<'a>; 1],
    #[serde(rename = "filterGroups")]
    filter_groups: [(); 0],
}

#[derive(Serialize)]
struct Filter<'a> {
    key: &'a str,
    values: &'a [&'a str],
    operator: &'a str,
}

fn take_page<T: serde::de::DeserializeOwned>(
    operation: &'static str,
    data: &Value,
    field: &str,
) -> Result<Page<T>, ApiError> {
    let page = data
        .get(field)
        .filter(|v| !v.is_null())
        .ok_or_else(|| response(operation, "no page"))?;
    serde_json::from_value(page.clone()).map_err(|e| response(operation, &e.to_string()))
}

fn parse_registration(data: &Value) -> Result<Registration, ApiError> {
    let name = doc::REGISTER_CONNECTOR.name;
    let connector = data
        .get("registerConnector")
        .filter(|v| !v.is_null())
        .ok_or_else(|| response(name, "no registerConnector"))?;
    let text = |pointer: &str| {
        connector
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let connection = connector
        .pointer("/config/connection")
        .filter(|v| !v.is_null())
        .ok_or_else(|| response(name, "no broker connection"))?;
    let port = connection
        .get("port")
        .and_then(Value::as_u64)
        .unwrap_or(5672);
    let broker = BrokerSettings {
        host: connection
            .get("host")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        port: u16::try_from(port).map_err(|_| response(name, "broker port out of range"))?,
        vhost: connection
            .get("vhost")
            .and_then(Value::as_str)
            .unwrap_or("/")
            .to_owned(),
        user: connection
            .get("user")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        password: Secret::new(
            connection
                .get("pass")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
        use_ssl: connection
            .get("use_ssl")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        tls: Default::default(),
    };
    Ok(Registration {
        connector_id: text("/id").ok_or_else(|| response(name, "no connector id"))?,
        applicant_id: text("/connector_user_id").unwrap_or_default(),
        state: state::parse_state(text("/connector_state").as_deref()),
        broker,
        push_exchange: text("/config/push_exchange")
            .ok_or_else(|| response(name, "no push_exchange"))?,
        push_routing: text("/config/push_routing")
            .ok_or_else(|| response(name, "no push_routing"))?,
        push_queue: text("/config/push").unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_keep_pycti_order() {
        let scope = vec!["kaspersky".to_owned()];
        let variables = RegisterVariables {
            input: RegisterInput {
                id: "i",
                name: "n",
                kind: "EXTERNAL_IMPORT",
                scope: &scope,
                auto: false,
                auto_update: false,
                enrichment_resolution: "none",
                only_contextual: false,
                playbook_compatible: false,
                listen_callback_uri: None,
            },
        };
        assert_eq!(
            serde_json::to_string(&variables).unwrap(),
            concat!(
                r#"{"input":{"id":"i","name":"n","type":"EXTERNAL_IMPORT","#,
                r#""scope":["kaspersky"],"auto":false,"auto_update":false,"#,
                r#""enrichment_resolution":"none","only_contextual":false,"#,
                r#""playbook_compatible":false,"listen_callback_uri":null}}"#,
            )
        );
        let names = ["a", "b"];
        let variables = IndicatorsVariables {
            filters: FilterGroup {
                mode: "and",
                filters: [Filter {
                    key: "name",
                    values: &names,
                    operator: "eq",
                }],
                filter_groups: [],
            },
            search: None,
            first: 500,
            after: None,
            order_by: None,
            order_mode: None,
            to_stix: false,
        };
        assert_eq!(
            serde_json::to_string(&variables).unwrap(),
            concat!(
                r#"{"filters":{"mode":"and","filters":[{"key":"name","values":["a","b"],"#,
                r#""operator":"eq"}],"#,
                r#""filterGroups":[]},"search":null,"first":500,"after":null,"orderBy":null,"#,
                r#""orderMode":null,"toStix":false}"#,
            )
        );
    }

    #[test]
    fn statuses_resolve_without_case() {
        let workflow = ReportWorkflow {
            enabled: true,
            statuses: vec![WorkflowStatus {
                id: "s1".into(),
                name: "Analyzed".into(),
                order: 1,
            }],
        };
        assert_eq!(workflow.status_id(" analyzed"), Some("s1"));
        assert_eq!(workflow.status_id("new"), None);
        assert_eq!(ReportWorkflow::default().status_id("analyzed"), None);
    }

    #[test]
    fn info_dates_are_utc_seconds() {
        let at: jiff::Timestamp = "2024-05-06T07:08:09.5Z".parse().unwrap();
        assert_eq!(info_datetime(at), "2024-05-06T07:08:09Z");
    }
}
