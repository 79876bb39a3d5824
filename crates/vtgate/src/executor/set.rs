//! `SET`: session variables vtgate keeps, transaction isolation, user variables, and system
//! settings for MySQL (validated on a tablet once, then sent with every statement).

use proto::query::Type;

use super::{Executor, Reply};
use crate::error::VtError;
use crate::gateway::Caller;
use crate::rewrite::quote;
use crate::session::Session;
use crate::settings::{isolation_from_name, parse_set, SetAction, SetValue};

impl Executor {
    pub(super) async fn set(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
    ) -> Result<Reply, VtError> {
        for action in parse_set(sql)? {
            match action {
                SetAction::Autocommit(on) => {
                    if on && !session.autocommit {
                        self.commit(session, caller).await?;
                    }
                    session.autocommit = on;
                }
                SetAction::Vitess(name, value) => {
                    session.vitess_vars.insert(name, value);
                }
                SetAction::Ignored | SetAction::AccessMode => {}
                SetAction::Isolation {
                    session: whole_session,
                    level,
                } => {
                    let level = isolation_from_name(&level).ok_or_else(|| {
                        VtError::Sql(sql::error::SqlError::WrongValueForVar {
                            name: "transaction_isolation".into(),
                            value: level.clone(),
                        })
                    })?;
                    if whole_session {
                        session.isolation = Some(level);
                    } else {
                        session.next_isolation = Some(level);
                    }
                }
                SetAction::User(name, value) => {
                    let literal = match value {
                        SetValue::Default => "NULL".to_string(),
                        v => self.literal(session, caller, v).await?,
                    };
                    session.user_vars.insert(name, literal);
                }
                SetAction::System(name, SetValue::Default) => {
                    session.settings.remove(&name);
                }
                SetAction::System(name, value) => {
                    let literal = self.literal(session, caller, value).await?;
                    if name.eq_ignore_ascii_case("sql_mode") {
                        refuse_parser_modes(&literal)?;
                    }
                    let probe = format!("SET STATEMENT {name}={literal} FOR SELECT 1");
                    self.query_any(session, caller, &probe, None).await?;
                    session.settings.insert(name, literal);
                }
            }
        }
        Ok(Reply::ok())
    }

    /// The value of an assignment as a SQL literal; expressions are evaluated on a tablet
    /// with the session's settings and variables.
    async fn literal(
        &self,
        session: &Session,
        caller: &Caller,
        value: SetValue,
    ) -> Result<String, VtError> {
        let expr = match value {
            SetValue::Literal(l) => return Ok(l),
            SetValue::Default => return Ok("DEFAULT".into()),
            SetValue::Expr(e) => e,
        };
        let sql = self.tablet_sql(session, &format!("select {expr}"));
        let result = self.query_any(session, caller, &sql, None).await?;
        let field_type = result.fields.first().map_or(Type::NullType, |f| f.r#type());
        let value = result
            .rows
            .first()
            .and_then(|r| r.split_values().ok())
            .and_then(|v| v.first().copied().flatten().map(<[u8]>::to_vec));
        Ok(match value {
            None => "NULL".into(),
            Some(bytes) => match String::from_utf8(bytes) {
                Ok(text) if proto::sqltypes::is_number(field_type) => text,
                Ok(text) => quote(&text),
                // Binary values (`UNHEX('FF')`) stay bytes: a hex literal, not lossy text.
                Err(e) => hex_literal(e.as_bytes()),
            },
        })
    }
}

/// `X'..'`: a binary string literal holding exactly `bytes`.
fn hex_literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2 + 3);
    out.push_str("X'");
    for b in bytes {
        out.push_str(&format!("{b:02X}"));
    }
    out.push('\'');
    out
}

/// sql_mode flags that change how MariaDB parses a statement (directly, or through a
/// combination mode that includes them). vtgate applies session settings as
/// `SET STATEMENT ... FOR <statement>`, and MariaDB parses the statement before applying them,
/// so these would be silently ignored: `'a' || 'b'` would not concatenate, `"x"` would stay a
/// string. Refused instead.
const PARSER_MODES: &[&str] = &[
    "ANSI_QUOTES",
    "PIPES_AS_CONCAT",
    "NO_BACKSLASH_ESCAPES",
    "IGNORE_SPACE",
    "HIGH_NOT_PRECEDENCE",
    "ANSI",
    "DB2",
    "MAXDB",
    "MSSQL",
    "ORACLE",
    "POSTGRESQL",
];

fn refuse_parser_modes(literal: &str) -> Result<(), VtError> {
    let upper = literal.trim_matches('\'').to_ascii_uppercase();
    match upper
        .split(',')
        .map(str::trim)
        .find(|m| PARSER_MODES.contains(m))
    {
        Some(mode) => Err(VtError::Unsupported(format!(
            "sql_mode {mode} changes how statements are parsed, which vtgate's per-statement settings cannot honour"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_modes_are_refused_and_others_accepted() {
        assert!(refuse_parser_modes("'STRICT_TRANS_TABLES,ANSI_QUOTES'").is_err());
        assert!(refuse_parser_modes("'pipes_as_concat'").is_err());
        assert!(refuse_parser_modes("'ANSI'").is_err());
        assert!(refuse_parser_modes("'STRICT_TRANS_TABLES,NO_ZERO_DATE'").is_ok());
        assert!(refuse_parser_modes("''").is_ok());
    }

    #[test]
    fn binary_values_become_hex_literals() {
        assert_eq!(hex_literal(&[0xff, 0x00, 0x41]), "X'FF0041'");
    }
}
