//! Publishing queue messages to OpenCTI's RabbitMQ with confirms, surviving broker loss.
//!
//! One connection and one channel serve the whole run. Publisher confirms are pipelined:
//! up to [`PublisherOptions::window`] messages are in flight while their confirms come
//! back. A message counts as delivered only once the broker confirmed it; a nack, a closed
//! channel, a lost connection or a confirm that never comes makes the publisher reconnect
//! (with backoff, saying so in the log) and publish again, in order, every message not yet
//! confirmed. Delivery is therefore at least once; OpenCTI merges repeats by id.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::tcp::{AMQPUriTcpExt, RustlsConnector, TLSConfig};
use lapin::types::ShortString;
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;

pub use super::amqp_tls::{BrokerTls, TlsSetupError, pem_setting};
use super::backoff::Backoff;
use super::graphql::Secret;

/// Where the broker is: what registration returns, with `MQ_*` overrides applied by the
/// caller.
#[derive(Clone, Debug)]
pub struct BrokerSettings {
    pub host: String,
    pub port: u16,
    /// The virtual host, as is (not percent-encoded).
    pub vhost: String,
    pub user: String,
    pub password: Secret,
    /// AMQPS when true.
    pub use_ssl: bool,
    /// TLS options, used when `use_ssl` is on.
    pub tls: BrokerTls,
}

impl BrokerSettings {
    /// `amqp[s]://user@host:port/vhost` with the vhost percent-encoded and no password,
    /// for logs.
    pub fn display_uri(&self) -> String {
        let scheme = if self.use_ssl { "amqps" } else { "amqp" };
        let vhost: String = self
            .vhost
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!(
            "{scheme}://{}@{}:{}/{vhost}",
            self.user, self.host, self.port
        )
    }
}

/// Where messages go: registration's `push_exchange` and `push_routing`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishTarget {
    pub exchange: String,
    pub routing_key: String,
}

/// Tuning of the publisher.
#[derive(Clone, Debug)]
pub struct PublisherOptions {
    /// Messages in flight (published, not yet confirmed) at most; default 1024.
    pub window: usize,
    /// Bytes in flight at most (at least one message is always allowed); default 64 MiB.
    pub max_bytes_in_flight: usize,
    /// AMQP heartbeat in seconds; default 10, as pycti.
    pub heartbeat_secs: u16,
    /// Time to open a connection; default 30 s.
    pub connect_timeout: Duration,
    /// Time a confirm may take before the connection is considered lost; default 120 s.
    pub confirm_timeout: Duration,
    /// Delays between reconnection attempts; default 1 s doubling to 30 s.
    pub backoff: Backoff,
    /// Reconnection attempts in a row before giving up; `None` (default) never gives up.
    pub max_attempts: Option<u32>,
    /// The connection name the broker shows.
    pub connection_name: String,
}

impl Default for PublisherOptions {
    fn default() -> Self {
        PublisherOptions {
            window: 1024,
            max_bytes_in_flight: 64 << 20,
            heartbeat_secs: 10,
            connect_timeout: Duration::from_secs(30),
            confirm_timeout: Duration::from_secs(120),
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(30)),
            max_attempts: None,
            connection_name: "connector-kaspersky".to_owned(),
        }
    }
}

/// Running totals of the publisher, for metrics.
#[derive(Debug, Default)]
pub struct PublisherCounters {
    published: AtomicU64,
    confirmed: AtomicU64,
    republished: AtomicU64,
    reconnects: AtomicU64,
    nacked: AtomicU64,
}

impl PublisherCounters {
    /// Messages handed to the broker the first time.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }
    /// Messages the broker confirmed (each message once).
    pub fn confirmed(&self) -> u64 {
        self.confirmed.load(Ordering::Relaxed)
    }
    /// Messages published again after a failure.
    pub fn republished(&self) -> u64 {
        self.republished.load(Ordering::Relaxed)
    }
    /// Connections opened after the first.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }
    /// Negative confirms received.
    pub fn nacked(&self) -> u64 {
        self.nacked.load(Ordering::Relaxed)
    }
}

