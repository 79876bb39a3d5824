//! The SQL dialect vtgate parses with: sqlparser's MySQL dialect, with MySQL's precedence for
//! the `BINARY`, `!`, `XOR` and `||` operators, and MySQL syntax it refuses: `MOD`, compound interval units
//! (`INTERVAL '1:30' HOUR_MINUTE`, `EXTRACT(YEAR_MONTH FROM d)`) and the `INTERVAL(n, n1, ...)`
//! function.
//!
//! sqlparser 0.64 reads `BINARY` as a cast of the whole expression that follows it, so
//! `BINARY name = 'x'` became `CAST(name = 'x' AS BINARY)`: a case-insensitive comparison whose
//! result is cast, which vtgate then sent to the shards, matching `'X'` too. In MySQL `BINARY`
//! binds tighter than any binary operator: `(BINARY name) = 'x'`. [`VtDialect`] parses the
//! operand alone and leaves everything else to [`MySqlDialect`], which it wraps as sqlparser
//! documents (same [`Dialect::dialect`] type id, so MySQL-only syntax stays on).
//!
//! A multi-table UPDATE may list its tables with commas (`UPDATE a, b SET ...`), as in MySQL.
//!
//! `!a` (MySQL's NOT that binds as tightly as `BINARY`) is read as `(NOT a)`, parenthesised so
//! that it prints back with its meaning; `a MOD b` as `a % b`. Units sqlparser does not know
//! are kept as written (MariaDB judges them).

mod multi_update;

use std::any::TypeId;

use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, FunctionArgExpr, Statement, UnaryOperator,
};
use sqlparser::dialect::{BindPlaceholderStyle, Dialect, MySqlDialect, Precedence};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// sqlparser's [`MySqlDialect`] with MySQL's `BINARY` operator precedence.
#[derive(Debug, Default)]
pub struct VtDialect(MySqlDialect);

/// `INTERVAL(` with two or more arguments: MySQL's INTERVAL() function (`INTERVAL (1) DAY`
/// stays an interval).
fn interval_function(parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
    let starts = matches!(&parser.peek_token_ref().token, Token::Word(w) if w.keyword == Keyword::INTERVAL)
        && parser.peek_nth_token_ref(1).token == Token::LParen;
    if !starts {
        return None;
    }
    let args = parser.maybe_parse(|p| {
        p.next_token();
        p.expect_token(&Token::LParen)?;
        let args = p.parse_comma_separated(Parser::parse_expr)?;
        p.expect_token(&Token::RParen)?;
        if args.len() < 2 {
            return p.expected("INTERVAL() arguments", p.peek_token());
        }
        Ok(args)
    });
    let args = match args {
        Ok(Some(args)) => args,
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    };
    Some(Ok(crate::parse::function_call(
        "interval",
        args.into_iter().map(FunctionArgExpr::Expr).collect(),
    )))
}

impl VtDialect {
    /// Where the operand of `BINARY` and `!` ends: before any binary operator.
    fn operand_precedence(&self) -> u8 {
        self.prec_value(Precedence::MulDivModOp)
    }

    /// Between OR's and AND's.
    fn xor_precedence(&self) -> u8 {
        (self.prec_value(Precedence::Or) + self.prec_value(Precedence::And)) / 2
    }
}

/// Methods [`MySqlDialect`] overrides that take nothing and answer a flag.
macro_rules! delegate_flags {
    ($($name:ident,)*) => {
        $(fn $name(&self) -> bool {
            self.0.$name()
        })*
    };
}

impl Dialect for VtDialect {
    fn dialect(&self) -> TypeId {
        self.0.dialect()
    }

