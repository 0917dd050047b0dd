//! The HTTP side of the simulator: the four endpoints, basic auth, faults, and the admin
//! routes of the stand-alone simulator.
//!
//! Every request to an endpoint is counted, then meets the next queued fault if any, then
//! basic auth, then is answered from the world the way the real TIP answers: a JSON
//! envelope with files as base64 of gzip.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::faults::{Fault, FaultSpec, Faults, RequestCounts};
use super::world::World;
use crate::tip::Endpoint;

/// What every request handler shares.
pub(crate) struct ServerState {
    pub(crate) world: Arc<World>,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) faults: Arc<Faults>,
    pub(crate) counts: Arc<RequestCounts>,
    /// Serve at most this many publications from `get_list` (while `count` says all).
    pub(crate) list_limit: Option<usize>,
}

/// Path prefix of the admin routes.
pub const ADMIN_PREFIX: &str = "/_simulator";

pub(crate) fn router(state: Arc<ServerState>) -> Router {
    let mut router = Router::new();
    for endpoint in Endpoint::ALL {
        let handler = move |State(state): State<Arc<ServerState>>, uri: Uri, headers: HeaderMap| {
            serve_endpoint(state, endpoint, uri, headers)
        };
        router = router.route(&endpoint.path(), post(handler).get(handler));
    }
    router
        .route(
            &format!("{ADMIN_PREFIX}/faults"),
            post(admin_push_faults).delete(admin_clear_faults),
        )
        .route(&format!("{ADMIN_PREFIX}/requests"), get(admin_requests))
        .fallback(|| async { error_response(StatusCode::NOT_FOUND, "no such endpoint") })
        .with_state(state)
}

async fn serve_endpoint(
    state: Arc<ServerState>,
    endpoint: Endpoint,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    state.counts.record(endpoint);
    tracing::debug!(endpoint = %endpoint, "simulated TIP request");

    let fault = state.faults.take(endpoint);
    let mut drop_midway = false;
    match fault {
        Some(Fault::Status { code, retry_after }) => {
            return fault_status(code, retry_after.as_deref());
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::MalformedBody) => {
            return json_bytes(
                StatusCode::OK,
                Bytes::from_static(b"{\"status\": \"ok\", \"retu"),
            );
        }
        Some(Fault::NotOk) => {
            let body = json!({"status": "error", "status_msg": "simulated failure"});
            return json_value(StatusCode::OK, &body);
        }
        Some(Fault::WrongShape) => {
            let body = json!({"status": "ok", "return_data": "simulated wrong shape"});
            return json_value(StatusCode::OK, &body);
        }
        Some(Fault::DropConnection) => drop_midway = true,
        None => {}
    }

    if !authorized(&state, &headers) {
        let mut response = error_response(StatusCode::UNAUTHORIZED, "authentication failed");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"TIP simulator\""),
        );
        return response;
    }

    let query: Vec<(String, String)> = match Query::try_from_uri(&uri) {
        Ok(Query(query)) => query,
        Err(_) => return error_response(StatusCode::BAD_REQUEST, "unreadable query string"),
    };
    let answer = match endpoint {
        Endpoint::GetList => get_list(&state, &query),
        Endpoint::GetOne => get_one(&state.world, &query),
        Endpoint::GetMasterIoc => master(&state.world, &query, "master_ioc"),
        Endpoint::GetMasterYara => master(&state.world, &query, "master_yara"),
    };
    let body = match answer {
        Ok(body) => body,
        Err((status, message)) => return error_response(status, message),
    };

    if drop_midway {
        return dropped_midway(body);
    }
    json_bytes(StatusCode::OK, body)
}