/// Publishing stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AmqpError {
    /// The TLS settings cannot be used; fix the configuration.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// The broker stayed unreachable for `attempts` attempts in a row.
    #[error("broker {uri} unreachable after {attempts} attempts: {last_error}")]
    GaveUp {
        uri: String,
        attempts: u32,
        last_error: String,
    },
    /// The caller cancelled; unconfirmed messages were not delivered.
    #[error("publishing to the broker cancelled with {unconfirmed} messages unconfirmed")]
    Cancelled { unconfirmed: usize },
}

type ConfirmFuture = Pin<Box<dyn Future<Output = lapin::Result<Confirmation>> + Send>>;

/// A confirm future that has already failed with `error`.
fn failed(error: lapin::Error) -> ConfirmFuture {
    Box::pin(std::future::ready(Err(error)))
}

/// A message published and not yet confirmed.
struct InFlight {
    body: Bytes,
    confirm: ConfirmFuture,
}

/// The open connection and its confirm-mode channel.
struct Link {
    connection: Connection,
    channel: Channel,
}

/// The publisher of one run. See the module documentation.
pub struct AmqpPublisher {
    settings: BrokerSettings,
    target: PublishTarget,
    exchange: ShortString,
    routing_key: ShortString,
    options: PublisherOptions,
    tls: Option<RustlsConnector>,
    cancel: CancellationToken,
    link: Option<Link>,
    in_flight: VecDeque<InFlight>,
    bytes_in_flight: usize,
    counters: Arc<PublisherCounters>,
}

impl std::fmt::Debug for AmqpPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpPublisher")
            .field("broker", &self.settings.display_uri())
            .field("target", &self.target)
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

/// The outcome of one reconnection attempt.
enum Attempt {
    Ready,
    Failed(String),
}

impl AmqpPublisher {
    /// Connects (retrying as [`PublisherOptions`] say) and switches the channel to
    /// confirm mode.
    ///
    /// # Errors
    ///
    /// [`AmqpError::Tls`] for unusable TLS settings, [`AmqpError::GaveUp`] after
    /// `max_attempts`, [`AmqpError::Cancelled`].
    pub async fn connect(
        settings: BrokerSettings,
        target: PublishTarget,
        options: PublisherOptions,
        cancel: CancellationToken,
    ) -> Result<Self, AmqpError> {
        let tls = if settings.use_ssl {
            Some(super::amqp_tls::connector(&settings.tls)?)
        } else {
            None
        };
        let mut publisher = AmqpPublisher {
            exchange: target.exchange.clone().into(),
            routing_key: target.routing_key.clone().into(),
            settings,
            target,
            options,
            tls,
            cancel,
            link: None,
            in_flight: VecDeque::new(),
            bytes_in_flight: 0,
            counters: Arc::default(),
        };
        publisher.reconnect(false).await?;
        Ok(publisher)
    }

    /// The counters, shared with whoever reports metrics.
    pub fn counters(&self) -> Arc<PublisherCounters> {
        Arc::clone(&self.counters)
    }

    /// Messages published and not yet confirmed.
    pub fn unconfirmed(&self) -> usize {
        self.in_flight.len()
    }

    /// Publishes one message. Returns once it is on its way; it is delivered when a later
    /// [`AmqpPublisher::flush`] returns. Waits while the window is full.
    ///
    /// # Errors
    ///
    /// As [`AmqpPublisher::flush`].
    pub async fn publish(&mut self, body: Bytes) -> Result<(), AmqpError> {
        while !self.in_flight.is_empty()
            && (self.in_flight.len() >= self.options.window
                || self.bytes_in_flight + body.len() > self.options.max_bytes_in_flight)
        {
            self.settle_front().await?;
        }

        self.counters.published.fetch_add(1, Ordering::Relaxed);
        self.bytes_in_flight += body.len();
        let confirm = self.send(&body);
        self.in_flight.push_back(InFlight { body, confirm });
        Ok(())
    }

    /// Waits until every message published so far is confirmed, reconnecting and
    /// publishing again as needed.
    ///
    /// # Errors
    ///
    /// [`AmqpError::GaveUp`] when reconnecting failed `max_attempts` times in a row,
    /// [`AmqpError::Cancelled`].
    pub async fn flush(&mut self) -> Result<(), AmqpError> {
        while !self.in_flight.is_empty() {
            self.settle_front().await?;
        }
        Ok(())
    }

