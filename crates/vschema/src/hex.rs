//! Lower-case hex encoding and decoding, as Go's `encoding/hex` does it
//! (decoding accepts both cases, rejects odd lengths).

/// Why a hex string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// The string has an odd number of digits.
    #[error("encoding/hex: odd length hex string")]
    OddLength,
    /// A character is not a hex digit.
    #[error("encoding/hex: invalid byte: U+{:04X} {:?}", u32::from(*.0), char::from(*.0))]
    InvalidByte(u8),
}

/// Encodes bytes as lower-case hex.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Decodes a hex string (either case).
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let digits = text.as_bytes();
    let mut out = Vec::with_capacity(digits.len() / 2);
    for pair in digits.chunks(2) {
        let high = nibble(pair[0])?;
        let Some(&low) = pair.get(1) else {
            return Err(HexError::OddLength);
        };
        out.push(high << 4 | nibble(low)?);
    }
    Ok(out)
}

/// The value of one hex digit.
pub(crate) fn nibble(c: u8) -> Result<u8, HexError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(HexError::InvalidByte(c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(encode(&[0x00, 0x8f, 0xff]), "008fff");
        assert_eq!(decode("008FfF").unwrap(), vec![0x00, 0x8f, 0xff]);
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn errors() {
        assert_eq!(decode("abc"), Err(HexError::OddLength));
        let err = decode("zz").unwrap_err();
        assert_eq!(err, HexError::InvalidByte(b'z'));
        assert_eq!(err.to_string(), "encoding/hex: invalid byte: U+007A 'z'");
    }
}
