//! Text form of [`TabletAlias`]: `<cell>-<uid>` with the uid zero-padded to
//! ten digits, as Vitess prints it (`zone1-0000000100`).

use std::fmt;
use std::str::FromStr;

use crate::topodata::TabletAlias;

/// Why a tablet alias string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tablet alias: '{0}', expecting format: '<cell>-<uid>'")]
pub struct ParseAliasError(pub String);

impl TabletAlias {
    /// Builds an alias from a cell and uid.
    pub fn new(cell: impl Into<String>, uid: u32) -> Self {
        TabletAlias {
            cell: cell.into(),
            uid,
        }
    }
}

impl fmt::Display for TabletAlias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:010}", self.cell, self.uid)
    }
}

impl FromStr for TabletAlias {
    type Err = ParseAliasError;

    /// Parses `<cell>-<uid>`; the uid is the part after the last `-`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseAliasError(s.to_string());
        let (cell, uid) = s.rsplit_once('-').ok_or_else(err)?;
        if cell.is_empty() || uid.is_empty() || !uid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let uid = uid.parse::<u32>().map_err(|_| err())?;
        Ok(TabletAlias::new(cell, uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_zero_padded() {
        assert_eq!(
            TabletAlias::new("zone1", 100).to_string(),
            "zone1-0000000100"
        );
        assert_eq!(
            TabletAlias::new("zone1", u32::MAX).to_string(),
            "zone1-4294967295"
        );
    }

    #[test]
    fn parses_padded_and_plain() {
        assert_eq!(
            "zone1-0000000100".parse::<TabletAlias>().unwrap(),
            TabletAlias::new("zone1", 100)
        );
        assert_eq!(
            "us-east-1-7".parse::<TabletAlias>().unwrap(),
            TabletAlias::new("us-east-1", 7)
        );
        for bad in [
            "zone1",
            "-100",
            "zone1-",
            "zone1-x1",
            "zone1-99999999999",
            "zone1-+1",
        ] {
            assert!(bad.parse::<TabletAlias>().is_err(), "{bad}");
        }
    }
}
