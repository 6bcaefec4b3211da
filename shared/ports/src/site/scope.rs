//! The scope check behind [`SiteDb`](super::SiteDb): a small SQLite lexer
//! plus token-pattern rules that decide, from the SQL text alone, whether a
//! statement constrains by `site_id = ?1` as the rule in [`super`] requires.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// Keyword or identifier (quoted identifiers unquoted), lower-cased.
    Word(String),
    /// `?NNN`; `None` for a bare `?` or a named parameter.
    Param(Option<u32>),
    /// A string or blob literal (content dropped) or a number.
    Literal,
    Punct(char),
}

fn word(t: Option<&Tok>, w: &str) -> bool {
    matches!(t, Some(Tok::Word(x)) if x == w)
}

fn lex(sql: &str) -> Result<Vec<Tok>, &'static str> {
    let chars: Vec<char> = sql.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '-' if next == Some('-') => {
                while chars.get(i).is_some_and(|&c| c != '\n') {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                i += 2;
                loop {
                    match (chars.get(i), chars.get(i + 1)) {
                        (Some('*'), Some('/')) => break i += 2,
                        (Some(_), _) => i += 1,
                        (None, _) => return Err("unterminated comment"),
                    }
                }
            }
            '\'' | '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated quote"),
                        Some(&q) if q == close && chars.get(i + 1) == Some(&close) && c != '[' => {
                            text.push(q);
                            i += 2;
                        }
                        Some(&q) if q == close => break i += 1,
                        Some(&q) => {
                            text.push(q);
                            i += 1;
                        }
                    }
                }
                toks.push(if c == '\'' {
                    Tok::Literal
                } else {
                    Tok::Word(text.to_lowercase())
                });
            }
            '?' => {
                i += 1;
                let start = i;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let digits: String = chars[start..i].iter().collect();
                toks.push(Tok::Param(digits.parse().ok()));
            }
            ':' | '@' | '$' if next.is_some_and(ident) => {
                i += 1;
                while chars.get(i).copied().is_some_and(ident) {
                    i += 1;
                }
                toks.push(Tok::Param(None));
            }
            c if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) => {
                while chars
                    .get(i)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || c == '.')
                {
                    i += 1;
                }
                toks.push(Tok::Literal);
            }
            c if ident(c) => {
                let start = i;
                while chars.get(i).copied().is_some_and(ident) {
                    i += 1;
                }
                let w: String = chars[start..i].iter().collect();
                // x'ABCD' blob literal
                if (w == "x" || w == "X") && chars.get(i) == Some(&'\'') {
                    i += 1;
                    while chars.get(i).is_some_and(|&c| c != '\'') {
                        i += 1;
                    }
                    if chars.get(i).is_none() {
                        return Err("unterminated quote");
                    }
                    i += 1;
                    toks.push(Tok::Literal);
                } else {
                    toks.push(Tok::Word(w.to_lowercase()));
                }
            }
            c => {
                toks.push(Tok::Punct(c));
                i += 1;
            }
        }
    }
    // A trailing `;` is harmless; anything after a `;` is a second statement.
    while toks.last() == Some(&Tok::Punct(';')) {
        toks.pop();
    }
    if toks.contains(&Tok::Punct(';')) {
        return Err("more than one statement");
    }
    Ok(toks)
}

/// Nesting depth of each token (parentheses), so rules can look at the
/// statement's own clauses rather than subqueries.
fn depths(toks: &[Tok]) -> Vec<usize> {
    let mut depth = 0_usize;
    toks.iter()
        .map(|t| match t {
            Tok::Punct('(') => {
                depth += 1;
                depth - 1
            }
            Tok::Punct(')') => {
                depth = depth.saturating_sub(1);
                depth
            }
            _ => depth,
        })
        .collect()
}

/// Index of every `site_id = ?1` (also `==`) in `toks`.
fn site_filters(toks: &[Tok]) -> Vec<usize> {
    (0..toks.len())
        .filter(|&i| {
            word(toks.get(i), "site_id") && {
                let rest = &toks[i + 1..];
                matches!(rest, [Tok::Punct('='), Tok::Param(Some(1)), ..])
                    || matches!(
                        rest,
                        [Tok::Punct('='), Tok::Punct('='), Tok::Param(Some(1)), ..]
                    )
            }
        })
        .collect()
}

fn top_level_word(toks: &[Tok], depth: &[usize], from: usize, w: &str) -> Option<usize> {
    (from..toks.len()).find(|&i| depth[i] == 0 && word(toks.get(i), w))
}

