//! Decoding of command packets (the first packet of every exchange after authentication).
//! Pure functions over the payload, so they can be property-tested and fuzzed.

/// Command bytes (`COM_*`).
pub mod com {
    /// COM_QUIT.
    pub const QUIT: u8 = 0x01;
    /// COM_INIT_DB.
    pub const INIT_DB: u8 = 0x02;
    /// COM_QUERY.
    pub const QUERY: u8 = 0x03;
    /// COM_FIELD_LIST.
    pub const FIELD_LIST: u8 = 0x04;
    /// COM_PING.
    pub const PING: u8 = 0x0e;
    /// COM_CHANGE_USER.
    pub const CHANGE_USER: u8 = 0x11;
    /// COM_STMT_PREPARE.
    pub const STMT_PREPARE: u8 = 0x16;
    /// COM_STMT_EXECUTE.
    pub const STMT_EXECUTE: u8 = 0x17;
    /// COM_STMT_SEND_LONG_DATA.
    pub const STMT_SEND_LONG_DATA: u8 = 0x18;
    /// COM_STMT_CLOSE.
    pub const STMT_CLOSE: u8 = 0x19;
    /// COM_STMT_RESET.
    pub const STMT_RESET: u8 = 0x1a;
    /// COM_SET_OPTION.
    pub const SET_OPTION: u8 = 0x1b;
    /// COM_STMT_FETCH.
    pub const STMT_FETCH: u8 = 0x1c;
    /// COM_RESET_CONNECTION.
    pub const RESET_CONNECTION: u8 = 0x1f;
}

/// A decoded command; byte slices borrow from the packet payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// COM_QUIT.
    Quit,
    /// COM_INIT_DB with the database name.
    InitDb(&'a [u8]),
    /// COM_QUERY with the statement text (possibly several statements).
    Query(&'a [u8]),
    /// COM_FIELD_LIST.
    FieldList {
        /// Table name.
        table: &'a [u8],
        /// Column wildcard (may be empty).
        wildcard: &'a [u8],
    },
    /// COM_PING.
    Ping,
    /// COM_CHANGE_USER; the body after the command byte, parsed during re-authentication.
    ChangeUser(&'a [u8]),
    /// COM_STMT_PREPARE with the statement text.
    Prepare(&'a [u8]),
    /// COM_STMT_EXECUTE: statement id and the rest of the body (flags, params).
    Execute {
        /// Statement id.
        stmt_id: u32,
        /// Everything after the statement id.
        body: &'a [u8],
    },
    /// COM_STMT_SEND_LONG_DATA.
    SendLongData {
        /// Statement id.
        stmt_id: u32,
        /// Parameter index.
        param: u16,
        /// Bytes to append.
        data: &'a [u8],
    },
    /// COM_STMT_CLOSE.
    Close(u32),
    /// COM_STMT_RESET.
    Reset(u32),
    /// COM_STMT_FETCH (cursors are not supported).
    Fetch(u32),
    /// COM_SET_OPTION (0 = multi-statements on, 1 = off).
    SetOption(u16),
    /// COM_RESET_CONNECTION.
    ResetConnection,
    /// Any other command byte.
    Unknown(u8),
}

/// The fields of COM_CHANGE_USER this server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeUser<'a> {
    /// New user name.
    pub user: &'a [u8],
    /// Auth response, computed over the connection's original salt.
    pub auth_response: &'a [u8],
    /// New default database (may be empty).
    pub database: &'a [u8],
    /// Plugin the client used, when it sent one.
    pub plugin: Option<&'a [u8]>,
}

fn nul_str<'a>(body: &mut &'a [u8]) -> Result<&'a [u8], MalformedCommand> {
    let i = body.iter().position(|&b| b == 0).ok_or(MalformedCommand)?;
    let s = &body[..i];
    *body = &body[i + 1..];
    Ok(s)
}

impl<'a> ChangeUser<'a> {
    /// Decodes the COM_CHANGE_USER body (after the command byte); the client speaks
    /// CLIENT_PROTOCOL_41 and CLIENT_SECURE_CONNECTION (the server requires both).
    pub fn parse(body: &'a [u8]) -> Result<Self, MalformedCommand> {
        let mut rest = body;
        let user = nul_str(&mut rest)?;
        let (&len, tail) = rest.split_first().ok_or(MalformedCommand)?;
        let auth_response = tail.get(..usize::from(len)).ok_or(MalformedCommand)?;
        rest = &tail[usize::from(len)..];
        let database = if rest.is_empty() {
            rest
        } else {
            nul_str(&mut rest)?
        };
        let mut plugin = None;
        if rest.len() >= 2 {
            rest = &rest[2..];
            if !rest.is_empty() {
                plugin = Some(nul_str(&mut rest).unwrap_or(rest));
            }
        }
        Ok(Self {
            user,
            auth_response,
            database,
            plugin,
        })
    }
}

