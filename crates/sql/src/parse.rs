//! Parsing one statement with sqlparser (MySQL dialect, literals kept as
//! written), with errors in Vitess's shape:
//! `syntax error at position N near 'tok'`, where N is one past the end of
//! the offending token (1-based), as Vitess's tokenizer reports it.

use crate::dialect::VtDialect;
use sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    ObjectName, ObjectNamePart, Statement,
};
use sqlparser::parser::{Parser, ParserError, ParserOptions};

use crate::classify::Tokens;
use crate::error::SqlError;

/// Parses exactly one statement (a trailing `;` is allowed).
pub fn parse(sql: &str) -> Result<Statement, SqlError> {
    let mut stmts = parse_many(sql)?;
    match stmts.len() {
        0 => Err(SqlError::EmptyQuery),
        1 => Ok(stmts.remove(0)),
        _ => Err(SqlError::Syntax("Expected a single statement".into())),
    }
}

/// Parses any number of `;`-separated statements.
pub fn parse_many(sql: &str) -> Result<Vec<Statement>, SqlError> {
    let dialect = VtDialect::default();
    let options = ParserOptions::new()
        .with_unescape(false)
        .with_trailing_commas(false);
    Parser::new(&dialect)
        .with_options(options)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| syntax_error(sql, &e))
}

/// The call `name(args...)`, as the parser would build it from its text.
pub fn function_call(name: &str, args: Vec<FunctionArgExpr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(FunctionArg::Unnamed).collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// Turns a sqlparser error into Vitess's syntax error text.
fn syntax_error(sql: &str, err: &ParserError) -> SqlError {
    let msg = match err {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m.as_str(),
        ParserError::RecursionLimitExceeded => {
            return SqlError::Syntax("syntax error: query is too deeply nested".into())
        }
    };
    let Some(offset) = error_offset(sql, msg) else {
        // No location: the error is at the end of the input.
        return SqlError::Syntax(format!("syntax error at position {}", sql.len() + 1));
    };
    match Tokens::new(&sql[offset..]).next() {
        Some(tok) => {
            let end =
                offset + (tok.as_ptr() as usize - sql[offset..].as_ptr() as usize) + tok.len();
            SqlError::Syntax(format!(
                "syntax error at position {} near '{}'",
                end + 1,
                tok
            ))
        }
        None => SqlError::Syntax(format!("syntax error at position {}", sql.len() + 1)),
    }
}

/// The byte offset of sqlparser's ` at Line: L, Column: C` (1-based, in characters).
fn error_offset(sql: &str, msg: &str) -> Option<usize> {
    let at = msg.rfind(" at Line: ")?;
    let (line, column) = msg[at + " at Line: ".len()..].split_once(", Column: ")?;
    let line: usize = line.trim().parse().ok()?;
    let column: usize = column.trim().parse().ok()?;
    let mut offset = 0;
    for (i, l) in sql.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(l.len(), |(o, _)| o);
            return Some(offset + col);
        }
        offset += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_statement() {
        let s = parse("select a from t where b = 'x\\'y';").unwrap();
        assert_eq!(s.to_string(), "SELECT a FROM t WHERE b = 'x\\'y'");
        assert!(matches!(
            parse("insert into t values (1)").unwrap(),
            Statement::Insert(_)
        ));
    }

    #[test]
    fn empty_and_multiple() {
        assert_eq!(parse("").unwrap_err(), SqlError::EmptyQuery);
        assert_eq!(parse(" ; ").unwrap_err(), SqlError::EmptyQuery);
        assert_eq!(
            parse("select 1; select 2").unwrap_err().message(),
            "Expected a single statement"
        );
        assert_eq!(parse_many("select 1; select 2").unwrap().len(), 2);
    }

    #[test]
    fn syntax_errors_have_vitess_shape() {
        let e = parse("selec 1").unwrap_err();
        assert_eq!(e.message(), "syntax error at position 6 near 'selec'");
        assert_eq!((e.errno(), e.sqlstate()), (1064, "42000"));
        let e = parse("select * from t where").unwrap_err();
        assert_eq!(e.message(), "syntax error at position 22");
        let e = parse("select 1 from t\nwhere a = = 2").unwrap_err();
        assert_eq!(e.message(), "syntax error at position 28 near '='");
    }
}
