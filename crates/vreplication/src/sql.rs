//! Small SQL text helpers.

/// `name` as a backquoted identifier.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `db.table`, both quoted.
pub fn qualified(db: &str, table: &str) -> String {
    format!("{}.{}", ident(db), ident(table))
}

/// `(?, ?, ...)` with `n` placeholders.
pub fn placeholders(n: usize) -> String {
    let marks: Vec<&str> = std::iter::repeat_n("?", n).collect();
    format!("({})", marks.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers() {
        assert_eq!(qualified("d`b", "t"), "`d``b`.`t`");
        assert_eq!(placeholders(3), "(?, ?, ?)");
    }
}
