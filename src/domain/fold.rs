//! Case- and accent-folding for search. Computed in Rust on write so that SQLite (which folds ASCII only) and
//! PostgreSQL (whose `LIKE` is case-sensitive) return the same rows for the same query.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Fold text for matching: compatibility decomposition, marks stripped, lower-cased, a few letters that do not
/// decompose spelled out (ß → ss, æ → ae, œ → oe, ø → o, ł → l, đ → d), every run of other characters than letters and
/// digits turned into one space, trimmed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            for lower in c.to_lowercase() {
                match lower {
                    'ß' => out.push_str("ss"),
                    'æ' => out.push_str("ae"),
                    'œ' => out.push_str("oe"),
                    'ø' => out.push('o'),
                    'ł' => out.push('l'),
                    'đ' | 'ð' => out.push('d'),
                    'þ' => out.push_str("th"),
                    other => out.push(other),
                }
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// The words of a free-text search: folded, each once, at most [`SearchWords::MAX_WORDS`] of them from at most
/// [`SearchWords::MAX_CHARS`] characters. Every word becomes one condition of a query, so the bound lives in the
/// type: a query built from it can't grow with its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchWords(Vec<String>);

impl SearchWords {
    pub const MAX_CHARS: usize = 200;
    pub const MAX_WORDS: usize = 10;

    /// `None` for a text with no words; an error saying which limit it exceeds.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        if text.chars().count() > Self::MAX_CHARS {
            return Err(format!("must have at most {} characters", Self::MAX_CHARS));
        }
        let mut words: Vec<String> = Vec::new();
        for word in fold(text).split(' ').filter(|w| !w.is_empty()) {
            if !words.iter().any(|w| w == word) {
                words.push(word.to_owned());
            }
        }
        if words.len() > Self::MAX_WORDS {
            return Err(format!("must have at most {} different words", Self::MAX_WORDS));
        }
        Ok((!words.is_empty()).then_some(Self(words)))
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }
}

/// Escape `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `%text%` with `text` escaped.
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", like_escape(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(fold("  Modélisation 3D "), "modelisation 3d");
        assert_eq!(fold("ÉCOLE d'Art—Esch/Alzette"), "ecole d art esch alzette");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Œuvre Ærø"), "oeuvre aero");
        assert_eq!(fold("3D-Modellierung"), "3d modellierung");
        assert_eq!(fold("ｆｕｌｌ　ｗｉｄｔｈ"), "full width");
        assert_eq!(fold("!!!"), "");
    }

    #[test]
    fn search_words_are_folded_distinct_and_bounded() {
        let w = SearchWords::parse("Atelier  atelier Lumen-Esch").unwrap().unwrap();
        assert_eq!(w.words(), ["atelier", "lumen", "esch"]);
        assert_eq!(SearchWords::parse(" ,; ").unwrap(), None);
        assert!(SearchWords::parse(&"a ".repeat(9000)).is_err(), "too long");
        assert_eq!(SearchWords::parse(&"a ".repeat(50)).unwrap().unwrap().words(), ["a"], "repeats are one word");
        let eleven = "k1-k2-k3-k4-k5-k6-k7-k8-k9-k10-k11";
        assert!(SearchWords::parse(eleven).unwrap_err().contains("10 different words"), "counted after folding");
    }

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(like_escape(r"100%_a\b"), r"100\%\_a\\b");
        assert_eq!(contains_pattern("x"), "%x%");
    }
}
