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
            Some(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if is_numeric(field_type) {
                    text
                } else {
                    quote(&text)
                }
            }
        })
    }
}

fn is_numeric(t: Type) -> bool {
    matches!(
        t,
        Type::Int8
            | Type::Uint8
            | Type::Int16
            | Type::Uint16
            | Type::Int24
            | Type::Uint24
            | Type::Int32
            | Type::Uint32
            | Type::Int64
            | Type::Uint64
            | Type::Float32
            | Type::Float64
            | Type::Decimal
    )
}
