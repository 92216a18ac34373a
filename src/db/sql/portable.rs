//! One statement text for both backends where only the placeholders differ: written with
//! SQLite's `?1`, `?2` (or bare `?`), and given to PostgreSQL as `$1`, `$2`. Everything else
//! in such a statement must mean the same on both (no `INSERT OR`, no `temp.`, booleans as
//! `TRUE`/`FALSE`); statements that differ more have per-backend twins beside their callers.

use std::borrow::Cow;

use crate::db::{Backend, DbConnection};

/// `sql` with the placeholders of the backend behind `conn`.
pub fn sql<'a>(conn: &DbConnection, sql: &'a str) -> Cow<'a, str> {
    match Backend::of(conn) {
        Backend::Sqlite => Cow::Borrowed(sql),
        Backend::Postgres => Cow::Owned(dollar_placeholders(sql)),
    }
}

/// `?1` becomes `$1`; a bare `?` becomes the next number. Quoted text is left alone.
pub fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    let mut in_quote = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_quote = !in_quote;
                out.push(c);
            }
            '?' if !in_quote => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str(&format!("${next}"));
                    next += 1;
                } else {
                    out.push('$');
                    out.push_str(&digits);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::dollar_placeholders as d;

    #[test]
    fn placeholders_become_numbered_and_quoted_text_stays() {
        assert_eq!(
            d("a = ?1 AND b < ?1 AND c = ?2"),
            "a = $1 AND b < $1 AND c = $2"
        );
        assert_eq!(d("VALUES (?, ?, ?)"), "VALUES ($1, $2, $3)");
        assert_eq!(d("x = '?' AND y = ?"), "x = '?' AND y = $1");
        assert_eq!(d("no params"), "no params");
    }
}
