//! Vitess target strings, as given to `USE`, COM_INIT_DB or a connection's
//! database name: `keyspace[<range or ksid>][:|/shard][@tablet_type[|cell-uid]]`.
//!
//! Parsed right to left like Vitess's `ParseDestination`: the last `@` splits
//! off the tablet type (and an optional `|alias` pin), the last `/` or `:` a
//! shard name, then a `[...]` key range (with `-`) or hex keyspace id.

use std::fmt;

use crate::error::SqlError;

/// Tablet types, numbered as in Vitess's `topodata.TabletType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TabletType {
    /// A tablet whose type is not known.
    Unknown = 0,
    /// The primary of a shard (`master` is an alias).
    Primary = 1,
    /// A replica that may be promoted.
    Replica = 2,
    /// A read-only replica for batch work (`batch` is an alias).
    Rdonly = 3,
    /// A spare tablet.
    Spare = 4,
    /// An experimental tablet.
    Experimental = 5,
    /// A tablet taking a backup.
    Backup = 6,
    /// A tablet restoring from a backup.
    Restore = 7,
    /// A drained tablet.
    Drained = 8,
}

impl TabletType {
    /// Parses a tablet type name case-insensitively, accepting `master` and `batch`.
    pub fn parse(name: &str) -> Result<Self, SqlError> {
        let t = match name.to_ascii_uppercase().as_str() {
            "UNKNOWN" => TabletType::Unknown,
            "PRIMARY" | "MASTER" => TabletType::Primary,
            "REPLICA" => TabletType::Replica,
            "RDONLY" | "BATCH" => TabletType::Rdonly,
            "SPARE" => TabletType::Spare,
            "EXPERIMENTAL" => TabletType::Experimental,
            "BACKUP" => TabletType::Backup,
            "RESTORE" => TabletType::Restore,
            "DRAINED" => TabletType::Drained,
            _ => {
                return Err(SqlError::InvalidTarget(format!(
                    "unknown TabletType {name}"
                )))
            }
        };
        Ok(t)
    }

    /// The lower-case name used in target strings (`replica`).
    pub fn as_str(self) -> &'static str {
        match self {
            TabletType::Unknown => "unknown",
            TabletType::Primary => "primary",
            TabletType::Replica => "replica",
            TabletType::Rdonly => "rdonly",
            TabletType::Spare => "spare",
            TabletType::Experimental => "experimental",
            TabletType::Backup => "backup",
            TabletType::Restore => "restore",
            TabletType::Drained => "drained",
        }
    }

    /// The upper-case enum name Vitess shows (`PRIMARY`).
    pub fn enum_name(self) -> &'static str {
        match self {
            TabletType::Unknown => "UNKNOWN",
            TabletType::Primary => "PRIMARY",
            TabletType::Replica => "REPLICA",
            TabletType::Rdonly => "RDONLY",
            TabletType::Spare => "SPARE",
            TabletType::Experimental => "EXPERIMENTAL",
            TabletType::Backup => "BACKUP",
            TabletType::Restore => "RESTORE",
            TabletType::Drained => "DRAINED",
        }
    }
}

impl fmt::Display for TabletType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key range `[start, end)`; an empty bound is unbounded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRange {
    /// Inclusive start; empty means the minimum.
    pub start: Vec<u8>,
    /// Exclusive end; empty means the maximum.
    pub end: Vec<u8>,
}

/// A tablet pinned with `@type|cell-uid`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TabletAlias {
    /// The cell, for example `zone1`.
    pub cell: String,
    /// The tablet uid, for example `100`.
    pub uid: u32,
}

impl fmt::Display for TabletAlias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:010}", self.cell, self.uid)
    }
}

/// Where inside a keyspace a target points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A named shard (`ks/-80`, `ks:0`).
    Shard(String),
    /// The shards that exactly cover a key range (`ks[-80]`).
    KeyRange(KeyRange),
    /// The shard holding one keyspace id (`ks[10]`).
    KeyspaceId(Vec<u8>),
}

/// A parsed target string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Target {
    /// The keyspace; empty for `@replica` alone.
    pub keyspace: String,
    /// A shard, key range or keyspace id, if any.
    pub destination: Option<Destination>,
    /// The tablet type after `@`; `None` means the session's default.
    pub tablet_type: Option<TabletType>,
    /// A tablet pinned after `|`.
    pub tablet_alias: Option<TabletAlias>,
}

