//! The TIP client against the simulator over real HTTPS with a client certificate: every
//! endpoint returns the world's data, and the simulator answers like the samples of the
//! real API.
#![cfg(feature = "simulator")]

#[path = "support/tip_harness.rs"]
mod harness;

use std::path::Path;

use connector_kaspersky::simulator::tip::{GenerateParams, SimulatorOptions, World, generate};
use connector_kaspersky::testdata;
use connector_kaspersky::tip::{Endpoint, Publication, response};
use harness::{Harness, decode, decode_payloads};
use serde_json::Value;

/// Every endpoint of a generated world, through the client: metadata, files and Master
/// files come back as the world holds them.
#[tokio::test]
async fn all_four_endpoints_return_the_generated_world() {
    let world = generate(&GenerateParams::default());
    let h = Harness::start(world.clone()).await;
    let client = h.client();

    let list = client.get_list(None, None).await.unwrap();
    let ids: Vec<&str> = list.iter().map(|p| p.id.as_str()).collect();
    let world_ids: Vec<&str> = world.publications().iter().map(|p| p.id()).collect();
    assert_eq!(ids, world_ids);
    assert!(
        list.iter()
            .all(|p| p.report_pdf.is_none() && p.report_iocs.is_none())
    );

    for expected in world.publications() {
        let publication = client.get_one(expected.id()).await.unwrap();
        assert_eq!(publication.name, expected.name());
        assert_eq!(publication.updated.timestamp, expected.updated());
        for (served, held) in [
            (&publication.report_pdf, &expected.pdf),
            (&publication.report_iocs, &expected.iocs),
            (&publication.report_yara, &expected.yara),
        ] {
            assert_eq!(
                served.as_deref().map(decode),
                held.as_ref().map(|payload| payload.raw().to_vec()),
                "publication {}",
                expected.id()
            );
        }
    }

    let master_ioc = client.get_master_ioc().await.unwrap();
    assert_eq!(
        decode(&master_ioc),
        world.master_ioc.as_ref().unwrap().raw()
    );
    let master_yara = client.get_master_yara().await.unwrap();
    assert_eq!(
        decode(&master_yara),
        world.master_yara.as_ref().unwrap().raw()
    );

    assert_eq!(
        h.sim.requests(Endpoint::GetOne),
        world.publications().len() as u64
    );
    assert_eq!(h.sim.requests(Endpoint::GetList), 1);
    assert_eq!(client.retries(), 0);
}

/// `get_list` keeps publications whose `updated` lies within the bounds, both inclusive.
#[tokio::test]
async fn get_list_filters_on_updated_inclusively() {
    let world = generate(&GenerateParams::default());
    let mut times: Vec<i64> = world
        .publications()
        .iter()
        .map(|p| p.updated().as_second())
        .collect();
    times.sort();
    let (low, high) = (times[2], times[5]);
    let h = Harness::start(world.clone()).await;
    let client = h.client();

    let between = client.get_list(Some(low), Some(high)).await.unwrap();
    let expected = times.iter().filter(|&&t| low <= t && t <= high).count();
    assert_eq!(between.len(), expected);
    assert!(between.iter().all(|p| {
        let t = p.updated.timestamp.as_second();
        low <= t && t <= high
    }));

    let from = client.get_list(Some(high), None).await.unwrap();
    assert!(from.iter().any(|p| p.updated.timestamp.as_second() == high));
    let until = client.get_list(None, Some(low)).await.unwrap();
    assert!(until.iter().any(|p| p.updated.timestamp.as_second() == low));
    let none = client.get_list(Some(times[7] + 1), None).await.unwrap();
    assert!(none.is_empty());
}

/// A server that sends fewer publications than its `count` still gives the client what it
/// sent (the client only warns).
#[tokio::test]
async fn a_capped_list_returns_what_was_sent() {
    let options = SimulatorOptions {
        list_limit: Some(3),
        ..SimulatorOptions::default()
    };
    let h = Harness::start_with(generate(&GenerateParams::default()), options).await;
    let (_, raw) = h.raw_post(Endpoint::GetList, &[]).await;
    assert_eq!(raw["return_data"]["count"], 8);
    assert_eq!(h.client().get_list(None, None).await.unwrap().len(), 3);
}

