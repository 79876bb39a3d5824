//! The health check: one long-lived `StreamHealth` stream per known tablet (reconnecting with
//! backoff), and the table of serving tablets per (keyspace, shard, tablet type) the gateway
//! picks from. A tablet is usable when its last health message says serving with no health
//! error; for PRIMARY only the serving primary with the newest term counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::StreamExt;
use proto::query::{StreamHealthRequest, StreamHealthResponse};
use proto::queryservice::query_client::QueryClient;
use proto::topodata::{Tablet, TabletAlias, TabletType};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};

use crate::unary::UnaryClient;

/// First reconnect delay after a health stream fails.
const RETRY_MIN: Duration = Duration::from_millis(50);
/// Longest reconnect delay.
const RETRY_MAX: Duration = Duration::from_secs(2);
/// Replicas lagging more than this are never used (`--discovery-high-replication-lag-minimum-serving`).
const HIGH_LAG_SECS: u32 = 2 * 3600;
/// Replicas lagging at most this are preferred (`--discovery-low-replication-lag`).
const LOW_LAG_SECS: u32 = 30;
/// Replicas kept even when lagging more than the low mark (`--min-number-serving-vttablets`).
const MIN_SERVING: usize = 2;

/// A tablet to send queries to: its alias and a client on its shared HTTP/2 channel.
#[derive(Debug, Clone)]
pub struct TabletConn {
    /// The tablet's alias.
    pub alias: TabletAlias,
    /// Client on the tablet's channel (cloning shares the connection), for streaming calls.
    pub client: QueryClient<Channel>,
    /// The per-query unary calls (Execute, BeginExecute, Commit, Rollback).
    pub unary: UnaryClient,
}

/// The health of one tablet, as last reported.
#[derive(Debug, Clone)]
pub struct TabletHealth {
    /// The tablet record from the topology.
    pub tablet: Tablet,
    /// Keyspace the tablet reports serving.
    pub keyspace: String,
    /// Shard the tablet reports serving.
    pub shard: String,
    /// Type the tablet reports (its topo type until it first reports).
    pub tablet_type: TabletType,
    /// The last message said serving.
    pub serving: bool,
    /// `realtime_stats.health_error` of the last message.
    pub health_error: String,
    /// Replication lag in seconds.
    pub replication_lag: u32,
    /// Unix seconds of the primary term start (0 for non-primaries).
    pub primary_term_start: i64,
    /// When the last message arrived (None before the first).
    pub last_update: Option<Instant>,
    conn: Arc<TabletConn>,
}

impl TabletHealth {
    /// Whether queries may go to this tablet.
    pub fn is_usable(&self, timeout: Duration) -> bool {
        self.serving
            && self.health_error.is_empty()
            && self.last_update.is_some_and(|t| t.elapsed() < timeout)
    }

    /// The connection to the tablet.
    pub fn conn(&self) -> &Arc<TabletConn> {
        &self.conn
    }
}

struct Entry {
    health: TabletHealth,
    task: JoinHandle<()>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Default)]
struct State {
    tablets: HashMap<String, Entry>,
}

/// The health check; cheap to clone (shared state).
#[derive(Clone)]
pub struct HealthCheck {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    timeout: Duration,
}

