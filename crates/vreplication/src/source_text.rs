//! The `source` column of `_vt.vreplication`: a `BinlogSource` in protobuf
//! text form, as Vitess writes it, e.g.
//! `keyspace:"commerce" shard:"0" filter:{rules:{match:"customer" filter:"select * from customer"}}`.
//! Fields this crate uses are read and written; others are skipped.

use proto::binlogdata::{BinlogSource, Filter, Rule};

use crate::error::{Error, Result};

/// Writes `source` in protobuf text form.
pub fn encode(source: &BinlogSource) -> String {
    let mut out = format!(
        "keyspace:{} shard:{}",
        quote(&source.keyspace),
        quote(&source.shard)
    );
    if let Some(filter) = &source.filter {
        out.push_str(" filter:{");
        let rules: Vec<String> = filter
            .rules
            .iter()
            .map(|r| {
                format!(
                    "rules:{{match:{} filter:{}}}",
                    quote(&r.r#match),
                    quote(&r.filter)
                )
            })
            .collect();
        out.push_str(&rules.join(" "));
        out.push('}');
    }
    if source.stop_after_copy {
        out.push_str(" stop_after_copy:true");
    }
    out
}

/// Reads a `BinlogSource` written by [`encode`] or by Vitess.
pub fn decode(text: &str) -> Result<BinlogSource> {
    let tokens = tokenize(text)?;
    let mut pos = 0;
    let mut source = BinlogSource::default();
    while pos < tokens.len() {
        let (name, value) = field(&tokens, &mut pos)?;
        match (name.as_str(), value) {
            ("keyspace", Val::Scalar(s)) => source.keyspace = s,
            ("shard", Val::Scalar(s)) => source.shard = s,
            ("stop_after_copy", Val::Scalar(s)) => source.stop_after_copy = s == "true",
            ("filter", Val::Message(fields)) => {
                let mut filter = Filter::default();
                for (name, value) in fields {
                    if let ("rules", Val::Message(rule_fields)) = (name.as_str(), value) {
                        let mut rule = Rule::default();
                        for (n, v) in rule_fields {
                            match (n.as_str(), v) {
                                ("match", Val::Scalar(s)) => rule.r#match = s,
                                ("filter", Val::Scalar(s)) => rule.filter = s,
                                _ => {}
                            }
                        }
                        filter.rules.push(rule);
                    }
                }
                source.filter = Some(filter);
            }
            _ => {}
        }
    }
    Ok(source)
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Colon,
    Open,
    Close,
}

enum Val {
    Scalar(String),
    Message(Vec<(String, Val)>),
}

fn tokenize(text: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            ':' => {
                chars.next();
                tokens.push(Token::Colon);
            }
            '{' | '<' => {
                chars.next();
                tokens.push(Token::Open);
            }
            '}' | '>' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' | '\'' => {
                let quote = c;
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(Error::SourceText("unterminated string".into())),
                        Some(q) if q == quote => break,
                        Some('\\') => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(other) => s.push(other),
                            None => return Err(Error::SourceText("unterminated escape".into())),
                        },
                        Some(other) => s.push(other),
                    }
                }
                tokens.push(Token::Str(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '-' || c == '.' {
                        w.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if w.is_empty() {
                    return Err(Error::SourceText(format!("unexpected character {c:?}")));
                }
                tokens.push(Token::Word(w));
            }
        }
    }
    Ok(tokens)
}

fn field(tokens: &[Token], pos: &mut usize) -> Result<(String, Val)> {
    let Some(Token::Word(name)) = tokens.get(*pos) else {
        return Err(Error::SourceText(format!(
            "expected a field name at token {pos}"
        )));
    };
    *pos += 1;
    if tokens.get(*pos) == Some(&Token::Colon) {
        *pos += 1;
    }
    match tokens.get(*pos) {
        Some(Token::Str(s)) | Some(Token::Word(s)) => {
            *pos += 1;
            Ok((name.clone(), Val::Scalar(s.clone())))
        }
        Some(Token::Open) => {
            *pos += 1;
            let mut fields = Vec::new();
            while tokens.get(*pos) != Some(&Token::Close) {
                if *pos >= tokens.len() {
                    return Err(Error::SourceText("unclosed message".into()));
                }
                fields.push(field(tokens, pos)?);
            }
            *pos += 1;
            Ok((name.clone(), Val::Message(fields)))
        }
        _ => Err(Error::SourceText(format!("field {name} has no value"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_vitess_text() {
        let vitess = r#"keyspace:"commerce" shard:"0" filter:{rules:{match:"customer" filter:"select * from customer"} rules:{match:"corder" filter:"select * from corder where in_keyrange(customer_id, 'hash', '-80')"}} on_ddl:EXEC"#;
        let source = decode(vitess).unwrap();
        assert_eq!(source.keyspace, "commerce");
        assert_eq!(source.shard, "0");
        let rules = &source.filter.as_ref().unwrap().rules;
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].r#match, "corder");
        assert!(rules[1].filter.contains("'hash'"));
        assert_eq!(decode(&encode(&source)).unwrap(), source);
        assert!(decode("keyspace:\"x").is_err());
    }
}
