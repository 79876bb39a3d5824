//! Per-connection vtgate state: the target (`ks`, `ks/shard`, `ks@replica`), autocommit, the
//! open transaction (one shard session per target, each pinned to the tablet that began it),
//! last insert id, user variables and the system settings that must reach MySQL.
//!
//! Settings are applied per statement, not by pinning a backend connection: every statement
//! sent to a tablet is prefixed with MariaDB's `SET STATEMENT a=.., b=.. FOR`, so pooled
//! tablet connections never keep one client's settings. Transaction isolation cannot be set
//! that way; it travels in the `ExecuteOptions` of the transaction's `Begin`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use proto::query::execute_options::TransactionIsolation;
use proto::query::BindVariable;
use proto::topodata::TabletType;
use sql::target::{Destination, Target};

use crate::healthcheck::TabletConn;
use crate::savepoint::Savepoints;

/// One transaction open on one shard, pinned to the tablet that began it.
#[derive(Debug, Clone)]
pub struct ShardSession {
    /// Keyspace of the transaction.
    pub keyspace: String,
    /// Shard of the transaction.
    pub shard: String,
    /// Tablet type of the transaction's target.
    pub tablet_type: TabletType,
    /// Transaction id the tablet gave.
    pub transaction_id: i64,
    /// The tablet holding the transaction.
    pub tablet: Arc<TabletConn>,
}

/// The state of one client connection.
#[derive(Debug, Clone)]
pub struct Session {
    target_string: String,
    target: Target,
    /// The tablet type used when the target names none (`--default-tablet-type`).
    pub default_tablet_type: TabletType,
    /// `autocommit` (default on).
    pub autocommit: bool,
    /// A transaction is open (explicit `BEGIN`, or autocommit off and a statement ran).
    pub in_transaction: bool,
    /// Shard transactions of the open transaction.
    pub shard_sessions: Vec<ShardSession>,
    /// Shard transactions committed before `shard_sessions` (consistent lookup rows created).
    pub pre_sessions: Vec<ShardSession>,
    /// Shard transactions committed after `shard_sessions` (consistent lookup rows deleted).
    pub post_sessions: Vec<ShardSession>,
    /// Consistent lookup rows the pre- and post-sessions wrote (their locks are held there).
    pub lookup_rows: HashSet<String>,
    /// Savepoints of the open transaction: replayed on every shard session begun later
    /// (not on the pre- and post-sessions), so `ROLLBACK TO` finds them on every shard.
    pub savepoints: Savepoints,
    /// Last AUTO_INCREMENT id a statement of this session generated.
    pub last_insert_id: u64,
    /// Rows the last select returned (`found_rows()`).
    pub found_rows: u64,
    /// Rows the last DML changed (`row_count()`), -1 after a select.
    pub row_count: i64,
    /// User variables: name (lower case, without `@`) → SQL literal.
    pub user_vars: BTreeMap<String, String>,
    /// System settings sent to MySQL: name (lower case) → SQL literal.
    pub settings: BTreeMap<String, String>,
    /// Settings kept in vtgate (`names`, `workload`, ...): name → value text.
    pub vitess_vars: BTreeMap<String, String>,
    /// `SET SESSION TRANSACTION ISOLATION LEVEL`.
    pub isolation: Option<TransactionIsolation>,
    /// `SET TRANSACTION ISOLATION LEVEL` (next transaction only).
    pub next_isolation: Option<TransactionIsolation>,
    /// The client connected with CLIENT_FOUND_ROWS: DML reports rows matched, not changed
    /// (sent to tablets as `ExecuteOptions.client_found_rows`, as Vitess does).
    pub client_found_rows: bool,
    /// String literals of the statement being run whose bytes are not UTF-8, as VARBINARY
    /// bind variables (`:vtg_raw_N` in the text): the tablet writes them back as quoted raw
    /// bytes, so MariaDB reads them as if the client had sent them directly.
    pub raw_literals: HashMap<String, BindVariable>,
}

impl Session {
    /// A fresh session with no target and the given default tablet type.
    pub fn new(default_tablet_type: TabletType) -> Self {
        Session {
            target_string: String::new(),
            target: Target::default(),
            default_tablet_type,
            autocommit: true,
            in_transaction: false,
            shard_sessions: Vec::new(),
            pre_sessions: Vec::new(),
            post_sessions: Vec::new(),
            lookup_rows: HashSet::new(),
            savepoints: Savepoints::default(),
            last_insert_id: 0,
            found_rows: 0,
            row_count: -1,
            user_vars: BTreeMap::new(),
            settings: BTreeMap::new(),
            vitess_vars: BTreeMap::new(),
            isolation: None,
            next_isolation: None,
            client_found_rows: false,
            raw_literals: HashMap::new(),
        }
    }