/// The payload is too short for its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed command packet")]
pub struct MalformedCommand;

fn u32_at(body: &[u8]) -> Result<u32, MalformedCommand> {
    match body.get(..4) {
        Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(MalformedCommand),
    }
}

impl<'a> Command<'a> {
    /// Decodes a command packet payload.
    pub fn parse(payload: &'a [u8]) -> Result<Self, MalformedCommand> {
        let (&code, body) = payload.split_first().ok_or(MalformedCommand)?;
        Ok(match code {
            com::QUIT => Command::Quit,
            com::INIT_DB => Command::InitDb(body),
            com::QUERY => Command::Query(body),
            com::FIELD_LIST => {
                let nul = body.iter().position(|&b| b == 0);
                match nul {
                    Some(i) => Command::FieldList {
                        table: &body[..i],
                        wildcard: &body[i + 1..],
                    },
                    None => Command::FieldList {
                        table: body,
                        wildcard: &[],
                    },
                }
            }
            com::PING => Command::Ping,
            com::CHANGE_USER => Command::ChangeUser(body),
            com::STMT_PREPARE => Command::Prepare(body),
            com::STMT_EXECUTE => Command::Execute {
                stmt_id: u32_at(body)?,
                body: &body[4..],
            },
            com::STMT_SEND_LONG_DATA => {
                let stmt_id = u32_at(body)?;
                let param = body.get(4..6).ok_or(MalformedCommand)?;
                Command::SendLongData {
                    stmt_id,
                    param: u16::from_le_bytes([param[0], param[1]]),
                    data: &body[6..],
                }
            }
            com::STMT_CLOSE => Command::Close(u32_at(body)?),
            com::STMT_RESET => Command::Reset(u32_at(body)?),
            com::STMT_FETCH => Command::Fetch(u32_at(body)?),
            com::SET_OPTION => {
                let b = body.get(..2).ok_or(MalformedCommand)?;
                Command::SetOption(u16::from_le_bytes([b[0], b[1]]))
            }
            com::RESET_CONNECTION => Command::ResetConnection,
            other => Command::Unknown(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_commands() {
        assert_eq!(
            Command::parse(b"\x03select 1"),
            Ok(Command::Query(b"select 1"))
        );
        assert_eq!(Command::parse(b"\x02db"), Ok(Command::InitDb(b"db")));
        assert_eq!(
            Command::parse(b"\x04t\0a%"),
            Ok(Command::FieldList {
                table: b"t",
                wildcard: b"a%"
            })
        );
        assert_eq!(
            Command::parse(b"\x17\x05\0\0\0\x00\x01\0\0\0"),
            Ok(Command::Execute {
                stmt_id: 5,
                body: b"\x00\x01\0\0\0"
            })
        );
        assert_eq!(Command::parse(b"\x19\x07\0\0\0"), Ok(Command::Close(7)));
        assert_eq!(
            Command::parse(b"\x11rest"),
            Ok(Command::ChangeUser(b"rest"))
        );
        assert_eq!(Command::parse(b"\x09"), Ok(Command::Unknown(9)));
    }

    #[test]
    fn change_user_fields() {
        let body = b"bob\0\x03abcdb1\0\x2d\0mysql_native_password\0\x00";
        let c = ChangeUser::parse(body).unwrap();
        assert_eq!(c.user, b"bob");
        assert_eq!(c.auth_response, b"abc");
        assert_eq!(c.database, b"db1");
        assert_eq!(c.plugin, Some(&b"mysql_native_password"[..]));
        let c = ChangeUser::parse(b"al\0\x00").unwrap();
        assert_eq!(
            (c.user, c.auth_response, c.database, c.plugin),
            (&b"al"[..], &b""[..], &b""[..], None)
        );
        for bad in [&b""[..], b"bob", b"bob\0", b"bob\0\x05ab", b"bob\0\x00db"] {
            assert_eq!(ChangeUser::parse(bad), Err(MalformedCommand), "{bad:?}");
        }
    }

    #[test]
    fn short_packets_are_malformed() {
        for p in [
            &b""[..],
            b"\x17\x01\x02",
            b"\x18\x01\0\0\0\x01",
            b"\x19",
            b"\x1b\x00",
        ] {
            assert_eq!(Command::parse(p), Err(MalformedCommand), "{p:?}");
        }
    }
}
