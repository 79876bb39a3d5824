//! Tablet type names as Vitess prints and parses them: lower-case on output
//! (`primary`, `replica`, `rdonly`), case-insensitive on input, accepting the
//! old aliases `master` and `batch`.

use std::fmt;
use std::str::FromStr;

use crate::topodata::TabletType;

/// Why a tablet type name could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TabletType {0}")]
pub struct ParseTabletTypeError(pub String);

impl TabletType {
    /// Lower-case name, as Vitess prints tablet types (`TabletTypeLString`).
    pub fn lower_name(self) -> &'static str {
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

    /// Whether tablets of this type serve queries (primary, replica, rdonly).
    pub fn is_serving(self) -> bool {
        matches!(
            self,
            TabletType::Primary | TabletType::Replica | TabletType::Rdonly
        )
    }
}

impl fmt::Display for TabletType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.lower_name())
    }
}

impl FromStr for TabletType {
    type Err = ParseTabletTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.to_ascii_uppercase();
        let parsed = match upper.as_str() {
            "MASTER" => Some(TabletType::Primary),
            "BATCH" => Some(TabletType::Rdonly),
            other => TabletType::from_str_name(other),
        };
        parsed.ok_or_else(|| ParseTabletTypeError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_lower_case() {
        assert_eq!(TabletType::Primary.to_string(), "primary");
        assert_eq!(TabletType::Rdonly.to_string(), "rdonly");
    }

    #[test]
    fn parses_names_and_aliases() {
        assert_eq!(
            "replica".parse::<TabletType>().unwrap(),
            TabletType::Replica
        );
        assert_eq!(
            "PRIMARY".parse::<TabletType>().unwrap(),
            TabletType::Primary
        );
        assert_eq!("master".parse::<TabletType>().unwrap(), TabletType::Primary);
        assert_eq!("batch".parse::<TabletType>().unwrap(), TabletType::Rdonly);
        assert!("leader".parse::<TabletType>().is_err());
    }

    #[test]
    fn every_variant_round_trips() {
        for v in 0..=8 {
            let t = TabletType::try_from(v).unwrap();
            assert_eq!(t.to_string().parse::<TabletType>().unwrap(), t);
        }
    }
}