    /// The target string as the client gave it (`commerce@replica`), empty for none.
    pub fn target_string(&self) -> &str {
        &self.target_string
    }

    /// The parsed target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The selected keyspace, if any.
    pub fn keyspace(&self) -> Option<&str> {
        Some(self.target.keyspace.as_str()).filter(|k| !k.is_empty())
    }

    /// The shard named by the target, if any.
    pub fn shard(&self) -> Option<&str> {
        match &self.target.destination {
            Some(Destination::Shard(s)) => Some(s),
            _ => None,
        }
    }

    /// The tablet type queries go to.
    pub fn tablet_type(&self) -> TabletType {
        match self.target.tablet_type {
            Some(t) => tablet_type_from_sql(t),
            None => self.default_tablet_type,
        }
    }

    /// Replaces the target.
    pub fn set_target(&mut self, text: &str, target: Target) {
        self.target_string = text.to_string();
        self.target = target;
    }

    /// The isolation level the next transaction starts with (consumes a one-shot
    /// `SET TRANSACTION`).
    pub fn take_isolation(&mut self) -> Option<TransactionIsolation> {
        self.next_isolation.take().or(self.isolation)
    }

    /// The shard session open on a target, if any.
    pub fn shard_session(
        &self,
        keyspace: &str,
        shard: &str,
        tablet_type: TabletType,
    ) -> Option<&ShardSession> {
        self.shard_sessions
            .iter()
            .find(|s| s.keyspace == keyspace && s.shard == shard && s.tablet_type == tablet_type)
    }

    /// Whether any shard transaction is open (normal, pre or post).
    pub fn has_shard_sessions(&self) -> bool {
        !(self.shard_sessions.is_empty()
            && self.pre_sessions.is_empty()
            && self.post_sessions.is_empty())
    }

    /// Flags for the client: (in transaction, autocommit).
    pub fn status(&self) -> mysql_server::status::SessionStatus {
        mysql_server::status::SessionStatus {
            in_transaction: self.in_transaction,
            autocommit: self.autocommit,
        }
    }

    /// `SET workload = 'olap'`: reads stream from the tablets (StreamExecute) instead of
    /// coming back whole from Execute.
    pub fn olap(&self) -> bool {
        self.vitess_vars.get("workload").is_some_and(|w| {
            w.trim_matches(|c| c == '\'' || c == '"')
                .eq_ignore_ascii_case("olap")
        })
    }

    /// The `SET STATEMENT ... FOR ` prefix for the current settings, empty if none.
    pub fn settings_prefix(&self) -> String {
        if self.settings.is_empty() {
            return String::new();
        }
        let mut out = String::from("SET STATEMENT ");
        for (i, (name, value)) in self.settings.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
        out.push_str(" FOR ");
        out
    }
}

/// Converts the sql crate's tablet type to the proto enum.
pub fn tablet_type_from_sql(t: sql::target::TabletType) -> TabletType {
    TabletType::try_from(t as i32).unwrap_or(TabletType::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_parts() {
        let mut s = Session::new(TabletType::Primary);
        assert_eq!(s.keyspace(), None);
        assert_eq!(s.tablet_type(), TabletType::Primary);
        s.set_target(
            "commerce/0@replica",
            Target::parse("commerce/0@replica").unwrap(),
        );
        assert_eq!(s.keyspace(), Some("commerce"));
        assert_eq!(s.shard(), Some("0"));
        assert_eq!(s.tablet_type(), TabletType::Replica);
        assert_eq!(s.target_string(), "commerce/0@replica");
    }

    #[test]
    fn settings_prefix_lists_all_settings() {
        let mut s = Session::new(TabletType::Primary);
        assert_eq!(s.settings_prefix(), "");
        s.settings.insert("time_zone".into(), "'+00:00'".into());
        s.settings.insert("sql_mode".into(), "''".into());
        assert_eq!(
            s.settings_prefix(),
            "SET STATEMENT sql_mode='', time_zone='+00:00' FOR "
        );
    }

    #[test]
    fn one_shot_isolation_wins_once() {
        let mut s = Session::new(TabletType::Primary);
        s.isolation = Some(TransactionIsolation::ReadCommitted);
        s.next_isolation = Some(TransactionIsolation::Serializable);
        assert_eq!(s.take_isolation(), Some(TransactionIsolation::Serializable));
        assert_eq!(
            s.take_isolation(),
            Some(TransactionIsolation::ReadCommitted)
        );
    }
}
