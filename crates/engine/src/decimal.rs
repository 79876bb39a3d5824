//! Exact decimal arithmetic for merging SUM and AVG partial results:
//! values up to 38 significant digits as a scaled `i128`. Anything larger
//! is an error, never a rounded guess.

use crate::error::{EngineError, Result};

/// Digits a quotient gets beyond its dividend's (MySQL's `div_precision_increment`, also
/// AVG's).
pub const DIV_PRECISION_INCREMENT: u32 = 4;

/// Most fraction digits MySQL keeps (`DECIMAL(65,30)`).
const MAX_SCALE: u32 = 30;

/// `value / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dec {
    value: i128,
    scale: u32,
}

fn overflow() -> EngineError {
    EngineError::unsupported("decimal value beyond 38 digits in vtgate arithmetic")
}

fn pow10(n: u32) -> Result<i128> {
    10i128.checked_pow(n).ok_or_else(overflow)
}

impl Dec {
    /// Zero with the given scale.
    pub fn zero(scale: u32) -> Self {
        Dec { value: 0, scale }
    }

    /// The integer `v`.
    pub fn from_int(v: i128) -> Self {
        Dec { value: v, scale: 0 }
    }

    /// The value, when it has no fraction digits.
    pub fn integer(self) -> Option<i128> {
        (self.scale == 0).then_some(self.value)
    }

    /// Number of fraction digits.
    pub fn scale(self) -> u32 {
        self.scale
    }

