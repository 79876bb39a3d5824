//! The one error type of this crate: every failure carries the MySQL error
//! number, SQLSTATE and message a client should see.

use thiserror::Error;

/// MySQL `ER_PARSE_ERROR`.
pub const ER_PARSE_ERROR: u16 = 1064;
/// MySQL `ER_EMPTY_QUERY`.
pub const ER_EMPTY_QUERY: u16 = 1065;
/// MySQL `ER_UNKNOWN_ERROR`.
pub const ER_UNKNOWN_ERROR: u16 = 1105;
/// MySQL `ER_INCORRECT_GLOBAL_LOCAL_VAR` (setting a read-only variable).
pub const ER_INCORRECT_GLOBAL_LOCAL_VAR: u16 = 1238;
/// MySQL `ER_NOT_SUPPORTED_YET`.
pub const ER_NOT_SUPPORTED_YET: u16 = 1235;
/// MySQL `ER_WRONG_VALUE_FOR_VAR`.
pub const ER_WRONG_VALUE_FOR_VAR: u16 = 1231;

/// Errors from parsing, classifying, normalising or printing SQL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SqlError {
    /// The statement is not valid SQL; the message has Vitess's shape
    /// `syntax error at position N near 'tok'`.
    #[error("{0}")]
    Syntax(String),
    /// The query text was empty (only blanks, comments or `;`).
    #[error("Query was empty")]
    EmptyQuery,
    /// A target string (`ks/shard@type`) could not be parsed.
    #[error("{0}")]
    InvalidTarget(String),
    /// `SET` of a variable that can only be read (`version`, `version_comment`, `socket`).
    #[error("Variable '{0}' is a read only variable")]
    ReadOnlyVariable(String),
    /// A value that is wrong for the variable it is assigned to.
    #[error("Variable '{name}' can't be set to the value of '{value}'")]
    WrongValueForVar {
        /// The variable.
        name: String,
        /// The value as written.
        value: String,
    },
    /// Valid SQL that this crate does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A bind variable the query refers to is missing, or has the wrong shape.
    #[error("{0}")]
    BindVariable(String),
}

impl SqlError {
    /// The MySQL error number to send to the client.
    pub fn errno(&self) -> u16 {
        match self {
            SqlError::Syntax(_) => ER_PARSE_ERROR,
            SqlError::EmptyQuery => ER_EMPTY_QUERY,
            SqlError::InvalidTarget(_) | SqlError::BindVariable(_) => ER_UNKNOWN_ERROR,
            SqlError::ReadOnlyVariable(_) => ER_INCORRECT_GLOBAL_LOCAL_VAR,
            SqlError::WrongValueForVar { .. } => ER_WRONG_VALUE_FOR_VAR,
            SqlError::Unsupported(_) => ER_NOT_SUPPORTED_YET,
        }
    }

    /// The SQLSTATE to send to the client.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            SqlError::Syntax(_)
            | SqlError::EmptyQuery
            | SqlError::WrongValueForVar { .. }
            | SqlError::Unsupported(_) => "42000",
            SqlError::InvalidTarget(_)
            | SqlError::ReadOnlyVariable(_)
            | SqlError::BindVariable(_) => "HY000",
        }
    }

    /// The message, without errno or SQLSTATE.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_mysql() {
        let e = SqlError::Syntax("syntax error at position 7 near 'selec'".into());
        assert_eq!((e.errno(), e.sqlstate()), (1064, "42000"));
        assert_eq!(SqlError::EmptyQuery.errno(), 1065);
        let ro = SqlError::ReadOnlyVariable("version".into());
        assert_eq!(ro.message(), "Variable 'version' is a read only variable");
        assert_eq!((ro.errno(), ro.sqlstate()), (1238, "HY000"));
    }
}
