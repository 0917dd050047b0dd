//! `case publish --messages N`: publishing with publisher confirms to the local RabbitMQ,
//! the connector's `AmqpPublisher` beside a bare lapin loop on the same broker, same
//! bodies, same run.
//!
//! The bare loop is the practical ceiling of this machine and broker: one connection, one
//! channel in confirm mode, persistent messages, at most `window` confirms outstanding,
//! nothing else.
//! Ours runs twice: publishing everything then flushing once (the publisher alone), and
//! flushing after every bundle's worth of messages as `QueueDelivery` does (what a Master
//! IoC import sees). The bodies are real queue messages of a generated Master IoC file.
//!
//! Messages go through the default exchange into a queue the benchmark declares itself:
//! durable (persistent messages are written to disk, as on OpenCTI's queues), exclusive
//! to the benchmark's own connection (the broker deletes it if the process dies), capped
//! by `x-max-length` so that the broker drops the oldest instead of filling up, purged
//! between loops and deleted at the end.

use anyhow::{Context, bail};
use bytes::Bytes;
use connector_kaspersky::formats::master_ioc;
use connector_kaspersky::opencti::message::MessageEncoder;
use connector_kaspersky::opencti::split::split_bundle;
use connector_kaspersky::opencti::{
    AmqpPublisher, BrokerSettings, BrokerTls, PublishTarget, PublisherOptions, Secret,
};
use connector_kaspersky::scopes;
use connector_kaspersky::simulator::tip::generate::write_master_ioc;
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
    QueuePurgeOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::measure::{self, Clock};
use crate::common::convert::Job;
use crate::common::inputs::{DEFAULT_SEED, master_ioc_params};

/// The broker unless `BENCH_AMQP_URL` names another.
pub const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Messages the queue keeps at most (the oldest are dropped beyond).
const QUEUE_MAX_LENGTH: i64 = 20_000;

/// Rows of the Master IoC file the bodies are taken from.
const SAMPLE_ROWS: usize = 3_000;

/// One loop's figures.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rate {
    pub seconds: f64,
    pub cpu_seconds: f64,
    pub messages_per_second: f64,
}

/// The JSON line of `case publish`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PublishReport {
    pub case: String,
    /// The broker, without the password.
    pub broker: String,
    pub messages: u64,
    /// Average body size in bytes.
    pub body_bytes: u64,
    /// Confirms outstanding at most, in both loops.
    pub window: usize,
    /// Messages between two flushes in `ours_per_bundle` (a Master IoC group's messages).
    pub bundle_messages: usize,
    /// The bare lapin loop.
    pub bare: Rate,
    /// `AmqpPublisher`: publish all, flush once.
    pub ours: Rate,
    /// `AmqpPublisher`, flushed after every bundle as `QueueDelivery` does.
    pub ours_per_bundle: Rate,
    /// `ours / bare` in messages per second.
    pub ratio: f64,
    /// `ours_per_bundle / bare`.
    pub ratio_per_bundle: f64,
    pub peak_rss_bytes: u64,
}

/// Runs the publish case: `messages` messages in each loop, `window` confirms in flight.
pub fn run(messages: usize, window: usize) -> anyhow::Result<PublishReport> {
    let url = std::env::var("BENCH_AMQP_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let uri: AMQPUri = url
        .parse()
        .map_err(|e: String| anyhow::anyhow!("BENCH_AMQP_URL is not an AMQP URI: {e}"))?;
    let (bodies, bundle_messages) = sample_bodies()?;
    let body_bytes = bodies.iter().map(Bytes::len).sum::<usize>() / bodies.len();
    let window = window.max(1);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        let admin = Connection::connect(&url, ConnectionProperties::default())
            .await
            .with_context(|| {
                format!("cannot connect to {}", broker_settings(&uri).display_uri())
            })?;
        let channel = admin.create_channel().await?;
        let queue = declare_queue(&channel).await?;
        let loops = Loops {
            url: &url,
            uri: &uri,
            queue: &queue,
            bodies: &bodies,
            window,
        };
        let result = async {
            // A short first pass warms the broker and the connection code up.
            loops.bare(messages.min(5_000)).await?;
            purge(&channel, &queue).await?;
            let bare = loops.bare(messages).await?;
            purge(&channel, &queue).await?;
            let ours = loops.ours(messages, messages).await?;
            purge(&channel, &queue).await?;
            let ours_per_bundle = loops.ours(messages, bundle_messages).await?;
            anyhow::Ok((bare, ours, ours_per_bundle))
        }
        .await;
        let deleted = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
        let _ = admin.close(200, "OK".into()).await;
        let (bare, ours, ours_per_bundle) = result?;
        deleted.with_context(|| format!("cannot delete the queue {queue}"))?;

        Ok(PublishReport {
            case: "publish".to_owned(),
            broker: broker_settings(&uri).display_uri(),
            messages: messages as u64,
            body_bytes: body_bytes as u64,
            window,
            bundle_messages,
            ratio: ours.messages_per_second / bare.messages_per_second,
            ratio_per_bundle: ours_per_bundle.messages_per_second / bare.messages_per_second,
            bare,
            ours,
            ours_per_bundle,
            peak_rss_bytes: measure::peak_rss_bytes()?,
        })
    })
}

/// What both loops share.
struct Loops<'a> {
    url: &'a str,
    uri: &'a AMQPUri,
    queue: &'a str,
    bodies: &'a [Bytes],
    window: usize,
}

