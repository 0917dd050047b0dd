//! What the stand-in remembers and how it answers each operation.

use std::collections::HashMap;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use serde_json::{Value, json};

use super::StandInConfig;
use super::contract;
use crate::opencti::documents::Operation;

/// One request as the stand-in saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedRequest {
    /// The operation name (`unknown` for a document outside the contract).
    pub operation: String,
    pub variables: Value,
    /// Why it was refused, if it was.
    pub rejected: Option<String>,
}

/// A region of the `Locations` query.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionRecord {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
}

/// An indicator of the `Indicators` query.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorRecord {
    pub id: String,
    pub name: String,
    pub pattern: String,
}

/// A work and what the connector told about it.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkRecord {
    pub id: String,
    pub connector_id: String,
    pub name: String,
    /// The sum of every `addExpectations`.
    pub expectations: u64,
    /// How many `addExpectations` calls there were.
    pub expectation_calls: usize,
    /// `toProcessed`'s message and `inError`, once called.
    pub processed: Option<(String, bool)>,
}

/// How an injected failure answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with no GraphQL body.
    Http(u16),
    /// A GraphQL error with this name.
    Graphql(String),
}

#[derive(Debug)]
pub(super) struct Injected {
    pub operation: Option<String>,
    pub remaining: usize,
    pub fault: Fault,
}

#[derive(Debug, Default)]
pub(super) struct ConnectorRecord {
    pub name: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub reset_pending: bool,
}

/// The stand-in's memory.
#[derive(Debug)]
pub(super) struct World {
    pub log: Vec<LoggedRequest>,
    pub connectors: HashMap<String, ConnectorRecord>,
    pub works: Vec<WorkRecord>,
    pub indicators: Vec<IndicatorRecord>,
    pub regions: Vec<RegionRecord>,
    pub statuses: Option<Vec<String>>,
    pub pushed: Vec<String>,
    pub queue_bytes: f64,
    pub faults: Vec<Injected>,
    fail_first: usize,
}

/// What to do with a request before answering it.
pub(super) enum Admission {
    Http(u16),
    Error(String, String),
    Accepted(Operation),
}

impl World {
    pub fn new(config: &StandInConfig) -> Self {
        World {
            log: Vec::new(),
            connectors: HashMap::new(),
            works: Vec::new(),
            indicators: config.indicators.clone(),
            regions: config.regions.clone(),
            statuses: config.report_statuses.clone(),
            pushed: Vec::new(),
            queue_bytes: 0.0,
            faults: Vec::new(),
            fail_first: config.fail_first,
        }
    }

    pub fn connector(&mut self, id: &str) -> &mut ConnectorRecord {
        self.connectors.entry(id.to_owned()).or_default()
    }

