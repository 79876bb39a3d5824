//! MariaDB's `utf8mb4_general_ci` and `utf8mb3_general_ci` (and their `_nopad_` variants),
//! the default collations of MariaDB's UTF-8 character sets. Every character has one 16-bit
//! weight: its code point, except for the characters in [`EXCEPTIONS`] (lower case folded to
//! upper case, accents dropped from Latin letters, `ß` as `S`, …), and characters outside the
//! Basic Multilingual Plane, which all weigh `U+FFFD`. Text compares by its weights; the PAD
//! SPACE collations compare the shorter text as if padded with spaces.

use std::cmp::Ordering;

use super::general_ci_weights::EXCEPTIONS;
use super::{cmp_weights, utf8};
use crate::error::Result;

/// The weight of a space, which pads the shorter text.
const SPACE: u16 = 0x20;
/// The weight of every character beyond `U+FFFF`.
const BEYOND_BMP: u16 = 0xFFFD;

/// The sort weight of one character.
pub(super) fn weight(c: char) -> u16 {
    let Ok(cp) = u16::try_from(u32::from(c)) else {
        return BEYOND_BMP;
    };
    match EXCEPTIONS.binary_search_by_key(&cp, |&(from, _)| from) {
        Ok(i) => EXCEPTIONS[i].1,
        Err(_) => cp,
    }
}

/// Compares two texts; `pad`: trailing spaces are ignored (PAD SPACE).
pub(super) fn compare(a: &[u8], b: &[u8], pad: bool) -> Result<Ordering> {
    // ASCII needs no table: upper-casing is its weight.
    if a.is_ascii() && b.is_ascii() {
        let fold = |c: &u8| u16::from(c.to_ascii_uppercase());
        return Ok(cmp_weights(
            a.iter().map(fold),
            b.iter().map(fold),
            pad,
            SPACE,
        ));
    }
    let (a, b) = (utf8(a)?.chars().map(weight), utf8(b)?.chars().map(weight));
    Ok(cmp_weights(a, b, pad, SPACE))
}

/// The hash key of a PAD SPACE text: equal for texts that compare equal.
pub(super) fn pad_key(b: &[u8]) -> Result<Vec<u8>> {
    Ok(super::pad_key(utf8(b)?.chars().map(weight), SPACE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_are_sorted_and_unique() {
        assert!(EXCEPTIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn weights_fold_case_and_accents() {
        assert_eq!(weight('a'), weight('A'));
        assert_eq!(weight('é'), weight('E'));
        assert_eq!(weight('ß'), weight('s'));
        assert_eq!(weight('σ'), weight('Σ'));
        assert_eq!(weight('ς'), weight('Σ'));
        assert_eq!(weight('😀'), weight('\u{FFFD}'));
        assert_ne!(weight('a'), weight('b'));
    }

    #[test]
    fn pad_space_and_no_pad() {
        let cmp = |a: &str, b: &str, pad| compare(a.as_bytes(), b.as_bytes(), pad).unwrap();
        assert_eq!(cmp("José", "JOSE  ", true), Ordering::Equal);
        assert_eq!(cmp("José", "JOSE ", false), Ordering::Less);
        // A tab is below the space that pads the shorter text.
        assert_eq!(cmp("é\t", "E", true), Ordering::Less);
        assert_eq!(cmp("Ärger", "zebra", true), Ordering::Less);
        assert_eq!(cmp("straße", "STRASE", true), Ordering::Equal);
        assert_eq!(cmp("😀", "😁", true), Ordering::Equal);
        assert!(compare(b"\xff", b"a", true).is_err());
    }

    #[test]
    fn keys_of_equal_texts_are_equal() {
        let key = |s: &str| pad_key(s.as_bytes()).unwrap();
        assert_eq!(key("Straße  "), key("STRASE"));
        assert_eq!(key("Émile"), key("emile "));
        assert_ne!(key("Émile"), key("emil"));
    }
}