    /// Flushes, then closes the connection.
    ///
    /// # Errors
    ///
    /// As [`AmqpPublisher::flush`].
    pub async fn close(mut self) -> Result<(), AmqpError> {
        self.flush().await?;
        if let Some(link) = self.link.take() {
            let _ = link.connection.close(200, "OK".into()).await;
        }
        Ok(())
    }

    /// Publishes `body` on the current channel. The future is polled once at once, so
    /// the frames are queued (and the delivery tag taken) in call order.
    ///
    /// An immediate failure (no link, closed channel) is returned as a future that
    /// resolves to it, so that the message waits for the next reconnection.
    fn send(&self, body: &Bytes) -> ConfirmFuture {
        let Some(link) = &self.link else {
            return failed(
                lapin::ErrorKind::InvalidConnectionState(lapin::ConnectionState::Closed).into(),
            );
        };
        let channel = link.channel.clone();
        let exchange = self.exchange.clone();
        let routing_key = self.routing_key.clone();
        let payload = body.clone();
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_encoding("utf-8".into());
        let mut confirm: ConfirmFuture = Box::pin(async move {
            let options = BasicPublishOptions {
                mandatory: false,
                immediate: false,
            };
            let confirm =
                channel.basic_publish(exchange, routing_key, options, &payload, properties);
            confirm.await?.await
        });
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match confirm.as_mut().poll(&mut cx) {
            Poll::Ready(result) => Box::pin(std::future::ready(result)),
            Poll::Pending => confirm,
        }
    }