    /// `BINARY x`: a cast of the operand `x` only, which ends before the first binary
    /// operator (`BINARY a = b` is `(BINARY a) = b`, `BINARY a * b` is `(BINARY a) * b`).
    /// `!x` and `!!x`: `(NOT x)` and `(NOT (NOT x))`, the operand bounded the same way.
    /// `INTERVAL(n, n1, ...)`: the function, not an interval.
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        if let Some(f) = interval_function(parser) {
            return Some(f);
        }
        let nots = match parser.peek_token_ref().token {
            Token::ExclamationMark => 1,
            Token::DoubleExclamationMark => 2,
            _ => 0,
        };
        let binary = nots == 0 && parser.parse_keyword(Keyword::BINARY);
        if nots == 0 && !binary {
            return None;
        }
        if nots > 0 {
            parser.next_token();
        }
        let operand = match parser.parse_subexpr(self.operand_precedence()) {
            Ok(e) => e,
            Err(e) => return Some(Err(e)),
        };
        if binary {
            return Some(Ok(Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(operand),
                data_type: DataType::Binary(None),
                format: None,
            }));
        }
        let mut e = operand;
        for _ in 0..nots {
            e = Expr::Nested(Box::new(Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: Box::new(e),
            }));
        }
        Some(Ok(e))
    }

    /// `a MOD b`, as `a % b`.
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        if parser.parse_keyword(Keyword::MOD) {
            return Some(
                parser
                    .parse_subexpr(precedence)
                    .map(|right| Expr::BinaryOp {
                        left: Box::new(expr.clone()),
                        op: BinaryOperator::Modulo,
                        right: Box::new(right),
                    }),
            );
        }
        self.0.parse_infix(parser, expr, precedence)
    }

    /// MySQL's compound units (`HOUR_MINUTE`, `YEAR_MONTH`...) are not sqlparser keywords.
    fn is_interval_qualifier(&self, kw: Keyword) -> bool {
        kw == Keyword::NoKeyword || self.0.is_interval_qualifier(kw)
    }

    /// So that a unit that is not a keyword is read as written.
    fn allow_extract_custom(&self) -> bool {
        true
    }

    /// MySQL's: `XOR` between OR and AND, `||` (OR) with OR; sqlparser binds both more
    /// tightly than comparisons, so `a = 1 XOR b = 2` was `a = (1 XOR b) = 2` to the planner.
    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match &parser.peek_token_ref().token {
            Token::Word(w) if w.keyword == Keyword::MOD => {
                Some(Ok(self.prec_value(Precedence::MulDivModOp)))
            }
            Token::Word(w) if w.keyword == Keyword::XOR => Some(Ok(self.xor_precedence())),
            Token::StringConcat => Some(Ok(self.prec_value(Precedence::Or))),
            _ => self.0.get_next_precedence(parser),
        }
    }

    fn supports_string_literal_table_alias(&self, explicit: bool) -> bool {
        self.0.supports_string_literal_table_alias(explicit)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.0.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.0.is_delimited_identifier_start(ch)
    }

    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.0.identifier_quote_style(identifier)
    }

    fn ordered_bind_placeholder_style(&self) -> Option<BindPlaceholderStyle> {
        self.0.ordered_bind_placeholder_style()
    }

    /// `UPDATE a, b SET ...` (see [`multi_update`]); the rest as [`MySqlDialect`] parses it.
    fn parse_statement(&self, parser: &mut Parser) -> Option<Result<Statement, ParserError>> {
        multi_update::parse(parser).or_else(|| self.0.parse_statement(parser))
    }

    fn is_table_factor_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        self.0.is_table_factor_alias(explicit, kw, parser)
    }

    delegate_flags! {
        supports_string_literal_backslash_escape,
        supports_string_literal_concatenation,
        ignores_wildcard_escapes,
        supports_numeric_prefix,
        supports_literal_prefix_in_qualified_name,
        supports_bitwise_shift_operators,
        supports_singular_value_keyword,
        supports_multiline_comment_hints,
        require_interval_qualifier,
        supports_limit_comma,
        supports_create_table_select,
        supports_insert_set,
        supports_user_host_grantee,
        supports_table_hints,
        requires_single_line_comment_whitespace,
        supports_hash_comment,
        supports_match_against,
        supports_select_modifiers,
        supports_set_names,
        supports_comma_separated_set_assignments,
        supports_alter_column_position,
        supports_update_order_by,
        supports_data_type_signed_suffix,
        supports_data_type_zerofill_suffix,
        supports_cross_join_constraint,
        supports_double_ampersand_operator,
        supports_binary_kw_as_cast,
        supports_table_partitions,
        supports_comment_optimizer_hint,
        supports_constraint_keyword_without_name,
        supports_key_column_option,
        supports_group_by_with_modifier,
        supports_left_associative_joins_without_parens,
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::parser::Parser;

    use super::*;

    fn printed(dialect: &dyn Dialect, sql: &str) -> String {
        Parser::parse_sql(dialect, sql)
            .map(|s| s[0].to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn binary_casts_its_operand_only() {
        for (sql, want) in [
            (
                "select 1 from t where binary name = 'x'",
                "SELECT 1 FROM t WHERE CAST(name AS BINARY) = 'x'",
            ),
            (
                "select binary a * b + 1 from t",
                "SELECT CAST(a AS BINARY) * b + 1 FROM t",
            ),
            (
                "select 1 from t where binary(name) like 'A%' and not binary t.c in ('a')",
                "SELECT 1 FROM t WHERE CAST((name) AS BINARY) LIKE 'A%' AND NOT CAST(t.c AS BINARY) IN ('a')",
            ),
            (
                "select binary -x, binary 'abc', cast(y as binary) from t",
                "SELECT CAST(-x AS BINARY), CAST('abc' AS BINARY), CAST(y AS BINARY) FROM t",
            ),
            (
                "select !a = b, !!a, a mod b * 2, mod(a, b), a != b from t",
                "SELECT (NOT a) = b, (NOT (NOT a)), a % b * 2, mod(a, b), a <> b FROM t",
            ),
        ] {
            assert_eq!(printed(&VtDialect::default(), sql), want, "{sql}");
        }
    }

    /// The planner reads the tree, not the text: XOR and `||` must sit above comparisons.
    #[test]
    fn xor_and_pipes_bind_like_mysql() {
        use sqlparser::ast::{BinaryOperator as B, SetExpr};
        let top = |sql: &str| {
            let s = Parser::parse_sql(&VtDialect::default(), sql).unwrap();
            let Statement::Query(q) = &s[0] else { panic!() };
            let SetExpr::Select(sel) = q.body.as_ref() else {
                panic!()
            };
            match sel.selection.as_ref().unwrap() {
                Expr::BinaryOp { op, .. } => op.clone(),
                other => panic!("{other}"),
            }
        };
        assert_eq!(
            top("select 1 from t where a = 1 xor b not in (1, null)"),
            B::Xor
        );
        assert_eq!(
            top("select 1 from t where a = 1 and b = 2 xor c = 3"),
            B::Xor
        );
        assert_eq!(
            top("select 1 from t where a = 1 xor b = 2 and c = 3"),
            B::Xor
        );
        assert_eq!(top("select 1 from t where a = 1 or b = 2 xor c = 3"), B::Or);
        assert_eq!(
            top("select 1 from t where a = 1 || b = 2 and c = 3"),
            B::StringConcat
        );
    }

    /// Everything without these operators parses as under sqlparser's own MySQL dialect.
    #[test]
    fn other_statements_parse_as_with_mysql_dialect() {
        for sql in [
            "select a div b, a && b, `x y`, \"s\" from t1 force index (i) limit 1, 2",
            "select high_priority straight_join * from t where x := 1",
            "insert into t set a = 1",
            "lock tables t read",
            "update t set a = 1 order by id limit 3",
            "update a join b on a.id = b.id set a.x = 1",
            "select * from t1 t left join t2 using (id) cross join t3 on t.a = t3.a",
            "select 0x1F, b'101', _utf8mb4'x' collate utf8mb4_bin, a regexp 'b' from t",
            "create table t (id int unsigned zerofill, c varchar(10) binary)",
            "select * from t partition (p0) where a <=> b",
        ] {
            assert_eq!(
                printed(&VtDialect::default(), sql),
                printed(&MySqlDialect {}, sql),
                "{sql}"
            );
        }
    }

    /// MySQL's comma-separated UPDATE tables become CROSS JOINs, each keeping its own joins.
    #[test]
    fn multi_table_update_with_commas() {
        let d = VtDialect::default();
        assert_eq!(
            printed(
                &d,
                "update a, b as x set a.v = x.v where a.id = x.id order by a.id limit 2"
            ),
            "UPDATE a CROSS JOIN b AS x SET a.v = x.v WHERE a.id = x.id ORDER BY a.id LIMIT 2"
        );
        assert_eq!(
            printed(&d, "update a, b left join c on c.k = b.k set a.v = c.v"),
            "UPDATE a CROSS JOIN b LEFT JOIN c ON c.k = b.k SET a.v = c.v"
        );
        // Not an UPDATE with commas: as before.
        assert!(Parser::parse_sql(&d, "update a, set x = 1").is_err());
    }
}
