//! Profile and project terms: what someone wrote (kept as typed, trimmed), an optional strength, an optional concept
//! the caller chose (from the autocomplete), and how the term maps to the vocabulary.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::fold::fold;
use super::parse::{Check, ObjectParser, array, fail, integer, line, unique_by};

pub const TERM_MAX: usize = 100;
pub const TERMS_MAX: usize = 50;

/// The text of a term: what the member typed, trimmed, and nothing else changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Term(String);

impl Term {
    pub fn parse(value: &Value) -> Check<Self> {
        line(value, 1, TERM_MAX).map(Self)
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Case-, accent- and punctuation-folded form used for search.
    pub fn folded(&self) -> String {
        fold(&self.0)
    }
}

/// How a term maps to the vocabulary (filled in by the matcher before a write).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolution {
    /// The concept id, or `None` for a free term.
    pub concept: Option<String>,
    /// `exact`, `synonym`, `fuzzy`, `chosen` or `free`.
    pub kind: &'static str,
    /// For fuzzy matches, the similarity (0..1).
    pub similarity: Option<f64>,
}

impl Resolution {
    pub fn free() -> Self {
        Self { concept: None, kind: "free", similarity: None }
    }
}

/// A term with its strength (level of an offer, priority of a need, weight of a required skill; none for
/// interests and themes).
#[derive(Debug, Clone, PartialEq)]
pub struct TermItem {
    pub term: Term,
    pub strength: Option<u8>,
    /// A concept id the caller chose; used instead of normalising the text.
    pub chosen: Option<String>,
    pub resolution: Resolution,
}

/// The columns a term is stored in, whichever table holds it: text, folded text, strength, concept, how it
/// matched, similarity.
pub type StoredColumns = (String, String, Option<i32>, Option<String>, String, Option<f64>);

impl TermItem {
    pub fn columns(&self) -> StoredColumns {
        (
            self.term.as_str().to_owned(),
            self.term.folded(),
            self.strength.map(i32::from),
            self.resolution.concept.clone(),
            self.resolution.kind.to_owned(),
            self.resolution.similarity,
        )
    }
}

/// Read-only fields of a term item that clients may send back unchanged (a GET body reused in a PATCH).
const ECHOED: &[&str] = &["match", "similarity"];

fn item(value: &Value, strength_key: Option<&str>) -> Check<TermItem> {
    let mut p = ObjectParser::new(value)?;
    let mut allowed = vec!["term", "concept"];
    allowed.extend(strength_key);
    allowed.extend(ECHOED);
    p.only(&allowed, &[]);
    let term = p.required("term", Term::parse);
    let strength = match strength_key {
        Some(k) => p.required(k, |v| integer(v, 1, 5)).map(|n| u8::try_from(n).ok()),
        None => Some(None),
    };
    let chosen = p.nullable("concept", |v| line(v, 1, 300));
    p.finish(|| Some(TermItem { term: term?, strength: strength?, chosen: chosen?, resolution: Resolution::free() }))
}

/// A list of terms; the same term (folded) twice is refused.
pub fn list(value: &Value, strength_key: Option<&str>) -> Check<Vec<TermItem>> {
    let items = array(value, TERMS_MAX, |v| item(v, strength_key))?;
    unique_by(items, |t| t.term.folded(), "the term")
}

/// A list as clients send it: a chosen concept is kept, the rest is the server's.
pub fn input_json(list: &[TermItem], strength_key: Option<&str>) -> Value {
    Value::Array(
        list.iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("term".into(), json!(t.term.as_str()));
                if let (Some(k), Some(s)) = (strength_key, t.strength) {
                    m.insert(k.into(), json!(s));
                }
                if let Some(c) = &t.chosen {
                    m.insert("concept".into(), json!(c));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// A list as the API shows it: with each term's concept and how it matched.
pub fn output_json(list: &[TermItem], strength_key: Option<&str>) -> Value {
    Value::Array(
        list.iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("term".into(), json!(t.term.as_str()));
                if let (Some(k), Some(s)) = (strength_key, t.strength) {
                    m.insert(k.into(), json!(s));
                }
                m.insert("concept".into(), json!(t.resolution.concept));
                m.insert("match".into(), json!(t.resolution.kind));
                if let Some(s) = t.resolution.similarity {
                    m.insert("similarity".into(), json!(s));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// A string that must name a concept: checked by the caller against the vocabulary.
pub fn require_concept(id: Option<&String>) -> Check<()> {
    match id {
        Some(s) if s.trim().is_empty() => fail("must not be empty"),
        _ => Ok(()),
    }
}
