//! The primary-weight collation key Vitess's `unicode_loose_*` vindexes hash.
//!
//! Vitess runs the input through a vendored `golang.org/x/text/collate`
//! iterator (CLDR 23 root table, index `{0x15, 0x0}`) and keeps, for every
//! collation element with primary weight `w > 0`, two bytes `w>>8, w` when
//! `w <= 0x7FFF`, else three bytes `(w>>16)|0x80, w>>8, w`.
//!
//! The table is in `data/` (see `tools/unicode_loose_gen/README.md`): the
//! key of every code point whose key is not its implicit weight, and every
//! two-code-point contraction whose key differs from the concatenation of
//! its parts. Code points not in the table get the implicit weight that
//! x/text's `implicitPrimary` computes. Contractions of three or more code
//! points and discontiguous contractions are not in the table.

use std::sync::OnceLock;

static WEIGHTS: &[u8] = include_bytes!("../../data/unicode_loose_weights.bin");
static CONTRACTIONS: &[u8] = include_bytes!("../../data/unicode_loose_contractions.bin");

/// One table entry: the code point(s) and where its key lies in the data.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    offset: usize,
    len: usize,
}

#[derive(Debug)]
struct Tables {
    weights: Vec<Entry>,
    contractions: Vec<Entry>,
}

fn u24(b: &[u8]) -> u64 {
    (u64::from(b[0]) << 16) | (u64::from(b[1]) << 8) | u64::from(b[2])
}

/// Parses records of `cps` 24-bit code points, a length byte and the key.
fn parse(data: &[u8], cps: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut pos = 0;
    let head = cps * 3;
    while pos + head < data.len() {
        let key = (0..cps).fold(0u64, |acc, i| (acc << 24) | u24(&data[pos + 3 * i..]));
        let len = usize::from(data[pos + head]);
        out.push(Entry {
            key,
            offset: pos + head + 1,
            len,
        });
        pos += head + 1 + len;
    }
    out
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        weights: parse(WEIGHTS, 1),
        contractions: parse(CONTRACTIONS, 2),
    })
}

fn find(entries: &[Entry], data: &'static [u8], key: u64) -> Option<&'static [u8]> {
    let i = entries.binary_search_by_key(&key, |e| e.key).ok()?;
    let e = entries[i];
    Some(&data[e.offset..e.offset + e.len])
}

/// Unicode 15.0 `Ideographic` ranges (Go's `unicode.Ideographic` since Go 1.21).
const IDEOGRAPHIC: &[(u32, u32)] = &[
    (0x3006, 0x3007),
    (0x3021, 0x3029),
    (0x3038, 0x303A),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFA6D),
    (0xFA70, 0xFAD9),
    (0x16FE4, 0x16FE4),
    (0x17000, 0x187F7),
    (0x18800, 0x18CD5),
    (0x18D00, 0x18D08),
    (0x1B170, 0x1B2FB),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B739),
    (0x2B740, 0x2B81D),
    (0x2B820, 0x2CEA1),
    (0x2CEB0, 0x2EBE0),
    (0x2F800, 0x2FA1D),
    (0x30000, 0x3134A),
    (0x31350, 0x323AF),
];

fn is_ideographic(cp: u32) -> bool {
    IDEOGRAPHIC.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp))
}

/// x/text `implicitPrimary`: the weight of a code point not in the table.
fn implicit_primary(cp: u32) -> u32 {
    const COMMON_UNIFIED_OFFSET: u32 = 0x10000;
    const RARE_UNIFIED_OFFSET: u32 = 0x20000;
    const OTHER_OFFSET: u32 = 0x50000;
    if is_ideographic(cp) {
        if (0x4E00..=0x9FFF).contains(&cp) || (0xF900..=0xFAFF).contains(&cp) {
            return cp + COMMON_UNIFIED_OFFSET;
        }
        return cp + RARE_UNIFIED_OFFSET;
    }
    cp + OTHER_OFFSET
}

fn push_weight(out: &mut Vec<u8>, w: u32) {
    if w <= 0x7FFF {
        out.extend_from_slice(&[(w >> 8) as u8, w as u8]);
    } else {
        out.extend_from_slice(&[((w >> 16) as u8) | 0x80, (w >> 8) as u8, w as u8]);
    }
}

/// The collation key of `text`: primary weights only, so case, accent and
/// width differences vanish.
pub fn primary_key(text: &str) -> Vec<u8> {
    let t = tables();
    let cps: Vec<u32> = text.chars().map(u32::from).collect();
    let mut out = Vec::with_capacity(cps.len() * 2);
    let mut i = 0;
    while i < cps.len() {
        if let Some(&next) = cps.get(i + 1) {
            let pair = (u64::from(cps[i]) << 24) | u64::from(next);
            if let Some(key) = find(&t.contractions, CONTRACTIONS, pair) {
                out.extend_from_slice(key);
                i += 2;
                continue;
            }
        }
        match find(&t.weights, WEIGHTS, u64::from(cps[i])) {
            Some(key) => out.extend_from_slice(key),
            None => push_weight(&mut out, implicit_primary(cps[i])),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;

    /// Code points that became ideographs after Unicode 13 (the golden file
    /// was produced with Go 1.19, whose tables are Unicode 13; Vitess is
    /// built with Go >= 1.21, Unicode 15).
    fn new_in_unicode_14_or_15(cp: u32) -> bool {
        [
            (0x9FFD, 0x9FFF),
            (0x2A6DE, 0x2A6DF),
            (0x2B735, 0x2B739),
            (0x31350, 0x323AF),
        ]
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&cp))
    }

    #[test]
    fn tables_parse_completely() {
        let t = tables();
        assert!(t.weights.len() > 10_000);
        assert!(t.contractions.len() > 100);
        let last = t.weights.last().unwrap();
        assert_eq!(last.offset + last.len, WEIGHTS.len());
        let last = t.contractions.last().unwrap();
        assert_eq!(last.offset + last.len, CONTRACTIONS.len());
        assert!(t.weights.windows(2).all(|w| w[0].key < w[1].key));
        assert!(t.contractions.windows(2).all(|w| w[0].key < w[1].key));
    }

    #[test]
    fn matches_golden_keys() {
        let golden = include_str!("../../tests/data/unicode_loose_golden.tsv");
        let mut checked = 0;
        for line in golden.lines() {
            let (input, want) = line.split_once('\t').unwrap();
            let text = String::from_utf8(hex::decode(input).unwrap()).unwrap();
            if text.chars().any(|c| new_in_unicode_14_or_15(u32::from(c))) {
                continue;
            }
            assert_eq!(hex::encode(&primary_key(&text)), want, "input {text:?}");
            checked += 1;
        }
        assert!(checked >= 47, "only {checked} golden lines checked");
    }

    #[test]
    fn unicode_15_ideographs_use_the_rare_offset() {
        // U+31350 (CJK Extension H): 0x31350 + 0x20000 = 0x51350.
        assert_eq!(hex::encode(&primary_key("\u{31350}")), "851350");
        // U+4E2D in the common range: 0x4E2D + 0x10000.
        assert_eq!(hex::encode(&primary_key("\u{4E2D}")), "814e2d");
        // A private-use code point gets the "other" offset.
        assert_eq!(hex::encode(&primary_key("\u{E000}")), "85e000");
    }
}