    /// Logs the request and decides whether it gets an answer.
    pub fn admit(
        &mut self,
        name: &str,
        authorized: bool,
        operation: Option<Operation>,
        variables: &Value,
    ) -> Admission {
        let mut log = |rejected: Option<String>| {
            self.log.push(LoggedRequest {
                operation: name.to_owned(),
                variables: variables.clone(),
                rejected,
            });
        };
        if self.fail_first > 0 {
            self.fail_first -= 1;
            log(Some("HTTP 503 (starting)".into()));
            return Admission::Http(503);
        }
        let injected = self
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && f.operation.as_deref().is_none_or(|op| op == name));
        if let Some(injected) = injected {
            injected.remaining -= 1;
            let fault = injected.fault.clone();
            return match fault {
                Fault::Http(status) => {
                    log(Some(format!("HTTP {status} (injected)")));
                    Admission::Http(status)
                }
                Fault::Graphql(error) => {
                    log(Some(format!("{error} (injected)")));
                    Admission::Error(error, "injected failure".into())
                }
            };
        }
        if !authorized {
            log(Some("AUTH_REQUIRED".into()));
            return Admission::Error(
                "AUTH_REQUIRED".into(),
                "You must be logged in to do this.".into(),
            );
        }
        let Some(operation) = operation else {
            log(Some("unknown document".into()));
            return Admission::Error(
                "GRAPHQL_VALIDATION_FAILED".into(),
                "document is not part of the connector contract".into(),
            );
        };
        if let Err(problem) = contract::check(&contract::variables_of(operation), variables, "$") {
            log(Some(problem.clone()));
            return Admission::Error("GRAPHQL_VALIDATION_FAILED".into(), problem);
        }
        log(None);
        Admission::Accepted(operation)
    }

    /// The `data` of an accepted request.
    pub fn answer(
        &mut self,
        config: &StandInConfig,
        operation: Operation,
        v: &Value,
    ) -> Result<Value, (String, String)> {
        let text = |pointer: &str| {
            v.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let functional = |message: &str| ("FUNCTIONAL_ERROR".to_owned(), message.to_owned());
        Ok(match operation.name {
            "healthCheck" => json!({"about": {"version": "6.9.0-standin"}}),
            "RegisterConnector" => {
                let id = text("/input/id");
                let connector = self.connector(&id);
                connector.name = text("/input/name");
                connector.scope = v
                    .pointer("/input/scope")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect();
                let state = connector.state.clone();
                let names = QueueNames::new(config, &id);
                let broker = &config.broker;
                json!({"registerConnector": {
                    "id": id,
                    "connector_state": state,
                    "jwks": null,
                    "config": {
                        "connection": {"host": broker.host, "vhost": broker.vhost,
                            "use_ssl": broker.use_ssl, "port": broker.port,
                            "user": broker.user, "pass": broker.pass},
                        "s3": {"endpoint": null, "port": null, "use_ssl": false,
                            "bucket_name": "opencti-bucket", "bucket_region": null,
                            "access_key": null, "secret_key": null},
                        "listen": format!("{}listen_{id}", config.prefix),
                        "listen_routing": format!("{}listen_routing_{id}", config.prefix),
                        "listen_exchange": "amqp.connector.exchange",
                        "push": names.queue,
                        "push_routing": names.routing_key,
                        "push_exchange": config.exchange,
                    },
                    "connector_user_id": derived_id(&id),
                }})
            }
            "PingConnector" => {
                let id = text("/id");
                if !self.connectors.contains_key(&id) {
                    return Err(functional("No connector found with the specified ID"));
                }
                let connector = self.connector(&id);
                if connector.reset_pending {
                    connector.reset_pending = false;
                } else {
                    connector.state = Some(text("/state"));
                }
                json!({"pingConnector": {
                    "id": id,
                    "connector_state": connector.state,
                    "connector_info": v.get("connectorInfo"),
                }})
            }
            "GetConnector" => {
                let id = text("/id");
                let queue_bytes = self.queue_bytes;
                let Some(connector) = self.connectors.get(&id) else {
                    return Ok(json!({"connector": null}));
                };
                let names = QueueNames::new(config, &id);
                json!({"connector": {
                    "id": id, "name": connector.name, "active": true, "auto": false,
                    "only_contextual": false, "connector_type": "EXTERNAL_IMPORT",
                    "connector_scope": connector.scope, "connector_state": connector.state,
                    "connector_queue_details": {"messages_number": 0, "messages_size": queue_bytes},
                    "updated_at": "2026-01-01T00:00:00.000Z",
                    "created_at": "2026-01-01T00:00:00.000Z",
                    "config": {"listen": format!("{}listen_{id}", config.prefix),
                        "listen_exchange": "amqp.connector.exchange", "push": names.queue,
                        "push_exchange": config.exchange, "push_routing": names.routing_key},
                    "built_in": false,
                }})
            }
            "workAdd" => {
                let id = format!("work_{}", uuid::Uuid::new_v4());
                self.works.push(WorkRecord {
                    id: id.clone(),
                    connector_id: text("/connectorId"),
                    name: text("/friendlyName"),
                    expectations: 0,
                    expectation_calls: 0,
                    processed: None,
                });
                json!({"workAdd": {"id": id}})
            }
            "addExpectations" => {
                let id = text("/id");
                let work =
                    self.works.iter_mut().find(|w| w.id == id).ok_or_else(|| {
                        ("WORK_NOT_ALIVE".to_owned(), "work not found".to_owned())
                    })?;
                work.expectations += v.get("expectations").and_then(Value::as_u64).unwrap_or(0);
                work.expectation_calls += 1;
                json!({"workEdit": {"addExpectations": id}})
            }
            "workToProcessed" => {
                let id = text("/id");
                let work =
                    self.works.iter_mut().find(|w| w.id == id).ok_or_else(|| {
                        ("WORK_NOT_ALIVE".to_owned(), "work not found".to_owned())
                    })?;
                let in_error = v.get("inError").and_then(Value::as_bool).unwrap_or(false);
                work.processed = Some((text("/message"), in_error));
                json!({"workEdit": {"toProcessed": id}})
            }
            "StixBundlePush" => {
                self.pushed.push(text("/bundle"));
                json!({"stixBundlePush": true})
            }
            "Locations" => {
                let nodes: Vec<Value> = self
                    .regions
                    .iter()
                    .map(|r| {
                        json!({"id": r.id, "name": r.name,
                        "x_opencti_aliases": r.aliases, "entity_type": "Region"})
                    })
                    .collect();
                json!({"locations": page(&nodes, 50, v.get("after"))})
            }
            "Indicators" => {
                let wanted: Vec<String> = v
                    .pointer("/filters/filters/0/values")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_lowercase))
                    .collect();
                let nodes: Vec<Value> = self
                    .indicators
                    .iter()
                    .filter(|i| wanted.contains(&i.name.to_lowercase()))
                    .map(|i| json!({"id": i.id, "pattern": i.pattern}))
                    .collect();
                json!({"indicators": page(&nodes, 500, v.get("after"))})
            }
            "StixDomainObjectEdit" => {
                let id = text("/id");
                let indicator = self
                    .indicators
                    .iter_mut()
                    .find(|i| i.id == id)
                    .ok_or_else(|| functional("Cannot edit the object, element not found"))?;
                indicator.pattern = text("/input/value");
                json!({"stixDomainObjectEdit": {"fieldPatch": {"id": id,
                    "standard_id": format!("indicator--{}", derived_id(&id)),
                    "entity_type": "Indicator"}}})
            }
            "SubTypeStatuses" => {
                let statuses: Vec<Value> = self
                    .statuses
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(order, name)| {
                        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes());
                        json!({"id": id.to_string(), "order": order + 1,
                            "template": {"id": format!("template-{id}"), "name": name,
                                "color": "#4caf50"}})
                    })
                    .collect();
                json!({"subType": {"id": "Report", "label": "Report",
                    "workflowEnabled": !statuses.is_empty(), "statuses": statuses}})
            }
            other => return Err(functional(&format!("{other} is not served"))),
        })
    }
}