impl Loops<'_> {
    /// The bare loop: publish, keep at most `window` confirms pending, await them all.
    ///
    /// Each publication is started (its frames queued, its delivery tag taken) as soon as
    /// it is pushed, and nothing waits for its frames to be written: awaiting every
    /// `basic_publish` in turn would wait for the connection's I/O loop once per message
    /// and measure that instead of the broker.
    async fn bare(&self, messages: usize) -> anyhow::Result<Rate> {
        let connection = Connection::connect(self.url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_encoding("utf-8".into());
        let exchange = ShortString::from("");
        let routing_key = ShortString::from(self.queue);

        let mut pending = FuturesUnordered::new();
        let clock = Clock::start()?;
        for index in 0..messages {
            while pending.len() >= self.window {
                if let Some(confirmation) = pending.next().await {
                    acked(confirmation?)?;
                }
            }
            let channel = channel.clone();
            let (exchange, routing_key) = (exchange.clone(), routing_key.clone());
            let body = self.bodies[index % self.bodies.len()].clone();
            let properties = properties.clone();
            pending.push(async move {
                let options = BasicPublishOptions::default();
                let publish =
                    channel.basic_publish(exchange, routing_key, options, &body, properties);
                publish.await?.await
            });
            // Polls the new publication once (and collects confirms already back).
            while let Some(Some(confirmation)) = pending.next().now_or_never() {
                acked(confirmation?)?;
            }
        }
        while let Some(confirmation) = pending.next().await {
            acked(confirmation?)?;
        }
        let elapsed = clock.stop()?;
        let _ = connection.close(200, "OK".into()).await;
        Ok(rate(messages, elapsed))
    }

    /// `AmqpPublisher`: publish `messages`, flushing after every `flush_every`.
    async fn ours(&self, messages: usize, flush_every: usize) -> anyhow::Result<Rate> {
        let settings = broker_settings(self.uri);
        let target = PublishTarget {
            exchange: String::new(),
            routing_key: self.queue.to_owned(),
        };
        let options = PublisherOptions {
            window: self.window,
            max_attempts: Some(1),
            connection_name: "connector-kaspersky-bench".to_owned(),
            ..PublisherOptions::default()
        };
        let mut publisher =
            AmqpPublisher::connect(settings, target, options, CancellationToken::new()).await?;

        let clock = Clock::start()?;
        for index in 0..messages {
            let body = self.bodies[index % self.bodies.len()].clone();
            publisher.publish(body).await?;
            if (index + 1) % flush_every.max(1) == 0 {
                publisher.flush().await?;
            }
        }
        publisher.flush().await?;
        let elapsed = clock.stop()?;
        publisher.close().await?;
        Ok(rate(messages, elapsed))
    }
}

fn rate(messages: usize, elapsed: measure::Elapsed) -> Rate {
    Rate {
        seconds: elapsed.seconds,
        cpu_seconds: elapsed.cpu_seconds,
        messages_per_second: messages as f64 / elapsed.seconds,
    }
}

fn acked(confirmation: Confirmation) -> anyhow::Result<()> {
    match confirmation {
        Confirmation::Ack(_) => Ok(()),
        Confirmation::Nack(_) => bail!("the broker refused a message (nack)"),
        Confirmation::NotRequested => bail!("the channel is not in confirm mode"),
    }
}

/// Declares the benchmark's own queue (see the module documentation) and returns its name.
async fn declare_queue(channel: &Channel) -> anyhow::Result<String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "connector-kaspersky-bench-{}-{nanos:08x}",
        std::process::id()
    );
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-max-length".into(),
        AMQPValue::LongLongInt(QUEUE_MAX_LENGTH),
    );
    let options = QueueDeclareOptions {
        durable: true,
        exclusive: true,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(name.as_str().into(), options, arguments)
        .await
        .with_context(|| format!("cannot declare the queue {name}"))?;
    Ok(name)
}

async fn purge(channel: &Channel, queue: &str) -> anyhow::Result<()> {
    channel
        .queue_purge(queue.into(), QueuePurgeOptions::default())
        .await
        .with_context(|| format!("cannot purge the queue {queue}"))?;
    Ok(())
}

/// The connector's broker settings for `uri` (plain AMQP).
fn broker_settings(uri: &AMQPUri) -> BrokerSettings {
    let authority = &uri.authority;
    BrokerSettings {
        host: authority.host.clone(),
        port: authority.port,
        vhost: uri.vhost.clone(),
        user: authority.userinfo.username.clone(),
        password: Secret::new(&authority.userinfo.password),
        use_ssl: false,
        tls: BrokerTls::default(),
    }
}

/// Real message bodies: every message of the first groups of a generated Master IoC file,
/// and the average number of messages per group (one bundle each).
fn sample_bodies() -> anyhow::Result<(Vec<Bytes>, usize)> {
    let job = Job::bench();
    let mut csv = Vec::new();
    write_master_ioc(&master_ioc_params(SAMPLE_ROWS, DEFAULT_SEED), &mut csv)?;
    let text = String::from_utf8(csv).context("the generated CSV is UTF-8")?;
    let mut reader = master_ioc::rows(&text);
    let grouped = scopes::master_ioc::group_rows(&mut reader);

    let mut bodies = Vec::new();
    let mut bundles = 0;
    for group in &grouped.groups {
        let rows = scopes::master_ioc::read_group(&mut reader, group, &mut Vec::new());
        let built = scopes::master_ioc::build(&group.name, &rows, None, &job.settings, job.now);
        let Some(built) = built else {
            continue;
        };
        let split = split_bundle(&built.bundle);
        let mut encoder = MessageEncoder::new(&job.applicant_id, Some(&job.work_id));
        for (index, item) in split.items.iter().enumerate() {
            bodies.push(encoder.encode(&split.bundle_id, index as u64 + 1, item)?);
        }
        bundles += 1;
    }
    if bundles == 0 {
        bail!("the sample Master IoC file gave no message");
    }
    let per_bundle = bodies.len() / bundles;
    Ok((bodies, per_bundle))
}