/// `get_one` sends only the files `include_info` asks for.
#[tokio::test]
async fn include_info_selects_the_files() {
    let world = generate(&GenerateParams::default());
    let full = world
        .publications()
        .iter()
        .find(|p| p.pdf.is_some() && p.iocs.is_some() && p.yara.is_some())
        .unwrap();
    let h = Harness::start(world.clone()).await;
    let id = full.id();

    let (status, only_pdf) = h
        .raw_post(
            Endpoint::GetOne,
            &[("publication_id", id), ("include_info", "pdf")],
        )
        .await;
    assert_eq!(status, 200);
    let data = &only_pdf["return_data"];
    assert!(data.get("report_pdf").is_some());
    assert!(data.get("report_iocs").is_none() && data.get("report_yara").is_none());

    let (_, all) = h
        .raw_post(
            Endpoint::GetOne,
            &[("publication_id", id), ("include_info", "all")],
        )
        .await;
    for key in ["report_pdf", "report_iocs", "report_yara"] {
        assert!(all["return_data"].get(key).is_some(), "{key}");
    }
    let (_, nothing) = h
        .raw_post(Endpoint::GetOne, &[("publication_id", id)])
        .await;
    assert!(nothing["return_data"].get("report_pdf").is_none());

    let (status, _) = h
        .raw_post(Endpoint::GetMasterIoc, &[("report_group", "fin")])
        .await;
    assert_eq!(status, 404);
}

fn sample(relative: &str) -> Option<Value> {
    let path = testdata::shared(relative)?;
    Some(serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
}

fn normalised(mut value: Value) -> Value {
    decode_payloads(&mut value);
    value
}

/// Serving `samples/decoded` reproduces `samples/api/*.json` field for field (payloads
/// compared decoded, since gzip bytes may differ).
#[tokio::test]
async fn the_sample_world_is_served_like_the_real_api() {
    let Some(decoded) = testdata::shared("samples/decoded") else {
        return;
    };
    let world = World::load(&decoded).unwrap();
    let h = Harness::start(world.clone()).await;

    let (_, list) = h.raw_post(Endpoint::GetList, &[]).await;
    assert_eq!(list, sample("samples/api/get_list.json").unwrap());

    let (_, since) = h
        .raw_post(Endpoint::GetList, &[("date_start", "1700780519")])
        .await;
    let expected = sample("samples/api/get_list-date_start-1700780519.json").unwrap();
    assert_eq!(sorted_by_id(since), sorted_by_id(expected));

    for publication in world.publications() {
        let id = publication.id();
        let query = [
            ("publication_id", id),
            ("include_info", "pdf,yara,iocs"),
            ("lang", "en"),
        ];
        let (_, one) = h.raw_post(Endpoint::GetOne, &query).await;
        let expected = sample(&format!("samples/api/get_one-{id}.json")).unwrap();
        assert_eq!(normalised(one), normalised(expected), "get_one {id}");
    }

    for (endpoint, file) in [
        (Endpoint::GetMasterIoc, "get_master_ioc.json"),
        (Endpoint::GetMasterYara, "get_master_yara.json"),
    ] {
        let (_, master) = h.raw_post(endpoint, &[("report_group", "apt")]).await;
        let expected = sample(&format!("samples/api/{file}")).unwrap();
        assert_eq!(normalised(master), normalised(expected), "{endpoint}");
    }
}

/// The client reads the sample world as it reads the saved answers of the real API.
#[tokio::test]
async fn the_client_reads_the_sample_world_like_the_saved_answers() {
    let Some(decoded) = testdata::shared("samples/decoded") else {
        return;
    };
    let h = Harness::start(World::load(&decoded).unwrap()).await;
    let client = h.client();

    let since = client.get_list(Some(1_700_780_519), None).await.unwrap();
    let saved = read_saved("samples/api/get_list-date_start-1700780519.json");
    let expected = response::parse_list(&saved).unwrap().publications;
    assert_eq!(since, expected);
    assert_eq!(since.len(), 3);

    for publication in &client.get_list(None, None).await.unwrap() {
        let live = client.get_one(&publication.id).await.unwrap();
        let saved = read_saved(&format!("samples/api/get_one-{}.json", publication.id));
        let expected = response::parse_one(&saved).unwrap();
        assert_eq!(without_payloads(&live), without_payloads(&expected));
        for (a, b) in [
            (&live.report_pdf, &expected.report_pdf),
            (&live.report_iocs, &expected.report_iocs),
            (&live.report_yara, &expected.report_yara),
        ] {
            assert_eq!(a.as_deref().map(decode), b.as_deref().map(decode));
        }
    }
}

fn read_saved(relative: &str) -> Vec<u8> {
    let path = testdata::shared(relative).expect("checked by the caller");
    std::fs::read(Path::new(&path)).unwrap()
}

fn without_payloads(publication: &Publication) -> Publication {
    Publication {
        report_pdf: None,
        report_iocs: None,
        report_yara: None,
        ..publication.clone()
    }
}

fn sorted_by_id(mut answer: Value) -> Value {
    if let Some(Value::Array(items)) = answer.pointer_mut("/return_data/publications") {
        items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    }
    answer
}