    /// Waits for the oldest message's confirm; on failure reconnects and publishes again.
    async fn settle_front(&mut self) -> Result<(), AmqpError> {
        let Some(front) = self.in_flight.front_mut() else {
            return Ok(());
        };
        let timeout = self.options.confirm_timeout;
        let outcome = tokio::select! {
            () = self.cancel.cancelled() => {
                return Err(AmqpError::Cancelled { unconfirmed: self.in_flight.len() });
            }
            outcome = tokio::time::timeout(timeout, &mut front.confirm) => outcome,
        };
        let problem = match outcome {
            Ok(Ok(Confirmation::Ack(_) | Confirmation::NotRequested)) => {
                self.confirm_front();
                return Ok(());
            }
            Ok(Ok(Confirmation::Nack(_))) => {
                self.counters.nacked.fetch_add(1, Ordering::Relaxed);
                "the broker refused a message (nack)".to_owned()
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no confirm within {} s", timeout.as_secs()),
        };
        // The future is spent; the message waits for the next connection.
        front.confirm =
            failed(lapin::ErrorKind::InvalidConnectionState(lapin::ConnectionState::Closed).into());
        tracing::warn!(
            broker = %self.settings.display_uri(),
            unconfirmed = self.in_flight.len(),
            error = %problem,
            "broker publish failed, reconnecting"
        );
        self.reconnect(true).await
    }

    fn confirm_front(&mut self) {
        if let Some(done) = self.in_flight.pop_front() {
            self.bytes_in_flight -= done.body.len();
            self.counters.confirmed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Drops the link, then connects until it works (or gives up) and publishes every
    /// unconfirmed message again, in order.
    async fn reconnect(&mut self, after_failure: bool) -> Result<(), AmqpError> {
        if let Some(link) = self.link.take() {
            let closing = link.connection.close(320, "reconnecting".into());
            let _ = tokio::time::timeout(Duration::from_secs(1), closing).await;
        }
        if after_failure {
            self.drop_already_confirmed();
        }

        let mut backoff = self.options.backoff.clone();
        let mut attempts: u32 = 0;
        loop {
            attempts += 1;
            let last_error = match self.open_link().await {
                Ok(link) => {
                    self.link = Some(link);
                    match self.republish(after_failure) {
                        Attempt::Ready => {
                            if after_failure {
                                self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                                tracing::info!(
                                    broker = %self.settings.display_uri(),
                                    attempts,
                                    republished = self.in_flight.len(),
                                    "broker reconnected"
                                );
                            }
                            return Ok(());
                        }
                        Attempt::Failed(error) => error,
                    }
                }
                Err(error) => error,
            };

            if self.options.max_attempts.is_some_and(|max| attempts >= max) {
                return Err(AmqpError::GaveUp {
                    uri: self.settings.display_uri(),
                    attempts,
                    last_error,
                });
            }
            let delay = backoff.next_delay();
            tracing::warn!(
                broker = %self.settings.display_uri(),
                attempt = attempts,
                delay_ms = delay.as_millis() as u64,
                error = %last_error,
                "broker unreachable, retrying"
            );
            tokio::select! {
                () = self.cancel.cancelled() => {
                    return Err(AmqpError::Cancelled { unconfirmed: self.in_flight.len() });
                }
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// Removes the unconfirmed messages whose ack already arrived, so that they are not
    /// sent twice.
    fn drop_already_confirmed(&mut self) {
        let mut kept = VecDeque::with_capacity(self.in_flight.len());
        for mut message in self.in_flight.drain(..) {
            match (&mut message.confirm).now_or_never() {
                Some(Ok(Confirmation::Ack(_) | Confirmation::NotRequested)) => {
                    self.bytes_in_flight -= message.body.len();
                    self.counters.confirmed.fetch_add(1, Ordering::Relaxed);
                }
                Some(_) => {
                    // Finished in failure: the future is spent, the message goes again.
                    message.confirm = failed(
                        lapin::ErrorKind::InvalidConnectionState(lapin::ConnectionState::Closed)
                            .into(),
                    );
                    kept.push_back(message);
                }
                None => kept.push_back(message),
            }
        }
        self.in_flight = kept;
    }

    /// Publishes every unconfirmed message again on the new channel, in order.
    fn republish(&mut self, count: bool) -> Attempt {
        for index in 0..self.in_flight.len() {
            let body = self.in_flight[index].body.clone();
            let mut confirm = self.send(&body);
            if let Some(Err(error)) = (&mut confirm).now_or_never() {
                self.in_flight[index].confirm = failed(error.clone());
                return Attempt::Failed(error.to_string());
            }
            self.in_flight[index].confirm = confirm;
            if count {
                self.counters.republished.fetch_add(1, Ordering::Relaxed);
            }
        }
        Attempt::Ready
    }

    /// Opens a connection and a confirm-mode channel.
    async fn open_link(&self) -> Result<Link, String> {
        let settings = &self.settings;
        let uri = AMQPUri {
            scheme: if settings.use_ssl {
                AMQPScheme::AMQPS
            } else {
                AMQPScheme::AMQP
            },
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo {
                    username: settings.user.clone(),
                    password: settings.password.expose().to_owned(),
                },
                host: settings.host.clone(),
                port: settings.port,
            },
            vhost: settings.vhost.clone(),
            query: AMQPQueryString {
                heartbeat: Some(self.options.heartbeat_secs),
                ..AMQPQueryString::default()
            },
        };
        let properties = ConnectionProperties::default()
            .with_connection_name(self.options.connection_name.clone().into());
        let runtime = lapin::runtime::default_runtime().map_err(|e| e.to_string())?;
        let tls = self.tls.clone();
        let connecting = Connection::connector(
            uri,
            runtime,
            async move |uri: AMQPUri, runtime| {
                let mut plain = uri.clone();
                plain.scheme = AMQPScheme::AMQP;
                let stream = AMQPUriTcpExt::connect_with_config_async(
                    &plain,
                    TLSConfig::default(),
                    &runtime,
                )
                .await?;
                match &tls {
                    Some(connector) => {
                        Ok(stream.into_rustls(connector, &uri.authority.host).await?)
                    }
                    None => Ok(stream),
                }
            },
            properties,
        );
        let connection = tokio::time::timeout(self.options.connect_timeout, connecting)
            .await
            .map_err(|_| {
                format!(
                    "no connection within {} s",
                    self.options.connect_timeout.as_secs()
                )
            })?
            .map_err(|e| e.to_string())?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| e.to_string())?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        Ok(Link {
            connection,
            channel,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_uri_hides_the_password_and_encodes_the_vhost() {
        let settings = BrokerSettings {
            host: "rabbit.example.com".into(),
            port: 5671,
            vhost: "/".into(),
            user: "opencti".into(),
            password: Secret::new("hunter2"),
            use_ssl: true,
            tls: BrokerTls::default(),
        };
        assert_eq!(
            settings.display_uri(),
            "amqps://opencti@rabbit.example.com:5671/%2F"
        );
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
