//! MariaDB's `utf8mb4_unicode_ci` and `utf8mb3_unicode_ci` (and their `_nopad_` variants): the
//! Unicode Collation Algorithm 4.0.0 at its primary level. A character has zero weights
//! (ignored), one, or several (`ß` weighs as `ss`); CJK ideographs and unassigned characters
//! get two implicit weights computed from their code point; characters outside the Basic
//! Multilingual Plane all weigh `U+FFFD`. Text compares by the sequence of its characters'
//! weights; the PAD SPACE collations compare the shorter as if padded with spaces.

use std::cmp::Ordering;

use super::unicode_ci_weights::{POOL, RUNS};
use super::{cmp_weights, utf8};
use crate::error::Result;

/// How the code points of one run of [`RUNS`] weigh.
#[derive(Debug, Clone, Copy)]
pub(super) enum Run {
    /// One weight each, rising by one from the given weight at the run's first code point.
    Step(u16),
    /// The two implicit weights on the given base.
    Implicit(u16),
    /// A single code point's weights: `POOL[offset..offset + len]`.
    Fixed(u16, u8),
    /// No weights: the characters are ignored.
    Ignore,
}

/// The weight of a space, which pads the shorter text.
const SPACE: u16 = 0x0209;
/// The weight of every character beyond `U+FFFF`.
const BEYOND_BMP: u16 = 0xFFFD;
/// The implicit base of code points in no run.
const UNASSIGNED_BASE: u16 = 0xFBC0;

/// The most weights one character has (`Fixed` runs are checked against it in the tests).
const MAX_WEIGHTS: usize = 8;

/// The weights of one character, without allocating.
#[derive(Debug, Clone, Copy)]
struct CharWeights {
    buf: [u16; MAX_WEIGHTS],
    len: u8,
    pos: u8,
}

impl CharWeights {
    fn of(c: char) -> Self {
        let mut w = CharWeights {
            buf: [0; MAX_WEIGHTS],
            len: 0,
            pos: 0,
        };
        let Ok(cp) = u16::try_from(u32::from(c)) else {
            w.push(BEYOND_BMP);
            return w;
        };
        let i = RUNS.partition_point(|&(first, _, _)| first <= cp);
        match i.checked_sub(1).map(|i| RUNS[i]) {
            Some((first, last, how)) if cp <= last => match how {
                Run::Step(base) => w.push(base + (cp - first)),
                Run::Implicit(base) => w.implicit(base, cp),
                Run::Fixed(offset, len) => {
                    let start = usize::from(offset);
                    for &x in &POOL[start..start + usize::from(len)] {
                        w.push(x);
                    }
                }
                Run::Ignore => {}
            },
            _ => w.implicit(UNASSIGNED_BASE, cp),
        }
        w
    }

    fn push(&mut self, weight: u16) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = weight;
            self.len += 1;
        }
    }

    fn implicit(&mut self, base: u16, cp: u16) {
        self.push(base + (cp >> 15));
        self.push((cp & 0x7FFF) | 0x8000);
    }
}

impl Iterator for CharWeights {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        (self.pos < self.len).then(|| {
            self.pos += 1;
            self.buf[usize::from(self.pos - 1)]
        })
    }
}

/// The weights of a text, one character at a time.
fn weights(b: &[u8]) -> Result<impl Iterator<Item = u16> + '_> {
    Ok(utf8(b)?.chars().flat_map(CharWeights::of))
}

/// Compares two texts; `pad`: trailing spaces are ignored (PAD SPACE).
pub(super) fn compare(a: &[u8], b: &[u8], pad: bool) -> Result<Ordering> {
    Ok(cmp_weights(weights(a)?, weights(b)?, pad, SPACE))
}

/// The hash key of a PAD SPACE text: equal for texts that compare equal.
pub(super) fn pad_key(b: &[u8]) -> Result<Vec<u8>> {
    Ok(super::pad_key(weights(b)?, SPACE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<u16> {
        weights(s.as_bytes()).unwrap().collect()
    }

    #[test]
    fn runs_are_sorted_and_disjoint() {
        assert!(RUNS.windows(2).all(|p| p[0].1 < p[1].0));
        assert!(RUNS.iter().all(|r| r.0 <= r.1));
        assert!(RUNS
            .iter()
            .all(|r| !matches!(r.2, Run::Fixed(_, len) if usize::from(len) > MAX_WEIGHTS)));
    }

    #[test]
    fn weights_as_mariadb_gives_them() {
        // WEIGHT_STRING(... COLLATE utf8mb4_unicode_ci) on MariaDB 10.11.
        assert_eq!(w("ch"), [0x0E60, 0x0EE1]);
        assert_eq!(w(" "), [SPACE]);
        assert_eq!(w("ß"), [0x0FEA, 0x0FEA]);
        assert_eq!(w("😀a"), [0xFFFD, 0x0E33]);
        assert_eq!(w("a"), w("Á"));
        // CJK: implicit weights on 0xFB40.
        assert_eq!(w("中"), [0xFB40, 0x4E2D | 0x8000]);
    }

    #[test]
    fn pad_space_and_no_pad() {
        let cmp = |a: &str, b: &str, pad| compare(a.as_bytes(), b.as_bytes(), pad).unwrap();
        assert_eq!(cmp("straße", "STRASSE  ", true), Ordering::Equal);
        assert_eq!(cmp("straße", "STRASSE ", false), Ordering::Less);
        assert_eq!(cmp("a\t", "a", true), Ordering::Less);
        assert_eq!(cmp("Émile", "emilf", true), Ordering::Less);
        assert_eq!(
            pad_key("Straße ".as_bytes()).unwrap(),
            pad_key(b"strasse").unwrap()
        );
    }
}