pub(super) fn check_sql_scoped(sql: &str) -> Result<(), &'static str> {
    let toks = lex(sql)?;
    let depth = depths(&toks);
    let filters = site_filters(&toks);
    let has_word = |w: &str| toks.iter().any(|t| matches!(t, Tok::Word(x) if x == w));
    let or_replace = toks
        .windows(2)
        .any(|p| word(p.first(), "or") && word(p.get(1), "replace"));
    if or_replace {
        return Err("OR REPLACE can delete another site's row");
    }
    match toks.first() {
        Some(Tok::Word(w)) if w == "select" => {
            if filters.is_empty() {
                return Err("SELECT without `site_id = ?1`");
            }
            Ok(())
        }
        Some(Tok::Word(w)) if w == "with" => {
            if has_word("insert") || has_word("update") || has_word("delete") {
                return Err("data-modifying WITH is not supported through SiteDb");
            }
            if filters.is_empty() {
                return Err("query without `site_id = ?1`");
            }
            Ok(())
        }
        Some(Tok::Word(w)) if w == "update" || w == "delete" => {
            let Some(where_at) = top_level_word(&toks, &depth, 1, "where") else {
                return Err("UPDATE/DELETE without WHERE");
            };
            if !filters.iter().any(|&f| f > where_at) {
                return Err("UPDATE/DELETE without `site_id = ?1` in WHERE");
            }
            if w == "update" {
                let set_at = top_level_word(&toks, &depth, 1, "set").unwrap_or(where_at);
                let end = ["from", "where", "returning"]
                    .iter()
                    .filter_map(|k| top_level_word(&toks, &depth, set_at + 1, k))
                    .min()
                    .unwrap_or(toks.len());
                if toks[set_at..end]
                    .iter()
                    .any(|t| matches!(t, Tok::Word(x) if x == "site_id"))
                {
                    return Err("UPDATE may not assign site_id");
                }
            }
            Ok(())
        }
        Some(Tok::Word(w)) if w == "insert" => check_insert(&toks, &depth, &filters),
        Some(Tok::Word(w)) if w == "replace" => Err("REPLACE can delete another site's row"),
        _ => Err("only SELECT, INSERT, UPDATE and DELETE run through SiteDb"),
    }
}

