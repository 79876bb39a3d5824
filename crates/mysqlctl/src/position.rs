//! MariaDB GTID replication positions, in the text form Vitess uses.
//!
//! MariaDB keeps one GTID (`domain-server_id-sequence`) per replication domain;
//! a position is that set, written by the server as `0-100-5,1-2-7`.
//! Vitess prefixes the flavor when it stores or sends a position:
//! `MariaDB/0-100-5,1-2-7`. [`Position`] parses and prints both forms.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The flavor prefix Vitess writes before a MariaDB GTID set.
pub const MARIADB_FLAVOR: &str = "MariaDB";

/// Why a GTID or position string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid replication position {input:?}: {reason}")]
pub struct PositionParseError {
    /// The text that was being parsed.
    pub input: String,
    /// What was wrong with it.
    pub reason: &'static str,
}

impl PositionParseError {
    fn new(input: &str, reason: &'static str) -> Self {
        PositionParseError {
            input: input.to_owned(),
            reason,
        }
    }
}

/// One MariaDB GTID: `domain-server_id-sequence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gtid {
    /// Replication domain (`gtid_domain_id` of the writer).
    pub domain: u32,
    /// `server_id` of the server that wrote the transaction.
    pub server_id: u32,
    /// Sequence number within the domain.
    pub sequence: u64,
}

impl fmt::Display for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server_id, self.sequence)
    }
}

impl FromStr for Gtid {
    type Err = PositionParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim().split('-');
        let (Some(domain), Some(server_id), Some(sequence), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(PositionParseError::new(
                s,
                "a GTID has three parts: domain-server_id-sequence",
            ));
        };
        Ok(Gtid {
            domain: domain.parse().map_err(|_| {
                PositionParseError::new(s, "domain is not a 32-bit unsigned number")
            })?,
            server_id: server_id.parse().map_err(|_| {
                PositionParseError::new(s, "server_id is not a 32-bit unsigned number")
            })?,
            sequence: sequence.parse().map_err(|_| {
                PositionParseError::new(s, "sequence is not a 64-bit unsigned number")
            })?,
        })
    }
}

/// A MariaDB replication position: at most one GTID per domain.
///
/// `Display` prints the Vitess form (`MariaDB/0-100-5`); [`Position::gtid_list`]
/// gives the bare server form (`0-100-5`) that MariaDB functions such as
/// `MASTER_GTID_WAIT` expect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    by_domain: BTreeMap<u32, Gtid>,
}

impl Position {
    /// Parses the server form, a comma-separated GTID list such as the value of
    /// `@@gtid_binlog_pos` (`0-1-5,1-2-7`). An empty string is the empty position.
    /// If a domain appears twice, the GTID with the higher sequence wins.
    pub fn parse_gtid_list(list: &str) -> Result<Self, PositionParseError> {
        let mut position = Position::default();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            position.advance(part.parse()?);
        }
        Ok(position)
    }

    /// The server form (`0-1-5,1-2-7`), domains in ascending order.
    pub fn gtid_list(&self) -> String {
        let parts: Vec<String> = self.by_domain.values().map(Gtid::to_string).collect();
        parts.join(",")
    }

    /// True when no transaction has been recorded in any domain.
    pub fn is_empty(&self) -> bool {
        self.by_domain.is_empty()
    }

    /// The GTIDs of this position, by ascending domain.
    pub fn gtids(&self) -> impl Iterator<Item = &Gtid> {
        self.by_domain.values()
    }

    /// The GTID recorded for `domain`, if any.
    pub fn domain(&self, domain: u32) -> Option<&Gtid> {
        self.by_domain.get(&domain)
    }

    /// Records `gtid` unless this position already has a higher sequence in its domain.
    pub fn advance(&mut self, gtid: Gtid) {
        match self.by_domain.get(&gtid.domain) {
            Some(existing) if existing.sequence >= gtid.sequence => {}
            _ => {
                self.by_domain.insert(gtid.domain, gtid);
            }
        }
    }

    /// True when this position includes everything in `other`: every domain of
    /// `other` is present here with a sequence at least as high.
    pub fn at_least(&self, other: &Position) -> bool {
        other.by_domain.values().all(|theirs| {
            self.by_domain
                .get(&theirs.domain)
                .is_some_and(|ours| ours.sequence >= theirs.sequence)
        })
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{MARIADB_FLAVOR}/{}", self.gtid_list())
    }
}

