//! Keyspace ids, key ranges and shard names (Vitess `go/vt/key`,
//! `go/vt/topo/shard.go`).
//!
//! A shard name containing `-` is a key range `start-end` of hex bounds:
//! start inclusive, end exclusive, an empty bound meaning the minimum (start)
//! or the maximum (end). A name without `-` (`0`, `-` aside) covers the whole
//! keyspace. Bounds compare after dropping trailing zero bytes, so
//! `-80 == 00-80 == 0000-8000`.

use std::cmp::Ordering;
use std::fmt;

use crate::hex;

/// The keyspace id a vindex maps a row to: the bytes that pick its shard.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct KeyspaceId(pub Vec<u8>);

impl KeyspaceId {
    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for KeyspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl From<Vec<u8>> for KeyspaceId {
    fn from(bytes: Vec<u8>) -> Self {
        KeyspaceId(bytes)
    }
}

/// Errors from shard names and shard lookups, with Vitess's texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRangeError {
    /// The shard name contains `/`.
    #[error("invalid shardId, may not contain '/': {0}")]
    Slash(String),
    /// The shard name contains more than one `-`.
    #[error("invalid shardId, can only contain one '-': {0}")]
    TooManyDashes(String),
    /// A bound is not valid hex.
    #[error("invalid shardId, bound {bound} of {shard} is not hex: {source}")]
    BadHex {
        /// The shard name.
        shard: String,
        /// The offending bound.
        bound: String,
        /// The decoding error.
        source: hex::HexError,
    },
    /// Start is not strictly below end.
    #[error("out of order keys: {0} is not strictly smaller than {1}")]
    OutOfOrder(String, String),
    /// The list of shards is empty.
    #[error("no shard in keyspace")]
    NoShards,
    /// No shard contains the keyspace id.
    #[error("KeyspaceId {kid} didn't match any shards [{shards}]")]
    NoMatch {
        /// The keyspace id, hex.
        kid: String,
        /// The shard names, space separated.
        shards: String,
    },
    /// A targeted key range does not start and end on shard boundaries.
    #[error("keyrange {0} does not exactly match shards")]
    NotExact(String),
    /// More than 65536 shards asked of [`generate_shard_ranges`].
    #[error("this function does not support more than 65336 shards in a single keyspace")]
    TooManyShards,
    /// Zero shards asked of [`generate_shard_ranges`].
    #[error("shards must be greater than zero")]
    ZeroShards,
}

/// A range of keyspace ids `[start, end)`; empty bounds are unbounded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct KeyRange {
    /// Inclusive lower bound; empty means the minimum.
    pub start: Vec<u8>,
    /// Exclusive upper bound; empty means the maximum.
    pub end: Vec<u8>,
}

/// Drops trailing zero bytes (Vitess `key.Normalize`).
fn normalize(bytes: &[u8]) -> &[u8] {
    let len = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    &bytes[..len]
}

/// Compares two key bounds after normalizing them (Vitess `key.Compare`).
pub fn compare_keys(a: &[u8], b: &[u8]) -> Ordering {
    normalize(a).cmp(normalize(b))
}

impl KeyRange {
    /// The whole keyspace.
    pub fn full() -> Self {
        KeyRange::default()
    }

    /// Builds a range from raw bounds.
    pub fn new(start: impl Into<Vec<u8>>, end: impl Into<Vec<u8>>) -> Self {
        KeyRange {
            start: start.into(),
            end: end.into(),
        }
    }

