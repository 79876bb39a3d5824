//! MySQL's multi-table UPDATE with a comma-separated table list
//! (`UPDATE a, b SET a.x = b.y WHERE a.id = b.id`), which sqlparser 0.64
//! does not parse. The tables after the first become `CROSS JOIN`s, each
//! followed by its own joins: the same rows for every statement MySQL
//! accepts, and the statement prints back as MySQL syntax.

use sqlparser::ast::{Join, JoinConstraint, JoinOperator, Statement, TableWithJoins, Update};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// The statement when it is an UPDATE whose first table (with its joins)
/// is followed by a comma; `None` leaves every other statement to the
/// dialect it wraps.
pub(super) fn parse(parser: &mut Parser) -> Option<Result<Statement, ParserError>> {
    let starts =
        matches!(&parser.peek_token_ref().token, Token::Word(w) if w.keyword == Keyword::UPDATE);
    if !starts {
        return None;
    }
    let head = parser.maybe_parse(|p| {
        let token = p.expect_keyword(Keyword::UPDATE)?;
        let first = p.parse_table_and_joins()?;
        if !p.consume_token(&Token::Comma) {
            return p.expected("a comma after the first table", p.peek_token());
        }
        Ok((token, first))
    });
    let (token, first) = match head {
        Ok(Some(head)) => head,
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    };
    Some(rest(parser, token, first))
}

fn rest(
    p: &mut Parser,
    token: sqlparser::tokenizer::TokenWithSpan,
    first: TableWithJoins,
) -> Result<Statement, ParserError> {
    let mut table = first;
    for more in p.parse_comma_separated(Parser::parse_table_and_joins)? {
        table.joins.push(Join {
            relation: more.relation,
            global: false,
            join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
        });
        table.joins.extend(more.joins);
    }
    p.expect_keyword(Keyword::SET)?;
    let assignments = p.parse_comma_separated(Parser::parse_assignment)?;
    let selection = if p.parse_keyword(Keyword::WHERE) {
        Some(p.parse_expr()?)
    } else {
        None
    };
    // MariaDB also takes ORDER BY and LIMIT here; the planner judges them.
    let order_by = if p.parse_keywords(&[Keyword::ORDER, Keyword::BY]) {
        p.parse_comma_separated(Parser::parse_order_by_expr)?
    } else {
        Vec::new()
    };
    let limit = if p.parse_keyword(Keyword::LIMIT) {
        Some(p.parse_expr()?)
    } else {
        None
    };
    Ok(Statement::Update(Update {
        update_token: token.into(),
        optimizer_hints: Vec::new(),
        table,
        on_cluster: None,
        assignments,
        from: None,
        selection,
        returning: None,
        output: None,
        or: None,
        order_by,
        limit,
        settings: None,
    }))
}
