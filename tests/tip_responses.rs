//! Bad answers from the simulator: a non-ok envelope, a body of the wrong shape, a body
//! that is not JSON, and a body past the size limit each give an error quoting or naming
//! what was wrong, without retrying. Also the admin routes of the stand-alone simulator.
#![cfg(feature = "simulator")]

#[path = "support/tip_harness.rs"]
mod harness;

use connector_kaspersky::simulator::tip::{Fault, GenerateParams, SimulatorOptions, generate};
use connector_kaspersky::tip::{Endpoint, TipError};
use harness::Harness;

/// `{"status": "error", ...}` is an error quoting the body, tried once.
#[tokio::test]
async fn a_non_ok_envelope_quotes_the_body() {
    let h = Harness::generated().await;
    h.sim.inject(Endpoint::GetList, Fault::NotOk);
    let client = h.client();

    let error = client.get_list(None, None).await.unwrap_err();
    assert!(matches!(error, TipError::Envelope { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("\"status\":\"error\""), "{text}");
    assert!(text.contains("simulated failure"), "{text}");
    assert_eq!(h.sim.requests(Endpoint::GetList), 1);
}

/// `return_data` of the wrong type is an error naming the problem and quoting the body.
#[tokio::test]
async fn a_wrong_shape_names_the_problem() {
    let h = Harness::generated().await;
    let id = h.client().get_list(None, None).await.unwrap()[0].id.clone();
    for endpoint in [Endpoint::GetList, Endpoint::GetOne, Endpoint::GetMasterIoc] {
        h.sim.inject(endpoint, Fault::WrongShape);
    }
    let client = h.client();

    let list = client.get_list(None, None).await.unwrap_err();
    assert!(matches!(list, TipError::Shape { .. }), "{list:?}");
    assert!(list.to_string().contains("invalid type: string"), "{list}");
    assert!(list.to_string().contains("simulated wrong shape"), "{list}");

    let one = client.get_one(&id).await.unwrap_err();
    assert!(one.to_string().contains("the publication"), "{one}");

    let master = client.get_master_ioc().await.unwrap_err();
    assert!(matches!(master, TipError::Shape { .. }), "{master:?}");
    assert_eq!(h.sim.requests(Endpoint::GetMasterIoc), 1);
}

/// A body that is not JSON is an error quoting its start.
#[tokio::test]
async fn a_malformed_body_is_quoted() {
    let h = Harness::generated().await;
    h.sim.inject(Endpoint::GetMasterYara, Fault::MalformedBody);

    let error = h.client().get_master_yara().await.unwrap_err();
    assert!(matches!(error, TipError::Json { .. }), "{error:?}");
    assert!(
        error.to_string().contains("{\"status\": \"ok\", \"retu"),
        "{error}"
    );
    assert_eq!(h.sim.requests(Endpoint::GetMasterYara), 1);
}

/// A body larger than `max_body_bytes` is refused while reading.
#[tokio::test]
async fn a_body_past_the_limit_is_refused() {
    let params = GenerateParams {
        pdf_bytes: 256 * 1024,
        ..GenerateParams::default()
    };
    let mut h = Harness::start(generate(&params)).await;
    h.settings.max_body_bytes = 64 * 1024;
    let client = h.client();

    let list = client.get_list(None, None).await.unwrap();
    let with_pdf = list[0].id.clone();
    let error = client.get_one(&with_pdf).await.unwrap_err();
    assert!(
        matches!(error, TipError::BodyTooLarge { limit: 65536, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("max_body_bytes"), "{error}");
    assert_eq!(h.sim.requests(Endpoint::GetOne), 1);
}

/// A large answer sent chunked (no `Content-Length`) is cut off once it passes the limit,
/// and one under the limit is read whole.
#[tokio::test]
async fn a_chunked_body_is_limited_while_reading() {
    let params = GenerateParams {
        pdf_bytes: 3 * 1024 * 1024,
        ..GenerateParams::default()
    };
    let mut h = Harness::start(generate(&params)).await;
    let id = h.client().get_list(None, None).await.unwrap()[0].id.clone();

    let raw = h
        .raw_client()
        .post(format!("{}{}", h.sim.base_url(), Endpoint::GetOne.path()))
        .query(&[("publication_id", id.as_str()), ("include_info", "pdf")])
        .basic_auth(h.sim.user(), Some(h.sim.password()))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.content_length(), None, "sent chunked");
    drop(raw);

    h.settings.max_body_bytes = 2 * 1024 * 1024;
    let error = h.client().get_one(&id).await.unwrap_err();
    assert!(matches!(error, TipError::BodyTooLarge { .. }), "{error:?}");

    h.settings.max_body_bytes = 8 * 1024 * 1024;
    let publication = h.client().get_one(&id).await.unwrap();
    assert!(harness::decode(publication.report_pdf.as_deref().unwrap()).len() >= 3 * 1024 * 1024);
}

/// The admin routes queue faults from outside and report request counts.
#[tokio::test]
async fn faults_can_be_queued_through_the_admin_routes() {
    let options = SimulatorOptions {
        faults: vec!["get_list:503".parse().unwrap()],
        ..SimulatorOptions::default()
    };
    let h = Harness::start_with(generate(&GenerateParams::default()), options).await;
    let http = h.raw_client();
    let url = |path: &str| format!("{}/_simulator/{path}", h.sim.base_url());

    let queued = http
        .post(url("faults"))
        .basic_auth(h.sim.user(), Some(h.sim.password()))
        .body("get_master_ioc:not-ok\nany:429;retry-after=0*2\n")
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 200);
    assert_eq!(h.sim.faults().pending(), 4);

    let refused = http.post(url("faults")).body("503").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let bad = http
        .post(url("faults"))
        .basic_auth(h.sim.user(), Some(h.sim.password()))
        .body("teapot")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let client = h.client();
    client.get_list(None, None).await.unwrap();
    assert!(client.get_master_ioc().await.is_err());
    assert_eq!(
        h.sim.requests(Endpoint::GetList),
        4,
        "503, 429, 429, then the answer"
    );

    let counts: serde_json::Value = http
        .get(url("requests"))
        .basic_auth(h.sim.user(), Some(h.sim.password()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["get_list"], 4);
    assert_eq!(counts["get_master_ioc"], 1);

    let cleared = http
        .delete(url("faults"))
        .basic_auth(h.sim.user(), Some(h.sim.password()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    assert_eq!(h.sim.faults().pending(), 0);
}