    /// Parses a shard name (`-80`, `80-`, `40-80`, `0`, `-`), as Vitess's
    /// `ValidateShardName` does. Names without `-` cover the whole keyspace.
    pub fn parse_shard_name(shard: &str) -> Result<Self, KeyRangeError> {
        if shard.contains('/') {
            return Err(KeyRangeError::Slash(shard.to_string()));
        }
        let Some((start_hex, end_hex)) = shard.split_once('-') else {
            return Ok(KeyRange::full());
        };
        if end_hex.contains('-') {
            return Err(KeyRangeError::TooManyDashes(shard.to_string()));
        }
        let decode = |bound: &str| {
            hex::decode(bound).map_err(|source| KeyRangeError::BadHex {
                shard: shard.to_string(),
                bound: bound.to_string(),
                source,
            })
        };
        let range = KeyRange::new(decode(start_hex)?, decode(end_hex)?);
        if !range.end.is_empty() && range.start >= range.end {
            return Err(KeyRangeError::OutOfOrder(
                hex::encode(&range.start),
                hex::encode(&range.end),
            ));
        }
        Ok(range)
    }

    /// Whether this is the whole keyspace.
    pub fn is_full(&self) -> bool {
        self.start.is_empty() && self.end.is_empty()
    }

    /// Whether `id` falls in the range (Vitess `KeyRangeContains`).
    pub fn contains(&self, id: &[u8]) -> bool {
        (self.start.is_empty() || compare_keys(id, &self.start) != Ordering::Less)
            && (self.end.is_empty() || compare_keys(id, &self.end) == Ordering::Less)
    }

    /// Whether the two ranges share at least one id (Vitess `KeyRangeIntersect`).
    pub fn intersects(&self, other: &KeyRange) -> bool {
        (other.end.is_empty() || compare_keys(&self.start, &other.end) == Ordering::Less)
            && (self.end.is_empty() || compare_keys(&other.start, &self.end) == Ordering::Less)
    }

    /// The overlap of two ranges, if they intersect.
    pub fn intersect(&self, other: &KeyRange) -> Option<KeyRange> {
        if !self.intersects(other) {
            return None;
        }
        let start = match compare_keys(&self.start, &other.start) {
            Ordering::Less => other.start.clone(),
            _ => self.start.clone(),
        };
        let end = match (self.end.is_empty(), other.end.is_empty()) {
            (true, _) => other.end.clone(),
            (_, true) => self.end.clone(),
            _ if compare_keys(&self.end, &other.end) == Ordering::Less => self.end.clone(),
            _ => other.end.clone(),
        };
        Some(KeyRange { start, end })
    }

    /// Whether both ranges cover the same ids (bounds compared normalized).
    pub fn same_range(&self, other: &KeyRange) -> bool {
        compare_keys(&self.start, &other.start) == Ordering::Equal
            && self.end.is_empty() == other.end.is_empty()
            && compare_keys(&self.end, &other.end) == Ordering::Equal
    }

    /// The range of ids starting with `prefix` (Vitess
    /// `NewKeyRangeFromPrefix`): `[prefix, prefix + 1)`, unbounded above when
    /// the prefix is all `ff`.
    pub fn from_prefix(prefix: &[u8]) -> Self {
        let mut end = prefix.to_vec();
        let mut carry = true;
        for b in end.iter_mut().rev() {
            if *b < 0xff {
                *b += 1;
                carry = false;
                break;
            }
            *b = 0;
        }
        if carry {
            end.clear();
        }
        KeyRange::new(prefix.to_vec(), end)
    }

    /// Vitess `KeyRangeString`: `-` for the whole keyspace, else `start-end` in hex.
    pub fn shard_name(&self) -> String {
        format!("{}-{}", hex::encode(&self.start), hex::encode(&self.end))
    }
}

impl fmt::Display for KeyRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shard_name())
    }
}

/// Picks the first shard whose range contains `kid` (Vitess
/// `GetShardForKeyspaceID`). Returns the index into `shards`.
pub fn shard_for_keyspace_id<S: AsRef<str>>(
    shards: &[S],
    kid: &[u8],
) -> Result<usize, KeyRangeError> {
    if shards.is_empty() {
        return Err(KeyRangeError::NoShards);
    }
    for (i, shard) in shards.iter().enumerate() {
        if shard_contains(shard.as_ref(), kid)? {
            return Ok(i);
        }
    }
    let names: Vec<&str> = shards.iter().map(AsRef::as_ref).collect();
    Err(KeyRangeError::NoMatch {
        kid: hex::encode(kid),
        shards: names.join(" "),
    })
}

