//! The GraphQL client against the stand-in: look-ups, the api protocol, the contract
//! checks and faults.

#[path = "support/opencti_env.rs"]
mod opencti_env;

use std::time::Duration;

use connector_kaspersky::opencti::backoff::Backoff;
use connector_kaspersky::opencti::{ApiDelivery, ApiError, ApiSettings, OpenCtiClient};
use connector_kaspersky::simulator::opencti::{
    Fault, IndicatorRecord, RegionRecord, StandIn, StandInBroker, StandInConfig,
};
use tokio_util::sync::CancellationToken;

fn config() -> StandInConfig {
    StandInConfig {
        broker: StandInBroker {
            declare_url: None,
            ..StandInBroker::default()
        },
        ..StandInConfig::default()
    }
}

fn client(stand_in: &StandIn) -> OpenCtiClient {
    OpenCtiClient::new(&ApiSettings::new(stand_in.url(), stand_in.token())).unwrap()
}

/// Regions come back whole across pages of 50; indicators are found by many names at
/// once without regard to case, and a pattern edit reaches the platform.
#[tokio::test]
async fn look_ups_page_and_batch() {
    let regions = (0..120)
        .map(|i| RegionRecord {
            id: format!("r{i}"),
            name: format!("Region {i}"),
            aliases: vec![],
        })
        .collect();
    let indicators = (0..700)
        .map(|i| IndicatorRecord {
            id: format!("i{i}"),
            name: format!("Rule_{}", i % 350),
            pattern: format!("rule Rule_{} {{ condition: true }}", i % 350),
        })
        .collect();
    let config = StandInConfig {
        regions,
        indicators,
        report_statuses: Some(vec!["New".into(), "Analyzed".into()]),
        ..config()
    };
    let stand_in = StandIn::start(config).await.unwrap();
    let client = client(&stand_in);

    let found = client.regions().await.unwrap();
    assert_eq!(found.len(), 120);
    assert_eq!(found[119].name, "Region 119");

    let names: Vec<String> = (0..300).map(|i| format!("rule_{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let indicators = client.indicators_by_names(&names).await.unwrap();
    assert_eq!(indicators.len(), 600);

    client
        .set_indicator_pattern("i3", "rule Rule_3 { condition: false }")
        .await
        .unwrap();
    assert_eq!(
        stand_in.indicators()[3].pattern,
        "rule Rule_3 { condition: false }"
    );
    let missing = client.set_indicator_pattern("nope", "x").await.unwrap_err();
    assert_eq!(missing.graphql_name(), Some("FUNCTIONAL_ERROR"));

    let workflow = client.report_workflow().await.unwrap();
    assert!(workflow.status_id("ANALYZED").is_some());
    assert!(stand_in.requests().iter().all(|r| r.rejected.is_none()));
    let operations = stand_in.operations();
    assert_eq!(operations.iter().filter(|o| *o == "Locations").count(), 3);
    // 200 names (400 indicators, one page of 500), then 100 names.
    assert_eq!(operations.iter().filter(|o| *o == "Indicators").count(), 2);
}

/// Without a workflow no status resolves.
#[tokio::test]
async fn reports_without_workflow() {
    let stand_in = StandIn::start(config()).await.unwrap();
    let workflow = client(&stand_in).report_workflow().await.unwrap();
    assert!(!workflow.enabled);
    assert_eq!(workflow.status_id("New"), None);
}

/// A platform still starting (503s) is waited for; a wrong token is refused at once.
#[tokio::test]
async fn health_check_waits_for_the_platform() {
    let stand_in = StandIn::start(StandInConfig {
        fail_first: 3,
        ..config()
    })
    .await
    .unwrap();
    let cancel = CancellationToken::new();
    let backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(40));
    let version = client(&stand_in)
        .wait_until_reachable(&cancel, backoff.clone())
        .await
        .unwrap();
    assert!(version.contains("standin"));
    assert_eq!(stand_in.requests().len(), 4);

    let wrong = OpenCtiClient::new(&ApiSettings::new(stand_in.url(), "wrong")).unwrap();
    let error = wrong
        .wait_until_reachable(&cancel, backoff.clone())
        .await
        .unwrap_err();
    assert_eq!(error.graphql_name(), Some("AUTH_REQUIRED"));

    let stopped = CancellationToken::new();
    stopped.cancel();
    let unreachable = OpenCtiClient::new(&ApiSettings::new("http://127.0.0.1:9", "t")).unwrap();
    let error = unreachable
        .wait_until_reachable(&stopped, backoff)
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Cancelled { .. }));
}

/// Errors injected during a run come back typed; documents and variables outside the
/// contract are refused.
#[tokio::test]
async fn faults_and_contract_violations() {
    let stand_in = StandIn::start(config()).await.unwrap();
    let client = client(&stand_in);
    let registration = connector_kaspersky::opencti::ConnectorRegistration {
        id: "c1".into(),
        name: "Kaspersky".into(),
        scope: vec!["kaspersky".into()],
    };
    client.register(&registration).await.unwrap();
    let work = client.work_add("c1", "run", false).await.unwrap();

    stand_in.inject(
        Some("addExpectations"),
        1,
        Fault::Graphql("WORK_NOT_ALIVE".into()),
    );
    let error = client.add_expectations(&work, 3).await.unwrap_err();
    assert_eq!(error.graphql_name(), Some("WORK_NOT_ALIVE"));
    stand_in.inject(None, 1, Fault::Http(502));
    let error = client.add_expectations(&work, 3).await.unwrap_err();
    assert!(error.is_transient());
    client.add_expectations(&work, 3).await.unwrap();
    assert_eq!(stand_in.work(&work).unwrap().expectations, 3);

    let bad: Result<serde_json::Value, _> = client
        .graphql()
        .execute(
            connector_kaspersky::opencti::documents::ADD_EXPECTATIONS,
            &serde_json::json!({"id": work, "expectations": "3"}),
        )
        .await;
    assert_eq!(
        bad.unwrap_err().graphql_name(),
        Some("GRAPHQL_VALIDATION_FAILED")
    );
    let rejected: Vec<_> = stand_in
        .requests()
        .into_iter()
        .filter(|r| r.rejected.is_some())
        .collect();
    assert_eq!(rejected.len(), 3);

    // The api protocol pushes the whole bundle once.
    let bundle = opencti_env::sample_bundle("api-push", 3);
    let delivery = ApiDelivery::new(client.clone(), "c1".into());
    delivery.deliver(&bundle, Some(&work)).await.unwrap();
    let pushed = stand_in.pushed_bundles();
    assert_eq!(pushed.len(), 1);
    let parsed: serde_json::Value = serde_json::from_str(&pushed[0]).unwrap();
    assert_eq!(parsed["objects"].as_array().unwrap().len(), bundle.len());
    assert_eq!(stand_in.work(&work).unwrap().expectation_calls, 1);
}