impl FromStr for Position {
    type Err = PositionParseError;

    /// Parses the Vitess form `MariaDB/<gtid list>`. The empty string is the
    /// empty position, as in Vitess.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Ok(Position::default());
        }
        let Some((flavor, list)) = s.split_once('/') else {
            return Err(PositionParseError::new(
                s,
                "expected <flavor>/<gtid set>, e.g. MariaDB/0-100-5",
            ));
        };
        if flavor != MARIADB_FLAVOR {
            return Err(PositionParseError::new(
                s,
                "only the MariaDB flavor is supported",
            ));
        }
        Position::parse_gtid_list(list).map_err(|e| PositionParseError::new(s, e.reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_domain_round_trips_in_vitess_form() {
        let pos: Position = "MariaDB/0-100-5".parse().unwrap();
        assert_eq!(
            pos.domain(0),
            Some(&Gtid {
                domain: 0,
                server_id: 100,
                sequence: 5
            })
        );
        assert_eq!(pos.to_string(), "MariaDB/0-100-5");
        assert_eq!(pos.gtid_list(), "0-100-5");
    }

    #[test]
    fn multi_domain_sorted_by_domain() {
        let pos = Position::parse_gtid_list("1-2-7,0-1-5").unwrap();
        assert_eq!(pos.to_string(), "MariaDB/0-1-5,1-2-7");
        let again: Position = pos.to_string().parse().unwrap();
        assert_eq!(again, pos);
    }

    #[test]
    fn tolerates_whitespace_from_server_output() {
        let pos = Position::parse_gtid_list("0-1-5,\n1-2-7").unwrap();
        assert_eq!(pos.gtid_list(), "0-1-5,1-2-7");
    }

    #[test]
    fn empty_forms() {
        assert!(Position::parse_gtid_list("").unwrap().is_empty());
        assert!("".parse::<Position>().unwrap().is_empty());
        let empty: Position = "MariaDB/".parse().unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.to_string(), "MariaDB/");
    }

    #[test]
    fn duplicate_domain_keeps_highest_sequence() {
        let pos = Position::parse_gtid_list("0-1-9,0-2-4").unwrap();
        assert_eq!(pos.gtid_list(), "0-1-9");
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "0-1",
            "0-1-2-3",
            "a-1-2",
            "0--2",
            "0-1-x",
            "4294967296-1-1",
            "0-1-18446744073709551616",
        ] {
            assert!(
                Position::parse_gtid_list(bad).is_err(),
                "{bad} should be rejected"
            );
        }
        assert!("0-1-5".parse::<Position>().is_err(), "missing flavor");
        assert!("MySQL56/0-1-5".parse::<Position>().is_err(), "wrong flavor");
        let err = "MariaDB/0-1".parse::<Position>().unwrap_err();
        assert_eq!(err.input, "MariaDB/0-1");
    }

    #[test]
    fn at_least_compares_every_domain() {
        let a = Position::parse_gtid_list("0-1-5,1-2-7").unwrap();
        let b = Position::parse_gtid_list("0-1-4").unwrap();
        let c = Position::parse_gtid_list("0-1-5,2-3-1").unwrap();
        assert!(a.at_least(&b));
        assert!(!b.at_least(&a));
        assert!(!a.at_least(&c), "domain 2 missing from a");
        assert!(a.at_least(&Position::default()));
        assert!(a.at_least(&a));
    }
}