/// Shard name bounds of at most this many bytes are decoded on the stack.
const STACK_BOUND: usize = 16;

/// A shard name's bound decoded into `buf`; None when it is not even-length hex that fits
/// (the caller then parses the name the long way, which says what is wrong with it).
fn decode_bound<'b>(text: &str, buf: &'b mut [u8; STACK_BOUND]) -> Option<&'b [u8]> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) || digits.len() / 2 > STACK_BOUND {
        return None;
    }
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        buf[i] = hex::nibble(pair[0]).ok()? << 4 | hex::nibble(pair[1]).ok()?;
    }
    Some(&buf[..digits.len() / 2])
}

/// Whether the shard named `shard` holds `kid`: [`KeyRange::parse_shard_name`] then
/// [`KeyRange::contains`], without allocating for the usual names (this runs for every
/// routed query); any other name goes the long way, with its errors.
fn shard_contains(shard: &str, kid: &[u8]) -> Result<bool, KeyRangeError> {
    if let Some((start, end)) = shard.split_once('-') {
        if !shard.contains('/') && !end.contains('-') {
            let (mut a, mut b) = ([0; STACK_BOUND], [0; STACK_BOUND]);
            if let (Some(start), Some(end)) =
                (decode_bound(start, &mut a), decode_bound(end, &mut b))
            {
                if end.is_empty() || start < end {
                    return Ok(
                        (start.is_empty() || compare_keys(kid, start) != Ordering::Less)
                            && (end.is_empty() || compare_keys(kid, end) == Ordering::Less),
                    );
                }
            }
        }
    }
    Ok(KeyRange::parse_shard_name(shard)?.contains(kid))
}

/// Indexes of the shards intersecting `range` (Vitess `DestinationKeyRange`).
pub fn shards_in_key_range<S: AsRef<str>>(
    shards: &[S],
    range: &KeyRange,
) -> Result<Vec<usize>, KeyRangeError> {
    let mut out = Vec::new();
    for (i, shard) in shards.iter().enumerate() {
        if KeyRange::parse_shard_name(shard.as_ref())?.intersects(range) {
            out.push(i);
        }
    }
    Ok(out)
}

/// Indexes of the shards exactly covering `range`, in key order (Vitess
/// `DestinationExactKeyRange`, used by `USE ks[-80]`): the range must start
/// at a shard's start and end at a shard's end.
pub fn shards_exact_key_range<S: AsRef<str>>(
    shards: &[S],
    range: &KeyRange,
) -> Result<Vec<usize>, KeyRangeError> {
    let mut parsed = Vec::with_capacity(shards.len());
    for (i, shard) in shards.iter().enumerate() {
        parsed.push((i, KeyRange::parse_shard_name(shard.as_ref())?));
    }
    parsed.sort_by(|a, b| compare_keys(&a.1.start, &b.1.start));
    let not_exact = || KeyRangeError::NotExact(range.shard_name());
    let first = parsed
        .iter()
        .position(|(_, r)| compare_keys(&r.start, &range.start) == Ordering::Equal)
        .ok_or_else(not_exact)?;
    let mut out = Vec::new();
    for (i, r) in &parsed[first..] {
        if !r.intersects(range) {
            break;
        }
        out.push(*i);
        if r.end.is_empty() == range.end.is_empty()
            && compare_keys(&r.end, &range.end) == Ordering::Equal
        {
            return Ok(out);
        }
    }
    Err(not_exact())
}