/// The whole JSON body of a successful answer, or the status and message of a failure.
type Answer = Result<Bytes, (StatusCode, &'static str)>;

/// Publications whose `updated` lies within `date_start..=date_end` (Unix seconds, each
/// optional). Whether the real TIP filters on `updated` or on `published` is not
/// documented; `updated` is what the connector's incremental state assumes.
fn get_list(state: &ServerState, query: &[(String, String)]) -> Answer {
    let bound = |name: &str| -> Result<Option<i64>, (StatusCode, &'static str)> {
        match param(query, name) {
            None => Ok(None),
            Some(text) => text.trim().parse().map(Some).map_err(|_| {
                (
                    StatusCode::BAD_REQUEST,
                    "date_start and date_end are Unix seconds",
                )
            }),
        }
    };
    let start = bound("date_start")?;
    let end = bound("date_end")?;

    let matching: Vec<&Map<String, Value>> = state
        .world
        .publications()
        .iter()
        .filter(|publication| {
            let updated = publication.updated().as_second();
            start.is_none_or(|start| updated >= start) && end.is_none_or(|end| updated <= end)
        })
        .map(|publication| publication.meta())
        .collect();
    let count = matching.len();
    let served = state.list_limit.map_or(count, |limit| limit.min(count));
    Ok(envelope(
        json!({"count": count, "publications": matching[..served]}),
    ))
}

fn get_one(world: &World, query: &[(String, String)]) -> Answer {
    let id = param(query, "publication_id")
        .ok_or((StatusCode::BAD_REQUEST, "publication_id is required"))?;
    let publication = world
        .publication(id)
        .ok_or((StatusCode::NOT_FOUND, "no publication with this id"))?;

    let include = param(query, "include_info").unwrap_or_default();
    let wants = |what: &str| {
        include
            .split(',')
            .map(str::trim)
            .any(|item| item == "all" || item == what)
    };

    let mut data = publication.meta().clone();
    for (what, key, payload) in [
        ("pdf", "report_pdf", &publication.pdf),
        ("yara", "report_yara", &publication.yara),
        ("iocs", "report_iocs", &publication.iocs),
    ] {
        if let Some(payload) = payload.as_ref().filter(|_| wants(what)) {
            data.insert(key.to_owned(), Value::String(payload.encoded().to_owned()));
        }
    }
    Ok(envelope(Value::Object(data)))
}

fn master(world: &World, query: &[(String, String)], field: &str) -> Answer {
    match param(query, "report_group") {
        None | Some("" | "apt" | "all") => {}
        Some(_) => {
            return Err((
                StatusCode::NOT_FOUND,
                "no master file for this report_group",
            ));
        }
    }
    let payload = match field {
        "master_ioc" => &world.master_ioc,
        _ => &world.master_yara,
    };
    let payload = payload
        .as_ref()
        .ok_or((StatusCode::NOT_FOUND, "this world has no such master file"))?;
    // Written by hand: the payload can be tens of megabytes, and base64 needs no JSON
    // escaping, so one copy is enough.
    let encoded = payload.encoded();
    let mut body = Vec::with_capacity(encoded.len() + 64);
    body.extend_from_slice(br#"{"status":"ok","return_data":{""#);
    body.extend_from_slice(field.as_bytes());
    body.extend_from_slice(br#"":""#);
    body.extend_from_slice(encoded.as_bytes());
    body.extend_from_slice(br#""}}"#);
    Ok(Bytes::from(body))
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn authorized(state: &ServerState, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{}:{}", state.user, state.password);
    decoded == expected.as_bytes()
}

fn envelope(data: Value) -> Bytes {
    let body = json!({"status": "ok", "return_data": data});
    Bytes::from(serde_json::to_vec(&body).expect("JSON values always serialize"))
}

fn json_value(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).expect("JSON values always serialize");
    json_bytes(status, Bytes::from(bytes))
}

/// Answers larger than this are sent chunked, without `Content-Length`, as a server that
/// streams a large answer does; the client must then enforce its size limit while reading.
const CHUNKED_ABOVE: usize = 1024 * 1024;

fn json_bytes(status: StatusCode, body: Bytes) -> Response {
    if body.len() <= CHUNKED_ABOVE {
        return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..body.len())
        .step_by(64 * 1024)
        .map(|start| Ok(body.slice(start..body.len().min(start + 64 * 1024))))
        .collect();
    let mut response = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error_response(status: StatusCode, message: &str) -> Response {
    json_value(status, &json!({"status": "error", "status_msg": message}))
}

fn fault_status(code: u16, retry_after: Option<&str>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = error_response(status, "simulated failure");
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A response announcing the whole body but delivering half, then failing the stream,
/// which makes hyper close the connection mid-answer.
fn dropped_midway(body: Bytes) -> Response {
    let total = body.len();
    let half = body.slice(..total / 2);
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated drop",
        )),
    ];
    let stream = futures_util::stream::iter(chunks);
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
    response
}

async fn admin_push_faults(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return error_response(StatusCode::UNAUTHORIZED, "authentication failed");
    }
    let text = String::from_utf8_lossy(&body);
    let mut specs = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        match line.parse::<FaultSpec>() {
            Ok(spec) => specs.push(spec),
            Err(error) => {
                let body = json!({"status": "error", "status_msg": error.to_string()});
                return json_value(StatusCode::BAD_REQUEST, &body);
            }
        }
    }
    specs.iter().for_each(|spec| state.faults.push_spec(spec));
    json_value(
        StatusCode::OK,
        &json!({"queued": specs.len(), "pending": state.faults.pending()}),
    )
}

async fn admin_clear_faults(State(state): State<Arc<ServerState>>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return error_response(StatusCode::UNAUTHORIZED, "authentication failed");
    }
    state.faults.clear();
    json_value(StatusCode::OK, &json!({"pending": 0}))
}

async fn admin_requests(State(state): State<Arc<ServerState>>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return error_response(StatusCode::UNAUTHORIZED, "authentication failed");
    }
    let mut counts = Map::new();
    for endpoint in Endpoint::ALL {
        counts.insert(
            endpoint.name().to_owned(),
            json!(state.counts.get(endpoint)),
        );
    }
    json_value(StatusCode::OK, &Value::Object(counts))
}