/// A stable UUID derived from `key` (the connector user, standard ids).
fn derived_id(key: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, key.as_bytes()).to_string()
}

/// One page of `nodes` after the cursor `after` (the index of the last node seen).
fn page(nodes: &[Value], size: usize, after: Option<&Value>) -> Value {
    let start = after
        .and_then(Value::as_str)
        .and_then(|c| c.parse::<usize>().ok())
        .map_or(0, |c| c + 1);
    let end = (start + size).min(nodes.len());
    let slice = if start < nodes.len() {
        &nodes[start..end]
    } else {
        &[]
    };
    let edges: Vec<Value> = slice.iter().map(|n| json!({"node": n})).collect();
    json!({
        "edges": edges,
        "pageInfo": {
            "startCursor": start.to_string(),
            "endCursor": end.saturating_sub(1).to_string(),
            "hasNextPage": end < nodes.len(),
            "hasPreviousPage": start > 0,
            "globalCount": nodes.len(),
        }
    })
}

/// The push queue and routing key of a connector.
pub(super) struct QueueNames {
    pub queue: String,
    pub routing_key: String,
}

impl QueueNames {
    pub fn new(config: &StandInConfig, connector_id: &str) -> Self {
        QueueNames {
            queue: format!("{}push_{connector_id}", config.prefix),
            routing_key: format!("{}push_routing_{connector_id}", config.prefix),
        }
    }
}

/// Declares the push exchange and the connector's push queue, bound, as the platform does.
pub(super) async fn declare_queues(
    config: &StandInConfig,
    connector_id: &str,
) -> Result<(), lapin::Error> {
    let Some(url) = &config.broker.declare_url else {
        return Ok(());
    };
    let names = QueueNames::new(config, connector_id);
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            config.exchange.clone().into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await?;
    let queue = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(names.queue.clone().into(), queue, FieldTable::default())
        .await?;
    channel
        .queue_bind(
            names.queue.into(),
            config.exchange.clone().into(),
            names.routing_key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let _ = connection.close(200, "OK".into()).await;
    Ok(())
}
