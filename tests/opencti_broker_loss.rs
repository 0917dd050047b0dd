//! Losing the broker mid-run: the publisher reconnects, publishes again what was not
//! confirmed, and `flush` returns only when every message is confirmed.

#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use connector_kaspersky::opencti::backoff::Backoff;
use connector_kaspersky::opencti::{
    AmqpError, AmqpPublisher, BrokerSettings, BrokerTls, PublishTarget, PublisherOptions, Secret,
};
use lapin::options::{QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use tokio_util::sync::CancellationToken;

const EXCHANGE: &str = "amqp.worker.exchange";

async fn declare(broker: &lapin::Connection, queue: &str, routing_key: &str) {
    let channel = broker.create_channel().await.unwrap();
    let durable = lapin::options::ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            EXCHANGE.into(),
            lapin::ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            queue.into(),
            EXCHANGE.into(),
            routing_key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
}

fn settings(port: u16) -> BrokerSettings {
    let uri: lapin::uri::AMQPUri = opencti_env::amqp_url().parse().unwrap();
    BrokerSettings {
        host: "127.0.0.1".into(),
        port,
        vhost: uri.vhost,
        user: uri.authority.userinfo.username,
        password: Secret::new(uri.authority.userinfo.password),
        use_ssl: false,
        tls: BrokerTls::default(),
    }
}

fn options() -> PublisherOptions {
    PublisherOptions {
        window: 64,
        backoff: Backoff::new(Duration::from_millis(50), Duration::from_millis(400)),
        connect_timeout: Duration::from_secs(5),
        confirm_timeout: Duration::from_secs(10),
        ..PublisherOptions::default()
    }
}

/// The proxy is cut while messages are in flight and restored a little later: every
/// message arrives at least once and the counters show the republishing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_is_recovered_without_loss() {
    let Some(broker) = opencti_env::broker().await else {
        return;
    };
    let (host, port) = opencti_env::broker_address();
    let target: SocketAddr = tokio::net::lookup_host((host.as_str(), port))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = proxy::TcpProxy::start(target).await;

    let prefix = opencti_env::prefix("loss");
    let queue = format!("{prefix}push");
    let routing_key = format!("{prefix}push_routing");
    declare(&broker, &queue, &routing_key).await;

    let cancel = CancellationToken::new();
    let target = PublishTarget {
        exchange: EXCHANGE.into(),
        routing_key,
    };
    let mut publisher =
        AmqpPublisher::connect(settings(proxy.port()), target, options(), cancel.clone())
            .await
            .unwrap();
    let counters = publisher.counters();

    const TOTAL: usize = 3000;
    for i in 0..TOTAL {
        if i == TOTAL / 2 {
            proxy.cut();
            let restore_after = tokio::time::sleep(Duration::from_millis(700));
            let proxy_ref = &proxy;
            // Publishing goes on while the broker is away; restore it concurrently.
            let publishing = async {
                for j in i..i + 200 {
                    publisher
                        .publish(Bytes::from(format!("{{\"n\": {j}}}")))
                        .await
                        .unwrap();
                }
            };
            let restoring = async {
                restore_after.await;
                proxy_ref.restore();
            };
            tokio::join!(publishing, restoring);
        }
        if (TOTAL / 2..TOTAL / 2 + 200).contains(&i) {
            continue;
        }
        publisher
            .publish(Bytes::from(format!("{{\"n\": {i}}}")))
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();
    assert_eq!(publisher.unconfirmed(), 0);
    assert_eq!(counters.published(), TOTAL as u64);
    assert_eq!(counters.confirmed(), TOTAL as u64);
    assert!(counters.reconnects() >= 1, "no reconnect happened");
    assert!(counters.republished() >= 1, "nothing was published again");

    let messages = opencti_env::drain(
        &broker,
        &queue,
        TOTAL + counters.republished() as usize,
        Duration::from_secs(5),
    )
    .await;
    opencti_env::delete_queue(&broker, &queue).await;
    let seen: BTreeSet<u64> = messages
        .iter()
        .map(|m| {
            serde_json::from_slice::<serde_json::Value>(&m.delivery.data).unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seen.len(), TOTAL, "every message arrives at least once");
    assert!(messages.len() >= TOTAL);
    publisher.close().await.unwrap();
}

/// With a bounded number of attempts, a broker that stays away ends in `GaveUp`, and the
/// unconfirmed messages are not counted as delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_stays_away_is_reported() {
    let Some(broker) = opencti_env::broker().await else {
        return;
    };
    let (host, port) = opencti_env::broker_address();
    let target: SocketAddr = tokio::net::lookup_host((host.as_str(), port))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = proxy::TcpProxy::start(target).await;
    let prefix = opencti_env::prefix("away");
    let queue = format!("{prefix}push");
    let routing_key = format!("{prefix}push_routing");
    declare(&broker, &queue, &routing_key).await;

    let cancel = CancellationToken::new();
    let options = PublisherOptions {
        max_attempts: Some(3),
        ..options()
    };
    let target = PublishTarget {
        exchange: EXCHANGE.into(),
        routing_key,
    };
    let mut publisher = AmqpPublisher::connect(settings(proxy.port()), target, options, cancel)
        .await
        .unwrap();
    proxy.cut();
    // Let the client see the connection go before publishing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    publisher.publish(Bytes::from_static(b"{}")).await.unwrap();
    let error = publisher.flush().await.unwrap_err();
    assert!(
        matches!(error, AmqpError::GaveUp { attempts: 3, .. }),
        "{error}"
    );
    assert_eq!(publisher.counters().confirmed(), 0);
    assert_eq!(publisher.unconfirmed(), 1);
    opencti_env::delete_queue(&broker, &queue).await;
}
