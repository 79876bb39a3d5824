//! Splitting a multi-statement string into statements, and stripping
//! leading comments, with a small byte scanner that knows MySQL's quotes
//! (`'..'`, `".."`, `` `..` ``, backslash escapes and doubled quotes) and
//! comments (`-- `, `#`, `/* */`). Executable comments (`/*! ... */`,
//! `/*!50708 ... */`) hold code: they are never stripped, and a `;` inside
//! one does not split.

/// Index just past the quoted span that starts at `i` (`b[i]` is the quote),
/// or `b.len()` when it is not closed. Backquoted identifiers have no
/// backslash escapes.
pub(crate) fn quoted_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        let c = b[j];
        if c == b'\\' && q != b'`' {
            j += 2;
            continue;
        }
        if c == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// What kind of comment starts at an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommentKind {
    /// `-- ` or `#` up to the end of the line.
    Line,
    /// `/* ... */`.
    Block,
    /// `/*! ... */`: MySQL runs its contents.
    Executable,
}

/// If a comment starts at `i`, its kind and the index just past it.
pub(crate) fn comment_at(b: &[u8], i: usize) -> Option<(CommentKind, usize)> {
    match b[i] {
        b'#' => Some((CommentKind::Line, line_end(b, i))),
        b'-' if b.get(i + 1) == Some(&b'-')
            && b.get(i + 2)
                .is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control()) =>
        {
            Some((CommentKind::Line, line_end(b, i)))
        }
        b'/' if b.get(i + 1) == Some(&b'*') => {
            let kind = if b.get(i + 2) == Some(&b'!') {
                CommentKind::Executable
            } else {
                CommentKind::Block
            };
            let end = b[i + 2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(b.len(), |p| i + 2 + p + 2);
            Some((kind, end))
        }
        _ => None,
    }
}

fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p + 1)
}

/// The bodies of the plain `/* ... */` comments of `sql` (outside quotes),
/// where Vitess's query directives (`/*vt+ ALLOW_HASH_JOIN */`) are.
pub fn block_comments(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' | b'`' => i = quoted_end(b, i),
            _ => match comment_at(b, i) {
                Some((kind, end)) => {
                    if kind == CommentKind::Block {
                        let body_end = if sql[i..end].ends_with("*/") && end >= i + 4 {
                            end - 2
                        } else {
                            end
                        };
                        out.push(&sql[i + 2..body_end]);
                    }
                    i = end;
                }
                None => i += 1,
            },
        }
    }
    out
}

/// Splits `sql` on `;` outside quotes and comments. Each statement is
/// trimmed; empty and comment-only statements are dropped.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    // Fast path: no `;` at all.
    if !b.contains(&b';') {
        push_piece(&mut out, sql);
        return out;
    }
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' | b'`' => i = quoted_end(b, i),
            b';' => {
                push_piece(&mut out, &sql[start..i]);
                i += 1;
                start = i;
            }
            _ => match comment_at(b, i) {
                Some((_, end)) => i = end,
                None => i += 1,
            },
        }
    }
    push_piece(&mut out, &sql[start..]);
    out
}

fn push_piece<'a>(out: &mut Vec<&'a str>, piece: &'a str) {
    let piece = piece.trim();
    if !strip_leading_comments(piece).1.is_empty() {
        out.push(piece);
    }
}

/// Splits leading blanks and plain comments (not executable ones) off a
/// statement: returns `(comments, rest)`, `rest` trimmed at the start.
pub fn strip_leading_comments(sql: &str) -> (&str, &str) {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut comments_end = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        match comment_at(b, i) {
            Some((CommentKind::Line | CommentKind::Block, end)) => {
                i = end;
                comments_end = end;
            }
            _ => break,
        }
    }
    (sql[..comments_end].trim(), &sql[i..])
}

/// Splits trailing blanks, `;` and plain comments off a statement (as
/// Vitess does before planning): returns `(rest, comments)`.
pub fn strip_trailing_comments(sql: &str) -> (&str, &str) {
    let b = sql.as_bytes();
    // Find where the last code ends by scanning forward.
    let mut code_end = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() || c == b';' {
            i += 1;
            continue;
        }
        match c {
            b'\'' | b'"' | b'`' => {
                i = quoted_end(b, i);
                code_end = i;
            }
            _ => match comment_at(b, i) {
                Some((CommentKind::Executable, end)) => {
                    i = end;
                    code_end = end;
                }
                Some((_, end)) => i = end,
                None => {
                    i += 1;
                    code_end = i;
                }
            },
        }
    }
    (&sql[..code_end], sql[code_end..].trim())
}

