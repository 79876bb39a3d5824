//! Session status as the client sees it in the status flags of every OK and EOF packet.

use mysql_common::constants::StatusFlags;

/// Session state the handler reports; turned into `SERVER_STATUS_*` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStatus {
    /// A transaction is open (`SERVER_STATUS_IN_TRANS`).
    pub in_transaction: bool,
    /// Autocommit is on (`SERVER_STATUS_AUTOCOMMIT`).
    pub autocommit: bool,
}

impl Default for SessionStatus {
    fn default() -> Self {
        Self {
            in_transaction: false,
            autocommit: true,
        }
    }
}

impl SessionStatus {
    /// The status flags for this state.
    pub fn flags(&self) -> StatusFlags {
        let mut flags = StatusFlags::empty();
        if self.in_transaction {
            flags |= StatusFlags::SERVER_STATUS_IN_TRANS;
        }
        if self.autocommit {
            flags |= StatusFlags::SERVER_STATUS_AUTOCOMMIT;
        }
        flags
    }

    /// Reads the state back from backend status flags (useful to a pass-through handler).
    pub fn from_flags(flags: StatusFlags) -> Self {
        Self {
            in_transaction: flags.contains(StatusFlags::SERVER_STATUS_IN_TRANS),
            autocommit: flags.contains(StatusFlags::SERVER_STATUS_AUTOCOMMIT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip() {
        for in_transaction in [false, true] {
            for autocommit in [false, true] {
                let s = SessionStatus {
                    in_transaction,
                    autocommit,
                };
                assert_eq!(SessionStatus::from_flags(s.flags()), s);
            }
        }
        assert_eq!(SessionStatus::default().flags().bits(), 0x0002);
    }
}