impl Target {
    /// Parses a target string; see the module docs for the grammar.
    pub fn parse(s: &str) -> Result<Self, SqlError> {
        let mut rest = s;
        let mut target = Target::default();
        if let Some(at) = rest.rfind('@') {
            let spec = &rest[at + 1..];
            let (type_name, alias) = match spec.split_once('|') {
                Some((t, a)) => (t, Some(parse_alias(a)?)),
                None => (spec, None),
            };
            target.tablet_type = Some(TabletType::parse(type_name)?);
            target.tablet_alias = alias;
            rest = &rest[..at];
        }
        if let Some(sep) = rest.rfind(['/', ':']) {
            target.destination = Some(Destination::Shard(rest[sep + 1..].to_string()));
            rest = &rest[..sep];
        }
        if let Some(open) = rest.rfind('[') {
            let close = rest.rfind(']').ok_or_else(|| {
                SqlError::InvalidTarget(
                    "invalid key range provided. Couldn't find range end ']'".into(),
                )
            })?;
            if close < open {
                return Err(SqlError::InvalidTarget(
                    "invalid key range provided. Couldn't find range end ']'".into(),
                ));
            }
            let inner = &rest[open + 1..close];
            // A shard after the brackets wins, as in Vitess.
            if target.destination.is_none() {
                target.destination = Some(parse_bracket(inner)?);
            }
            rest = &rest[..open];
        }
        if target.tablet_alias.is_some()
            && !matches!(target.destination, Some(Destination::Shard(_)))
        {
            return Err(SqlError::InvalidTarget(
                "tablet alias must be used with a shard".into(),
            ));
        }
        target.keyspace = rest.to_string();
        Ok(target)
    }

    /// The tablet type, or `default` when the target names none.
    pub fn tablet_type_or(&self, default: TabletType) -> TabletType {
        self.tablet_type.unwrap_or(default)
    }
}

fn parse_alias(s: &str) -> Result<TabletAlias, SqlError> {
    let bad = || {
        SqlError::InvalidTarget(format!(
            "invalid tablet alias: '{s}', expecting format: '<cell>-<uid>'"
        ))
    };
    let (cell, uid) = s.rsplit_once('-').ok_or_else(bad)?;
    let uid = uid.parse::<u32>().map_err(|_| bad())?;
    if cell.is_empty() {
        return Err(bad());
    }
    Ok(TabletAlias {
        cell: cell.to_string(),
        uid,
    })
}

fn parse_bracket(inner: &str) -> Result<Destination, SqlError> {
    if inner.contains('-') {
        let mut parts = inner.split('-');
        let (Some(start), Some(end), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SqlError::InvalidTarget(format!(
                "single keyrange expected in {inner}"
            )));
        };
        let bad = || SqlError::InvalidTarget(format!("invalid key range: {inner}"));
        let start = decode_hex(start).ok_or_else(bad)?;
        let end = decode_hex(end).ok_or_else(bad)?;
        if !end.is_empty() && start >= end {
            return Err(SqlError::InvalidTarget(format!(
                "out of order keys: {} is not strictly smaller than {}",
                encode_hex(&start),
                encode_hex(&end)
            )));
        }
        Ok(Destination::KeyRange(KeyRange { start, end }))
    } else {
        decode_hex(inner)
            .map(Destination::KeyspaceId)
            .ok_or_else(|| {
                SqlError::InvalidTarget(format!("expected valid hex in keyspace id {inner}"))
            })
    }
}

/// Decodes an even-length hex string (either case).
pub(crate) fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|pair| Some(hex_val(pair[0])? << 4 | hex_val(pair[1])?))
        .collect()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Encodes bytes as lower-case hex.