/// Shard names splitting the keyspace into `count` nearly even ranges
/// (Vitess `key.GenerateShardRanges`): 1 gives `-`, 2 gives `-80`, `80-`.
pub fn generate_shard_ranges(count: usize) -> Result<Vec<String>, KeyRangeError> {
    let (width, max) = match count {
        0 => return Err(KeyRangeError::ZeroShards),
        1..=256 => (2, 256usize),
        257..=65536 => (4, 65536usize),
        _ => return Err(KeyRangeError::TooManyShards),
    };
    let bound = |v: usize| {
        if v == 0 || v == max {
            String::new()
        } else {
            format!("{v:0width$x}")
        }
    };
    let size = max as f64 / count as f64;
    let mut start = 0usize;
    let mut out = Vec::with_capacity(count);
    for i in 1..=count {
        let end = (i as f64 * size) as usize;
        out.push(format!("{}-{}", bound(start), bound(end)));
        start = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kr(name: &str) -> KeyRange {
        KeyRange::parse_shard_name(name).unwrap()
    }

    #[test]
    fn parses_shard_names() {
        assert_eq!(kr("-80"), KeyRange::new(vec![], vec![0x80]));
        assert_eq!(kr("80-"), KeyRange::new(vec![0x80], vec![]));
        assert_eq!(kr("40-80"), KeyRange::new(vec![0x40], vec![0x80]));
        assert_eq!(
            kr("8000-8080"),
            KeyRange::new(vec![0x80, 0], vec![0x80, 0x80])
        );
        assert!(kr("0").is_full());
        assert!(kr("-").is_full());
        assert_eq!(kr("-80").to_string(), "-80");
        assert_eq!(kr("0").to_string(), "-");
        assert_eq!(kr("40-8A").to_string(), "40-8a");
    }

    #[test]
    fn shard_name_errors() {
        let err = |s| KeyRange::parse_shard_name(s).unwrap_err().to_string();
        assert_eq!(
            err("-40-80"),
            "invalid shardId, can only contain one '-': -40-80"
        );
        assert_eq!(
            err("80-40"),
            "out of order keys: 80 is not strictly smaller than 40"
        );
        assert_eq!(
            err("80-80"),
            "out of order keys: 80 is not strictly smaller than 80"
        );
        assert_eq!(err("a/b"), "invalid shardId, may not contain '/': a/b");
        assert!(err("zz-").contains("not hex"));
        assert!(err("8-").contains("not hex"));
    }

    #[test]
    fn contains_and_normalization() {
        assert!(kr("-80").contains(&[0x7f, 0xff]));
        assert!(!kr("-80").contains(&[0x80]));
        assert!(kr("80-").contains(&[0x80]));
        assert!(kr("80-").contains(&[0xff, 0xff]));
        assert!(kr("0").contains(&[]));
        assert!(!kr("8000-8080").contains(&[0x80, 0x80, 0x00]));
        assert!(kr("8000-8080").contains(&[0x80]));
        assert!(kr("00-80").same_range(&kr("-80")));
        assert!(kr("0000-8000").same_range(&kr("-80")));
        assert!(!kr("-80").same_range(&kr("-")));
    }

    #[test]
    fn intersection() {
        assert!(kr("-80").intersects(&kr("40-c0")));
        assert!(!kr("-80").intersects(&kr("80-")));
        assert_eq!(kr("-80").intersect(&kr("40-c0")), Some(kr("40-80")));
        assert_eq!(kr("-").intersect(&kr("40-c0")), Some(kr("40-c0")));
        assert_eq!(kr("80-").intersect(&kr("c0-")), Some(kr("c0-")));
        assert_eq!(kr("-40").intersect(&kr("80-")), None);
    }

    #[test]
    fn shard_lookup() {
        let shards = ["-80", "80-"];
        assert_eq!(shard_for_keyspace_id(&shards, &[0x16, 0x6b]).unwrap(), 0);
        assert_eq!(shard_for_keyspace_id(&shards, &[0xd2]).unwrap(), 1);
        let none: [&str; 0] = [];
        assert_eq!(
            shard_for_keyspace_id(&none, &[1]).unwrap_err().to_string(),
            "no shard in keyspace"
        );
        assert_eq!(
            shard_for_keyspace_id(&["-40"], &[0x50])
                .unwrap_err()
                .to_string(),
            "KeyspaceId 50 didn't match any shards [-40]"
        );
    }

    #[test]
    fn shard_contains_agrees_with_parsing() {
        let names = [
            "-",
            "0",
            "-80",
            "80-",
            "40-c0",
            "4000-8000",
            "40-4000",
            "80-00",
            "c0-80",
            "8-",
            "-8g",
            "80/-",
            "-40-80",
            "0102030405060708090a0b0c0d0e0f1011-",
            "-00000080",
        ];
        let ids: [&[u8]; 9] = [
            &[],
            &[0],
            &[0x3f, 0xff],
            &[0x40],
            &[0x40, 0],
            &[0x7f, 0xff, 0xff],
            &[0x80],
            &[0xc0, 1],
            &[0xff; 9],
        ];
        for name in names {
            for id in ids {
                let long = KeyRange::parse_shard_name(name).map(|r| r.contains(id));
                assert_eq!(shard_contains(name, id), long, "{name} {id:?}");
            }
        }
    }

    #[test]
    fn prefix_ranges() {
        assert_eq!(
            KeyRange::from_prefix(&[0x16, 0x6b, 0x40]),
            KeyRange::new(vec![0x16, 0x6b, 0x40], vec![0x16, 0x6b, 0x41])
        );
        assert_eq!(
            KeyRange::from_prefix(&[0x01, 0xff]),
            KeyRange::new(vec![0x01, 0xff], vec![0x02, 0x00])
        );
        assert_eq!(
            KeyRange::from_prefix(&[0xff, 0xff]),
            KeyRange::new(vec![0xff, 0xff], vec![])
        );
    }

    #[test]
    fn key_range_targeting() {
        let shards = ["80-c0", "-40", "40-80", "c0-"];
        assert_eq!(
            shards_in_key_range(&shards, &kr("-80")).unwrap(),
            vec![1, 2]
        );
        assert_eq!(
            shards_in_key_range(&shards, &kr("50-90")).unwrap(),
            vec![0, 2]
        );
        assert_eq!(
            shards_exact_key_range(&shards, &kr("-80")).unwrap(),
            vec![1, 2]
        );
        assert_eq!(
            shards_exact_key_range(&shards, &kr("80-")).unwrap(),
            vec![0, 3]
        );
        assert_eq!(
            shards_exact_key_range(&shards, &kr("-")).unwrap(),
            vec![1, 2, 0, 3]
        );
        assert_eq!(
            shards_exact_key_range(&shards, &kr("-90"))
                .unwrap_err()
                .to_string(),
            "keyrange -90 does not exactly match shards"
        );
        assert!(shards_exact_key_range(&shards, &kr("50-80")).is_err());
        assert_eq!(shards_exact_key_range(&["0"], &kr("-")).unwrap(), vec![0]);
    }

    #[test]
    fn generates_even_ranges() {
        assert_eq!(generate_shard_ranges(1).unwrap(), vec!["-"]);
        assert_eq!(generate_shard_ranges(2).unwrap(), vec!["-80", "80-"]);
        assert_eq!(
            generate_shard_ranges(4).unwrap(),
            vec!["-40", "40-80", "80-c0", "c0-"]
        );
        assert_eq!(
            generate_shard_ranges(3).unwrap(),
            vec!["-55", "55-aa", "aa-"]
        );
        assert_eq!(generate_shard_ranges(512).unwrap()[1], "0080-0100");
        // Float rounding as in Vitess: 49 * (256 / 49) < 256.
        assert_eq!(generate_shard_ranges(49).unwrap()[48], "fa-ff");
        assert!(generate_shard_ranges(0).is_err());
    }
}
