//! Query strings of console pages: a filter form's fields as sent, and the links that keep them.

/// A query's fields as sent, trimmed: blanks (a field left unset) and the names in `drop` left out.
pub fn pairs(query: &str, drop: &[&str]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, v)| !v.trim().is_empty() && !drop.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.trim().to_owned()))
        .collect()
}

/// The value of `name` among `pairs`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub fn encode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// `path?query`, or `path` alone.
pub fn with_query(path: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() { path.to_owned() } else { format!("{path}?{}", encode(pairs)) }
}

/// `to` with one more parameter.
pub fn with_param(to: &str, name: &str, value: &str) -> String {
    let sep = if to.contains('?') { '&' } else { '?' };
    format!("{to}{sep}{}", encode(&[(name.to_owned(), value.to_owned())]))
}

/// The links of a list paged by cursor: the next page (`next_cursor`, when a row beyond this page was read) and the
/// first page (when this is not it), both keeping the page's filters.
pub fn cursor_links(
    path: &str,
    pairs: &[(String, String)],
    next_cursor: Option<String>,
    on_first_page: bool,
) -> (Option<String>, Option<String>) {
    let filters: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "cursor").cloned().collect();
    let next = next_cursor.map(|cursor| {
        let mut p = filters.clone();
        p.push(("cursor".to_owned(), cursor));
        with_query(path, &p)
    });
    (next, (!on_first_page).then(|| with_query(path, &filters)))
}