pub(crate) fn encode_hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.keyspace)?;
        match &self.destination {
            None => {}
            Some(Destination::Shard(s)) => write!(f, "/{s}")?,
            Some(Destination::KeyRange(r)) => {
                write!(f, "[{}-{}]", encode_hex(&r.start), encode_hex(&r.end))?
            }
            Some(Destination::KeyspaceId(id)) => write!(f, "[{}]", encode_hex(id))?,
        }
        if let Some(t) = self.tablet_type {
            write!(f, "@{t}")?;
        }
        if let Some(a) = &self.tablet_alias {
            write!(f, "|{a}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(s: &str) -> Option<Destination> {
        Some(Destination::Shard(s.into()))
    }

    #[test]
    fn keyspace_shard_and_type() {
        let t = Target::parse("ks").unwrap();
        assert_eq!(
            (t.keyspace.as_str(), &t.destination, t.tablet_type),
            ("ks", &None, None)
        );
        assert_eq!(Target::parse("ks/-80").unwrap().destination, shard("-80"));
        assert_eq!(Target::parse("ks:80-").unwrap().destination, shard("80-"));
        let t = Target::parse("ks/0@rdonly").unwrap();
        assert_eq!(
            (t.destination, t.tablet_type),
            (shard("0"), Some(TabletType::Rdonly))
        );
        let t = Target::parse("ks@REPLICA").unwrap();
        assert_eq!(t.tablet_type, Some(TabletType::Replica));
        assert_eq!(
            Target::parse("ks@master").unwrap().tablet_type,
            Some(TabletType::Primary)
        );
        let t = Target::parse("@replica").unwrap();
        assert_eq!(
            (t.keyspace.as_str(), t.tablet_type),
            ("", Some(TabletType::Replica))
        );
        assert_eq!(t.tablet_type_or(TabletType::Primary), TabletType::Replica);
        assert_eq!(
            Target::parse("ks")
                .unwrap()
                .tablet_type_or(TabletType::Primary),
            TabletType::Primary
        );
    }

    #[test]
    fn key_ranges_and_keyspace_ids() {
        let t = Target::parse("ks[-80]@replica").unwrap();
        assert_eq!(
            t.destination,
            Some(Destination::KeyRange(KeyRange {
                start: vec![],
                end: vec![0x80]
            }))
        );
        assert_eq!(t.keyspace, "ks");
        let t = Target::parse("ks[10]").unwrap();
        assert_eq!(t.destination, Some(Destination::KeyspaceId(vec![0x10])));
        assert_eq!(
            Target::parse("ks[4080-]").unwrap().destination,
            Some(Destination::KeyRange(KeyRange {
                start: vec![0x40, 0x80],
                end: vec![]
            }))
        );
    }

    #[test]
    fn tablet_alias_pin() {
        let t = Target::parse("ks/-80@replica|zone1-0000000100").unwrap();
        assert_eq!(
            t.tablet_alias,
            Some(TabletAlias {
                cell: "zone1".into(),
                uid: 100
            })
        );
        assert_eq!(
            Target::parse("ks@replica|zone1-0000000100")
                .unwrap_err()
                .message(),
            "tablet alias must be used with a shard"
        );
        assert!(Target::parse("ks/0@replica|zone1").is_err());
    }

    #[test]
    fn errors_carry_vitess_texts() {
        assert_eq!(
            Target::parse("ks[-80").unwrap_err().message(),
            "invalid key range provided. Couldn't find range end ']'"
        );
        assert_eq!(
            Target::parse("ks[zz]").unwrap_err().message(),
            "expected valid hex in keyspace id zz"
        );
        assert_eq!(
            Target::parse("ks[-40-80]").unwrap_err().message(),
            "single keyrange expected in -40-80"
        );
        assert_eq!(
            Target::parse("ks@bogus").unwrap_err().message(),
            "unknown TabletType bogus"
        );
        assert!(Target::parse("ks[80-40]").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "ks",
            "ks/-80",
            "ks/0@rdonly",
            "ks@replica",
            "@replica",
            "ks[-80]",
            "ks[10]",
            "ks[40-80]@primary",
            "ks/-80@replica|zone1-0000000100",
            "",
        ] {
            let t = Target::parse(s).unwrap();
            assert_eq!(t.to_string(), s, "display of {s}");
            assert_eq!(Target::parse(&t.to_string()).unwrap(), t);
        }
        // Aliases and other spellings print in canonical form.
        assert_eq!(
            Target::parse("ks:0@MASTER").unwrap().to_string(),
            "ks/0@primary"
        );
    }
}