fn check_insert(toks: &[Tok], depth: &[usize], filters: &[usize]) -> Result<(), &'static str> {
    const NO_COLUMNS: &str = "INSERT must list (site_id, …) first";
    let into = top_level_word(toks, depth, 1, "into").ok_or(NO_COLUMNS)?;
    // table name, optionally schema-qualified, optional `AS alias`
    let open = (into + 1..toks.len())
        .find(|&i| toks[i] == Tok::Punct('('))
        .ok_or(NO_COLUMNS)?;
    if toks[into + 1..open]
        .iter()
        .any(|t| !matches!(t, Tok::Word(_) | Tok::Punct('.')))
    {
        return Err(NO_COLUMNS);
    }
    if !(word(toks.get(open + 1), "site_id")
        && matches!(toks.get(open + 2), Some(Tok::Punct(',' | ')'))))
    {
        return Err(NO_COLUMNS);
    }
    let close = (open + 1..toks.len())
        .find(|&i| depth[i] == 0 && toks[i] == Tok::Punct(')'))
        .ok_or(NO_COLUMNS)?;
    let starts_with_site = |i: usize| {
        matches!(toks.get(i), Some(Tok::Param(Some(1))))
            && matches!(toks.get(i + 1), Some(Tok::Punct(',' | ')')) | None)
    };
    let mut i = close + 1;
    let body_end;
    if word(toks.get(i), "values") {
        i += 1;
        loop {
            if toks.get(i) != Some(&Tok::Punct('(')) || !starts_with_site(i + 1) {
                return Err("every VALUES tuple must start with ?1");
            }
            i = (i + 1..toks.len())
                .find(|&j| depth[j] == 0 && toks[j] == Tok::Punct(')'))
                .ok_or("unbalanced VALUES")?
                + 1;
            if toks.get(i) == Some(&Tok::Punct(',')) {
                i += 1;
            } else {
                break;
            }
        }
        body_end = i;
    } else if word(toks.get(i), "select") {
        if !starts_with_site(i + 1) {
            return Err("INSERT … SELECT must select ?1 first");
        }
        body_end = ["on", "returning"]
            .iter()
            .filter_map(|k| top_level_word(toks, depth, i + 1, k))
            .min()
            .unwrap_or(toks.len());
        if !filters.iter().any(|&f| f > i && f < body_end) {
            return Err("INSERT … SELECT without `site_id = ?1`");
        }
    } else {
        return Err("INSERT needs VALUES (?1, …) or SELECT ?1, …");
    }
    // Upsert: the DO UPDATE must be limited to this site's conflicting row.
    let do_update = (body_end..toks.len())
        .find(|&j| word(toks.get(j), "do") && word(toks.get(j + 1), "update"));
    if let Some(j) = do_update
        && !filters.iter().any(|&f| f > j)
    {
        return Err("ON CONFLICT DO UPDATE without WHERE site_id = ?1");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_statements_are_accepted() {
        for sql in [
            "SELECT id FROM users WHERE site_id = ?1 AND email = ?2",
            "select id from users where SITE_ID=?1",
            "SELECT u.id FROM users u WHERE u.site_id == ?1;",
            "SELECT * FROM users WHERE \"site_id\" = ?1",
            "SELECT count(*) AS n FROM users\n\tWHERE site_id\n=\n?1",
            "WITH x AS (SELECT id FROM users WHERE site_id = ?1) SELECT id FROM x",
            "UPDATE users SET display_name = ?2 WHERE site_id = ?1 AND id = ?3",
            "UPDATE users SET updated_at = ?2 WHERE id = ?3 AND site_id = ?1 RETURNING id",
            "DELETE FROM users WHERE site_id = ?1 AND id = ?2",
            "INSERT INTO users (site_id, id, email) VALUES (?1, ?2, ?3)",
            "insert into users(site_id,id) values(?1,?2),(?1,?3)",
            "INSERT OR IGNORE INTO users (site_id, id) VALUES (?1, ?2)",
            "INSERT INTO users (site_id, id) VALUES (?1, ?2) ON CONFLICT (site_id, id) DO NOTHING",
            "INSERT INTO users (site_id, id, n) VALUES (?1, ?2, 1) ON CONFLICT (id) \
             DO UPDATE SET n = n + 1 WHERE site_id = ?1",
            "INSERT INTO users (site_id, id) SELECT ?1, id FROM other WHERE site_id = ?1",
            "INSERT INTO users (site_id, id) VALUES (?1, ?2) RETURNING id",
        ] {
            assert_eq!(check_sql_scoped(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn an_unterminated_blob_literal_is_refused_and_hides_no_second_statement() {
        // SQLite reads `x'…` to the end as one (broken) literal; the check must
        // not let the text after it escape the multi-statement rule.
        for sql in [
            "SELECT id FROM users WHERE site_id = ?1 AND k = x'",
            "SELECT id FROM users WHERE site_id = ?1 AND k = X'00\n; DELETE FROM users WHERE site_id = ?1",
        ] {
            assert_eq!(check_sql_scoped(sql), Err("unterminated quote"), "{sql}");
        }
        assert_eq!(
            check_sql_scoped("SELECT id FROM users WHERE site_id = ?1 AND k = x'00ff'"),
            Ok(())
        );
    }

    #[test]
    fn unscoped_statements_are_refused() {
        for sql in [
            "SELECT id FROM users",
            "SELECT id FROM users WHERE id = ?1",
            "SELECT id FROM users WHERE site_id = ?10",
            "SELECT id FROM users WHERE site_id = ?2",
            "SELECT id FROM users WHERE other_site_id = ?1",
            "SELECT id FROM users WHERE site_id != ?1",
            "SELECT id FROM users WHERE site_id <= ?1",
            "SELECT id FROM users WHERE site_id = ?",
            "SELECT id FROM users WHERE site_id = :site",
            "SELECT id FROM users -- WHERE site_id = ?1",
            "SELECT id FROM users /* WHERE site_id = ?1 */",
            "SELECT id FROM users WHERE name = 'site_id = ?1'",
            "SELECT id FROM users WHERE site_id = ?1; DELETE FROM users",
            "UPDATE users SET display_name = ?2",
            "UPDATE users SET display_name = (SELECT 1 WHERE site_id = ?1) WHERE id = ?2",
            "UPDATE users SET site_id = ?2 WHERE site_id = ?1",
            "UPDATE OR REPLACE users SET id = ?2 WHERE site_id = ?1",
            "DELETE FROM users",
            "DELETE FROM users WHERE id IN (SELECT 1) AND id = ?2",
            "INSERT INTO users (id, site_id) VALUES (?2, ?1)",
            "INSERT INTO users VALUES (?1, ?2)",
            "INSERT INTO users (site_id, id) VALUES (?1, ?2), (?3, ?4)",
            "INSERT INTO users (site_id, id) VALUES (?2, ?1)",
            "INSERT INTO users (site_id, id) VALUES (?10, ?2)",
            "INSERT INTO users (site_id, id) SELECT ?1, id FROM users",
            "INSERT INTO users (site_id, id) SELECT site_id, id FROM users WHERE site_id = ?1",
            "INSERT INTO users (site_id, id) DEFAULT VALUES",
            "INSERT INTO users (site_id, id) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET id = ?3",
            "INSERT OR REPLACE INTO users (site_id, id) VALUES (?1, ?2)",
            "REPLACE INTO users (site_id, id) VALUES (?1, ?2)",
            "WITH x AS (SELECT 1) DELETE FROM users WHERE site_id = ?1",
            "PRAGMA foreign_keys = OFF",
            "DROP TABLE users",
            "",
            "SELECT 'unterminated",
        ] {
            assert!(check_sql_scoped(sql).is_err(), "{sql}");
        }
    }
}