/// The statement an executable comment that makes up the whole statement runs
/// (`/*!40101 SET NAMES utf8mb4 */`, as dump tools send them): its body, after any
/// leading plain comments; empty when the comment's version (`NNNNN`, MySQL's
/// `major*10000 + minor*100 + patch`) is newer than `server_version`, where MySQL skips
/// it (and answers that the query was empty). None when `sql` is not such a statement.
pub fn unwrap_executable(sql: &str, server_version: u32) -> Option<String> {
    let (leading, rest) = strip_leading_comments(sql);
    let b = rest.as_bytes();
    let Some((CommentKind::Executable, end)) = b.first().and_then(|_| comment_at(b, 0)) else {
        return None;
    };
    if !rest[..end].ends_with("*/") || !strip_trailing_comments(&rest[end..]).0.is_empty() {
        return None;
    }
    let inner = &rest[3..end - 2];
    let digits = inner.bytes().take_while(u8::is_ascii_digit).count();
    let body = if digits == 5 || digits == 6 {
        let version: u32 = inner[..digits].parse().ok()?;
        if version > server_version {
            return Some(String::new());
        }
        &inner[digits..]
    } else {
        inner
    };
    Some(format!("{leading} {}", body.trim()).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_executable_comment_is_its_body() {
        let run = |sql| unwrap_executable(sql, 101_100);
        assert_eq!(
            run("/*!40100 SET @@SQL_MODE='' */").as_deref(),
            Some("SET @@SQL_MODE=''")
        );
        assert_eq!(
            run("/* c */ /*!40103 SET TIME_ZONE='+00:00' */ ;").as_deref(),
            Some("/* c */ SET TIME_ZONE='+00:00'")
        );
        assert_eq!(run("/*! select 1 */").as_deref(), Some("select 1"));
        // Newer than the server: MySQL skips it.
        assert_eq!(run("/*!999999 select 1 */").as_deref(), Some(""));
        // Code around the comment is the statement itself.
        assert_eq!(run("select /*!40001 SQL_NO_CACHE */ 1"), None);
        assert_eq!(run("/*!40001 select */ 1"), None);
        assert_eq!(run("/*!40001 select 1"), None);
        assert_eq!(run("select 1"), None);
    }

    #[test]
    fn block_comments_outside_quotes() {
        let sql =
            "select /*vt+ ALLOW_HASH_JOIN */ a, '/* no */' from t /**/ -- /* line */\n/*! 1 */ #x";
        assert_eq!(block_comments(sql), vec!["vt+ ALLOW_HASH_JOIN ", ""]);
        assert_eq!(block_comments("select 1 /* open"), vec![" open"]);
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let sql = "select 1; select ';' ; select \"a;b\";select `c;d`;";
        assert_eq!(
            split_statements(sql),
            vec!["select 1", "select ';'", "select \"a;b\"", "select `c;d`"]
        );
        assert_eq!(
            split_statements("select 'it''s;' ; select 'a\\';b'"),
            vec!["select 'it''s;'", "select 'a\\';b'"]
        );
        assert_eq!(
            split_statements("select 1 -- x;y\n; select 2 # p;q\n;/* a;b */ select 3"),
            vec!["select 1 -- x;y", "select 2 # p;q", "/* a;b */ select 3"]
        );
        assert_eq!(
            split_statements("/*!40101 SET @a=1; */; select 1"),
            vec!["/*!40101 SET @a=1; */", "select 1"]
        );
    }

    #[test]
    fn drops_empty_and_comment_only_pieces() {
        assert_eq!(
            split_statements(" ; ;  /* c */ ; -- x\n"),
            Vec::<&str>::new()
        );
        assert_eq!(split_statements("  select 1  "), vec!["select 1"]);
        assert_eq!(split_statements(""), Vec::<&str>::new());
    }

    #[test]
    fn double_dash_needs_a_blank() {
        // `1--1` is arithmetic, not a comment.
        assert_eq!(
            split_statements("select 1--1; select 2"),
            vec!["select 1--1", "select 2"]
        );
    }

    #[test]
    fn leading_comments() {
        assert_eq!(
            strip_leading_comments("/* a */ -- b\n # c\n  select 1"),
            ("/* a */ -- b\n # c", "select 1")
        );
        assert_eq!(strip_leading_comments("select 1"), ("", "select 1"));
        assert_eq!(
            strip_leading_comments("/*!40101 set names utf8 */"),
            ("", "/*!40101 set names utf8 */")
        );
        assert_eq!(
            strip_leading_comments("/* never closed"),
            ("/* never closed", "")
        );
    }

    #[test]
    fn trailing_comments() {
        assert_eq!(
            strip_trailing_comments("select 1 /* t */ ; -- x"),
            ("select 1", "/* t */ ; -- x")
        );
        assert_eq!(
            strip_trailing_comments("select '/* no */'"),
            ("select '/* no */'", "")
        );
    }
}