    /// Parses MySQL decimal or integer text: `[-+]digits[.digits]`.
    pub fn parse(b: &[u8]) -> Result<Self> {
        let bad =
            || EngineError::BadResult(format!("bad decimal {:?}", String::from_utf8_lossy(b)));
        let s = std::str::from_utf8(b).map_err(|_| bad())?.trim();
        let (neg, digits) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        let mut value: i128 = 0;
        for c in int.bytes().chain(frac.bytes()) {
            if !c.is_ascii_digit() {
                return Err(bad());
            }
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i128::from(c - b'0')))
                .ok_or_else(overflow)?;
        }
        let scale = u32::try_from(frac.len()).map_err(|_| overflow())?;
        Ok(Dec {
            value: if neg { -value } else { value },
            scale,
        })
    }

    fn rescale(self, scale: u32) -> Result<i128> {
        self.value
            .checked_mul(pow10(scale.saturating_sub(self.scale))?)
            .ok_or_else(overflow)
    }

    /// `self + other`, with the larger scale.
    pub fn checked_add(self, other: Dec) -> Result<Dec> {
        let scale = self.scale.max(other.scale);
        let value = self
            .rescale(scale)?
            .checked_add(other.rescale(scale)?)
            .ok_or_else(overflow)?;
        Ok(Dec { value, scale })
    }

    /// `-self`.
    pub fn negated(self) -> Dec {
        Dec {
            value: -self.value,
            scale: self.scale,
        }
    }

    /// `self * other`, with the sum of the scales (MySQL's product scale).
    pub fn checked_mul(self, other: Dec) -> Result<Dec> {
        let scale = self.scale + other.scale;
        if scale > MAX_SCALE {
            return Err(overflow());
        }
        let value = self.value.checked_mul(other.value).ok_or_else(overflow)?;
        Ok(Dec { value, scale })
    }

    /// `self / other` as MySQL's `decimal_div` computes it inside an expression, with `incr`
    /// more fraction digits (`div_precision_increment`, or 4 for AVG): each operand's fraction
    /// counts in whole 9-digit words, the padding that adds is taken off `incr`, and the
    /// quotient is truncated to whole words of fraction (`2/3` is `0.666666666`). The value
    /// shown is then rounded to the expression's scale ([`Self::round`]). `None` when `other`
    /// is zero (MySQL's NULL for division by zero).
    pub fn div_truncated(self, other: Dec, incr: u32) -> Result<Option<Dec>> {
        if other.value == 0 {
            return Ok(None);
        }
        let words = |digits: u32| digits.div_ceil(9) * 9;
        let (f1, f2) = (words(self.scale), words(other.scale));
        let incr = incr.saturating_sub(f1 - self.scale + f2 - other.scale);
        let scale = words(f1 + f2 + incr);
        // a/10^sa / (b/10^sb) = q/10^scale with q = a*10^(scale+sb-sa)/b, truncated.
        let num = self
            .value
            .checked_mul(pow10(scale + other.scale - self.scale)?)
            .ok_or_else(overflow)?;
        Ok(Some(Dec {
            value: num / other.value,
            scale,
        }))
    }

    /// Rounded half away from zero to `scale` fraction digits, as MySQL rounds a value to its
    /// column's scale and as `ROUND(x, scale)` does; a negative `scale` rounds to tens,
    /// hundreds and so on. A value with fewer digits is unchanged.
    pub fn round(self, scale: i64) -> Result<Dec> {
        let Some(drop) = i64::from(self.scale)
            .checked_sub(scale)
            .filter(|d| *d > 0)
            .and_then(|d| u32::try_from(d).ok())
        else {
            return Ok(self);
        };
        if drop > 38 {
            return Ok(Dec::zero(u32::try_from(scale).unwrap_or(0)));
        }
        let p = pow10(drop)?;
        let (q, r) = (self.value / p, self.value % p);
        let q = if r.abs() >= p / 2 { q + r.signum() } else { q };
        Ok(match u32::try_from(scale) {
            Ok(scale) => Dec { value: q, scale },
            Err(_) => Dec {
                value: q
                    .checked_mul(pow10(u32::try_from(-scale).map_err(|_| overflow())?)?)
                    .ok_or_else(overflow)?,
                scale: 0,
            },
        })
    }

    /// The same value with `scale` fraction digits (never fewer than it has).
    pub fn with_scale(self, scale: u32) -> Result<Dec> {
        if scale < self.scale {
            return Err(EngineError::BadResult(format!(
                "decimal {} has more than {scale} fraction digits",
                self.to_text()
            )));
        }
        Ok(Dec {
            value: self.rescale(scale)?,
            scale,
        })
    }

    /// Compares by value (`1.50 == 1.5`).
    pub fn cmp_value(self, other: Dec) -> std::cmp::Ordering {
        let scale = self.scale.max(other.scale);
        match (self.rescale(scale), other.rescale(scale)) {
            (Ok(a), Ok(b)) => a.cmp(&b),
            // Rescaling overflows only for the value with more integer
            // digits, which is then the larger in magnitude.
            (Err(_), _) => self.value.signum().cmp(&0),
            (_, Err(_)) => 0.cmp(&other.value.signum()),
        }
    }

    /// MySQL's text form: `-12.340` keeps its scale.
    pub fn to_text(self) -> String {
        let digits = self.value.unsigned_abs().to_string();
        let sign = if self.value < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dec {
        Dec::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn adds_and_prints_with_scale() {
        assert_eq!(d("1.50").checked_add(d("-3")).unwrap().to_text(), "-1.50");
        assert_eq!(
            d("0.001").checked_add(d("0.009")).unwrap().to_text(),
            "0.010"
        );
        assert_eq!(
            d("9223372036854775807")
                .checked_add(d("9223372036854775807"))
                .unwrap()
                .to_text(),
            "18446744073709551614"
        );
        assert_eq!(d("-0.5").to_text(), "-0.5");
        assert!(Dec::parse(b"1e5").is_err());
    }

    fn div(a: &str, b: &str) -> String {
        d(a).div_truncated(d(b), 4).unwrap().unwrap().to_text()
    }

    #[test]
    fn divides_like_mysql_decimal_div() {
        // Checked on MariaDB 10.11: `2/3 * 1000000000` is 666666666.0000, `2.00000/3` shows
        // 0.666666666 (truncated, not rounded), `2.000000/3` keeps 18 digits.
        assert_eq!(div("2", "3"), "0.666666666");
        assert_eq!(div("-2", "3"), "-0.666666666");
        assert_eq!(div("2.00000", "3"), "0.666666666");
        assert_eq!(div("2.000000", "3"), "0.666666666666666666");
        assert_eq!(div("0.05", "3"), "0.016666666");
        assert_eq!(div("0.666666666", "7"), "0.095238095142857142");
        assert_eq!(div("10", "4"), "2.500000000");
        assert_eq!(d("1").div_truncated(d("0.00"), 4).unwrap(), None);
    }

    #[test]
    fn rounds_half_away_from_zero() {
        let r = |s: &str, n: i64| d(s).round(n).unwrap().to_text();
        assert_eq!(r("0.666666666", 4), "0.6667");
        assert_eq!(r("-0.666666666", 4), "-0.6667");
        assert_eq!(r("2.5", 0), "3");
        assert_eq!(r("-2.5", 0), "-3");
        assert_eq!(r("1.23", 5), "1.23");
        assert_eq!(r("15", -1), "20");
        assert_eq!(r("-15", -1), "-20");
        assert_eq!(r("14.9", -1), "10");
        assert_eq!(r("3.999999999", 4), "4.0000");
    }

    #[test]
    fn multiplies_decimals() {
        assert_eq!(
            d("1.5").checked_mul(d("-2.25")).unwrap().to_text(),
            "-3.375"
        );
        assert_eq!(d("1.5").with_scale(3).unwrap().to_text(), "1.500");
        assert!(d("1.55").with_scale(1).is_err());
    }

    #[test]
    fn compares_by_value() {
        use std::cmp::Ordering;
        assert_eq!(d("1.50").cmp_value(d("1.5")), Ordering::Equal);
        assert_eq!(d("-2").cmp_value(d("1.999")), Ordering::Less);
        assert_eq!(d("10").cmp_value(d("9.99999")), Ordering::Greater);
    }

    #[test]
    fn overflow_is_an_error() {
        let big = "9".repeat(38);
        assert!(d(&big).checked_add(d(&big)).is_err());
        assert!(Dec::parse("1".repeat(40).as_bytes()).is_err());
    }
}