impl HealthCheck {
    /// A health check that marks a tablet unusable after `timeout` without a message.
    pub fn new(timeout: Duration) -> Self {
        HealthCheck {
            state: Arc::default(),
            changed: Arc::new(Notify::new()),
            timeout,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the set of watched tablets equal to `tablets`: starts streams for new ones, stops
    /// those gone, and restarts those whose address changed.
    pub fn set_tablets(&self, tablets: Vec<Tablet>) {
        let mut state = self.lock();
        let mut keep = HashMap::with_capacity(tablets.len());
        for tablet in tablets {
            let Some(alias) = tablet.alias.clone() else {
                continue;
            };
            let key = alias.to_string();
            if let Some(entry) = state.tablets.remove(&key) {
                if same_address(&entry.health.tablet, &tablet) {
                    keep.insert(key, entry);
                    continue;
                }
            }
            let Some(entry) = self.start(alias, tablet) else {
                continue;
            };
            keep.insert(key, entry);
        }
        state.tablets = keep;
        drop(state);
        self.changed.notify_waiters();
    }

    fn start(&self, alias: TabletAlias, tablet: Tablet) -> Option<Entry> {
        let Some(port) = tablet.port_map.get("grpc").copied() else {
            tracing::warn!(tablet = %alias, "tablet has no grpc port; ignored");
            return None;
        };
        let uri = format!("http://{}:{}", tablet.hostname, port);
        let endpoint = match Endpoint::from_shared(uri.clone()) {
            Ok(e) => e.tcp_nodelay(true).connect_timeout(Duration::from_secs(5)),
            Err(e) => {
                tracing::warn!(tablet = %alias, %uri, error = %e, "bad tablet address; ignored");
                return None;
            }
        };
        // tonic's 4 MiB default would refuse rows and results our MySQL side accepts.
        let client = QueryClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(proto::MAX_MESSAGE_SIZE)
            .max_encoding_message_size(proto::MAX_MESSAGE_SIZE);
        let conn = Arc::new(TabletConn {
            alias: alias.clone(),
            client,
            unary: UnaryClient::new(format!("{}:{}", tablet.hostname, port)),
        });
        let health = TabletHealth {
            keyspace: tablet.keyspace.clone(),
            shard: tablet.shard.clone(),
            tablet_type: TabletType::try_from(tablet.r#type).unwrap_or(TabletType::Unknown),
            tablet,
            serving: false,
            health_error: String::new(),
            replication_lag: 0,
            primary_term_start: 0,
            last_update: None,
            conn: conn.clone(),
        };
        let task = tokio::spawn(watch_tablet(self.clone(), alias.to_string(), conn));
        Some(Entry { health, task })
    }

    fn update(&self, key: &str, msg: Option<&StreamHealthResponse>) {
        let mut state = self.lock();
        let Some(entry) = state.tablets.get_mut(key) else {
            return;
        };
        let h = &mut entry.health;
        match msg {
            Some(msg) => {
                if let Some(t) = &msg.target {
                    h.keyspace.clone_from(&t.keyspace);
                    h.shard.clone_from(&t.shard);
                    h.tablet_type = TabletType::try_from(t.tablet_type).unwrap_or(h.tablet_type);
                }
                h.serving = msg.serving;
                h.primary_term_start = msg.primary_term_start_timestamp;
                let stats = msg.realtime_stats.clone().unwrap_or_default();
                h.health_error = stats.health_error;
                h.replication_lag = stats.replication_lag_seconds;
                h.last_update = Some(Instant::now());
            }
            None => h.serving = false,
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// Usable tablets of a target. For PRIMARY, only the primary with the newest term.
    pub fn healthy(
        &self,
        keyspace: &str,
        shard: &str,
        tablet_type: TabletType,
    ) -> Vec<Arc<TabletConn>> {
        let state = self.lock();
        let serving = usable(&state, keyspace, shard, tablet_type, self.timeout);
        if tablet_type == TabletType::Primary {
            return newest(serving)
                .map(|h| h.conn.clone())
                .into_iter()
                .collect();
        }
        let mut found: Vec<&TabletHealth> = serving.collect();
        filter_by_lag(&mut found);
        found.into_iter().map(|h| h.conn.clone()).collect()
    }

    /// One usable tablet of a target, not in `tried`: for PRIMARY the primary with the newest
    /// term (none when that one was tried), else one of [`Self::healthy`] at random. Runs for
    /// every query: the primary is found without collecting the candidates.
    pub fn pick(
        &self,
        keyspace: &str,
        shard: &str,
        tablet_type: TabletType,
        tried: &[TabletAlias],
    ) -> Option<Arc<TabletConn>> {
        if tablet_type == TabletType::Primary {
            let state = self.lock();
            let newest = newest(usable(&state, keyspace, shard, tablet_type, self.timeout))?;
            return (!tried.contains(&newest.conn.alias)).then(|| newest.conn.clone());
        }
        let mut healthy = self.healthy(keyspace, shard, tablet_type);
        healthy.retain(|t| !tried.contains(&t.alias));
        if healthy.is_empty() {
            return None;
        }
        let i = rand::Rng::random_range(&mut rand::rng(), 0..healthy.len());
        Some(healthy.swap_remove(i))
    }

    /// A snapshot of every known tablet, sorted by alias.
    pub fn all(&self) -> Vec<TabletHealth> {
        let state = self.lock();
        let mut all: Vec<TabletHealth> = state.tablets.values().map(|e| e.health.clone()).collect();
        all.sort_by_key(|h| h.conn.alias.to_string());
        all
    }

    /// Whether a tablet is known and usable.
    pub fn is_usable(&self, alias: &TabletAlias) -> bool {
        let state = self.lock();
        state
            .tablets
            .get(&alias.to_string())
            .is_some_and(|e| e.health.is_usable(self.timeout))
    }

    /// Waits until every keyspace/shard in `targets` has a usable tablet of each type, or the
    /// deadline passes; returns whether they all do.
    pub async fn wait_for(
        &self,
        targets: &[(String, String)],
        types: &[TabletType],
        within: Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let changed = self.changed.notified();
            let ready = targets.iter().all(|(ks, shard)| {
                types
                    .iter()
                    .all(|t| !self.healthy(ks, shard, *t).is_empty())
            });
            if ready {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return false;
            }
        }
    }
}

/// The tablets of `state` serving the target and usable.
fn usable<'s>(
    state: &'s State,
    keyspace: &'s str,
    shard: &'s str,
    tablet_type: TabletType,
    timeout: Duration,
) -> impl Iterator<Item = &'s TabletHealth> + 's {
    state.tablets.values().map(|e| &e.health).filter(move |h| {
        h.keyspace == keyspace
            && h.shard == shard
            && h.tablet_type == tablet_type
            && h.is_usable(timeout)
    })
}

/// The primary with the newest term.
fn newest<'s>(primaries: impl Iterator<Item = &'s TabletHealth>) -> Option<&'s TabletHealth> {
    primaries.max_by_key(|h| h.primary_term_start)
}

/// Vitess's `FilterStatsByReplicationLag`: drop replicas lagging more than the high mark,
/// keep those within the low mark, but never fewer than [`MIN_SERVING`] (least lagged first).
fn filter_by_lag(tablets: &mut Vec<&TabletHealth>) {
    tablets.retain(|h| h.replication_lag <= HIGH_LAG_SECS);
    tablets.sort_by_key(|h| h.replication_lag);
    let low = tablets
        .iter()
        .filter(|h| h.replication_lag <= LOW_LAG_SECS)
        .count();
    tablets.truncate(low.max(MIN_SERVING));
}

fn same_address(a: &Tablet, b: &Tablet) -> bool {
    a.hostname == b.hostname && a.port_map.get("grpc") == b.port_map.get("grpc")
}

/// Keeps a StreamHealth stream open to one tablet, reconnecting with backoff.
async fn watch_tablet(hc: HealthCheck, key: String, conn: Arc<TabletConn>) {
    let mut delay = RETRY_MIN;
    loop {
        let mut client = conn.client.clone();
        match client.stream_health(StreamHealthRequest {}).await {
            Ok(resp) => {
                let mut stream = resp.into_inner();
                loop {
                    match tokio::time::timeout(hc.timeout, stream.next()).await {
                        Ok(Some(Ok(msg))) => {
                            delay = RETRY_MIN;
                            hc.update(&key, Some(&msg));
                        }
                        Ok(Some(Err(e))) => {
                            tracing::info!(tablet = %key, error = %e, "health stream failed");
                            break;
                        }
                        Ok(None) => {
                            tracing::info!(tablet = %key, "health stream ended");
                            break;
                        }
                        Err(_) => {
                            tracing::info!(tablet = %key, "no health message within timeout");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::debug!(tablet = %key, error = %e, "health stream connect failed"),
        }
        hc.update(&key, None);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RETRY_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::query::{RealtimeStats, Target};

    fn tablet(uid: u32, port: u16) -> Tablet {
        Tablet {
            alias: Some(TabletAlias::new("zone1", uid)),
            hostname: "127.0.0.1".into(),
            port_map: [("grpc".to_string(), i32::from(port))].into(),
            keyspace: "ks".into(),
            shard: "0".into(),
            r#type: TabletType::Replica as i32,
            ..Default::default()
        }
    }

    fn msg(t: TabletType, term: i64, error: &str) -> StreamHealthResponse {
        StreamHealthResponse {
            target: Some(Target {
                keyspace: "ks".into(),
                shard: "0".into(),
                tablet_type: t as i32,
                cell: String::new(),
            }),
            serving: true,
            primary_term_start_timestamp: term,
            realtime_stats: Some(RealtimeStats {
                health_error: error.into(),
                ..Default::default()
            }),
            tablet_alias: None,
        }
    }

    fn lagging(t: TabletType, lag: u32) -> StreamHealthResponse {
        let mut m = msg(t, 0, "");
        if let Some(stats) = m.realtime_stats.as_mut() {
            stats.replication_lag_seconds = lag;
        }
        m
    }

    #[tokio::test]
    async fn replicas_are_filtered_by_lag() {
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let hc = HealthCheck::new(Duration::from_secs(60));
        hc.set_tablets((1..=5).map(|uid| tablet(uid, port)).collect());
        for (uid, lag) in [(1, 5), (2, 10), (3, 15), (4, 120), (5, 3 * 3600)] {
            let key = format!("zone1-{uid:010}");
            hc.update(&key, Some(&lagging(TabletType::Replica, lag)));
        }
        let mut got = uids(hc.healthy("ks", "0", TabletType::Replica));
        got.sort();
        assert_eq!(got, [1, 2, 3]);
        // Two badly lagging replicas are still used when nothing better exists.
        hc.set_tablets(vec![tablet(4, port), tablet(5, port), tablet(6, port)]);
        hc.update("zone1-0000000006", Some(&lagging(TabletType::Replica, 600)));
        let mut got = uids(hc.healthy("ks", "0", TabletType::Replica));
        got.sort();
        assert_eq!(got, [4, 6]);
    }

    fn uids(conns: Vec<Arc<TabletConn>>) -> Vec<u32> {
        conns.into_iter().map(|c| c.alias.uid).collect()
    }

    #[tokio::test]
    async fn newest_serving_primary_wins() {
        // A socket that never completes the HTTP/2 handshake keeps the streams pending, so
        // only the messages fed below change the state.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let hc = HealthCheck::new(Duration::from_secs(60));
        hc.set_tablets(vec![tablet(1, port), tablet(2, port), tablet(3, port)]);
        assert!(hc.healthy("ks", "0", TabletType::Replica).is_empty());

        hc.update("zone1-0000000001", Some(&msg(TabletType::Primary, 100, "")));
        hc.update("zone1-0000000002", Some(&msg(TabletType::Primary, 200, "")));
        hc.update("zone1-0000000003", Some(&msg(TabletType::Replica, 0, "")));
        assert_eq!(uids(hc.healthy("ks", "0", TabletType::Primary)), [2]);
        assert_eq!(uids(hc.healthy("ks", "0", TabletType::Replica)), [3]);
        let pick = |t, tried: &[TabletAlias]| hc.pick("ks", "0", t, tried).map(|c| c.alias.uid);
        assert_eq!(pick(TabletType::Primary, &[]), Some(2));
        // The newest primary was tried: no other primary is used.
        assert_eq!(
            pick(TabletType::Primary, &[TabletAlias::new("zone1", 2)]),
            None
        );
        assert_eq!(pick(TabletType::Replica, &[]), Some(3));
        assert_eq!(
            pick(TabletType::Replica, &[TabletAlias::new("zone1", 3)]),
            None
        );
        assert!(hc.healthy("ks", "-80", TabletType::Primary).is_empty());

        hc.update(
            "zone1-0000000002",
            Some(&msg(TabletType::Primary, 300, "mysqld down")),
        );
        assert_eq!(uids(hc.healthy("ks", "0", TabletType::Primary)), [1]);
        hc.update("zone1-0000000001", None);
        assert!(hc.healthy("ks", "0", TabletType::Primary).is_empty());

        hc.set_tablets(vec![tablet(3, port)]);
        assert_eq!(hc.all().len(), 1);
        assert_eq!(uids(hc.healthy("ks", "0", TabletType::Replica)), [3]);
    }
}
