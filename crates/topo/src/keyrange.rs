//! Key ranges and shard names, as Vitess's `key` package treats them:
//! a shard named `40-80` covers keyspace ids in `[0x40, 0x80)`, an empty
//! bound is the minimum (start) or maximum (end), and trailing zero bytes do
//! not change a bound (`-80 == 00-80 == 0000-8000`).

use std::cmp::Ordering;

use proto::topodata::KeyRange;

use crate::error::{Error, Result};

/// Parses a shard name. A name without `-` (such as `0`) is not range based
/// and has no key range (`None`); `-` is the full range; `-80`, `80-`,
/// `40-80` are hex bounds, lower bound strictly below the upper one.
pub fn parse_shard_name(name: &str) -> Result<Option<KeyRange>> {
    if name.contains('/') {
        return Err(Error::Other(format!(
            "invalid shardId, may not contain '/': {name}"
        )));
    }
    if !name.contains('-') {
        return Ok(None);
    }
    let parts: Vec<&str> = name.split('-').collect();
    let [start, end] = parts.as_slice() else {
        return Err(Error::Other(format!(
            "invalid shardId, can only contain one '-': {name}"
        )));
    };
    let start = decode_hex(start)
        .ok_or_else(|| Error::Other(format!("invalid KeyRange start in shard name: {name}")))?;
    let end = decode_hex(end)
        .ok_or_else(|| Error::Other(format!("invalid KeyRange end in shard name: {name}")))?;
    if !end.is_empty() && start >= end {
        return Err(Error::Other(format!(
            "out of order keys: {} is not strictly smaller than {}",
            encode_hex(&start),
            encode_hex(&end)
        )));
    }
    Ok(Some(KeyRange { start, end }))
}

/// Vitess's `KeyRangeString`: `-` for the full range, else `hex(start)-hex(end)`.
pub fn key_range_string(kr: &KeyRange) -> String {
    if is_complete(Some(kr)) {
        return "-".to_string();
    }
    format!("{}-{}", encode_hex(&kr.start), encode_hex(&kr.end))
}

/// Whether the range covers every keyspace id (no range, or both bounds empty).
pub fn is_complete(kr: Option<&KeyRange>) -> bool {
    kr.is_none_or(|kr| kr.start.is_empty() && kr.end.is_empty())
}

/// Compares two bounds after dropping trailing zero bytes.
pub fn compare_bounds(a: &[u8], b: &[u8]) -> Ordering {
    normalize(a).cmp(normalize(b))
}

/// Whether `id` lies in `[start, end)`; no range contains everything.
pub fn contains(kr: Option<&KeyRange>, id: &[u8]) -> bool {
    let Some(kr) = kr else { return true };
    (kr.start.is_empty() || compare_bounds(id, &kr.start) != Ordering::Less)
        && (kr.end.is_empty() || compare_bounds(id, &kr.end) == Ordering::Less)
}

/// Whether two ranges share a keyspace id; a missing range overlaps everything.
pub fn intersect(a: Option<&KeyRange>, b: Option<&KeyRange>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    (b.end.is_empty() || compare_bounds(&a.start, &b.end) == Ordering::Less)
        && (a.end.is_empty() || compare_bounds(&b.start, &a.end) == Ordering::Less)
}

fn normalize(b: &[u8]) -> &[u8] {
    let len = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
    &b[..len]
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

fn encode_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kr(start: &[u8], end: &[u8]) -> KeyRange {
        KeyRange {
            start: start.to_vec(),
            end: end.to_vec(),
        }
    }

    #[test]
    fn parses_shard_names() {
        assert_eq!(parse_shard_name("0").unwrap(), None);
        assert_eq!(parse_shard_name("-").unwrap(), Some(kr(b"", b"")));
        assert_eq!(parse_shard_name("-80").unwrap(), Some(kr(b"", &[0x80])));
        assert_eq!(parse_shard_name("80-").unwrap(), Some(kr(&[0x80], b"")));
        assert_eq!(
            parse_shard_name("40-80").unwrap(),
            Some(kr(&[0x40], &[0x80]))
        );
        assert_eq!(
            parse_shard_name("8000-80C0").unwrap(),
            Some(kr(&[0x80, 0], &[0x80, 0xc0]))
        );
    }

    #[test]
    fn rejects_bad_shard_names() {
        let text = |n: &str| parse_shard_name(n).unwrap_err().to_string();
        assert_eq!(
            text("-40-80"),
            "invalid shardId, can only contain one '-': -40-80"
        );
        assert_eq!(
            text("80-40"),
            "out of order keys: 80 is not strictly smaller than 40"
        );
        assert_eq!(
            text("80-80"),
            "out of order keys: 80 is not strictly smaller than 80"
        );
        assert!(parse_shard_name("8-").is_err());
        assert!(parse_shard_name("zz-").is_err());
        assert!(parse_shard_name("a/b").is_err());
    }

    #[test]
    fn prints_ranges() {
        assert_eq!(key_range_string(&kr(b"", b"")), "-");
        assert_eq!(key_range_string(&kr(b"", &[0x80])), "-80");
        assert_eq!(key_range_string(&kr(&[0x40], &[0x80, 0x0a])), "40-800a");
    }

    #[test]
    fn contains_and_intersects() {
        let low = kr(b"", &[0x80]);
        let high = kr(&[0x80], b"");
        assert!(contains(Some(&low), &[0x7f, 0xff]));
        assert!(!contains(Some(&low), &[0x80]));
        assert!(contains(Some(&high), &[0x80, 0x00]));
        assert!(contains(None, &[0x12]));
        assert!(!intersect(Some(&low), Some(&high)));
        assert!(intersect(Some(&low), Some(&kr(&[0x40], &[0x90]))));
        assert!(intersect(None, Some(&high)));
        assert!(intersect(Some(&kr(b"", b"")), Some(&high)));
        assert_eq!(compare_bounds(&[0x80, 0], &[0x80]), Ordering::Equal);
    }
}
