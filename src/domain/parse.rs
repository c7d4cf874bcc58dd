//! Small, composable parsers from JSON values into domain values that collect every problem with a JSON Pointer to
//! where it is, so a client learns about all bad fields at once.

use serde::Serialize;
use serde_json::{Map, Value};

/// One bad field: where (a JSON Pointer into the request body, or `?name` for a query parameter) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), detail: detail.into() }
    }
}

/// Result of parsing one value; errors carry pointers relative to that value.
pub type Check<T> = Result<T, Vec<FieldError>>;

/// A single error at the value itself.
pub fn fail<T>(detail: impl Into<String>) -> Check<T> {
    Err(vec![FieldError::new("", detail)])
}

/// Escape a key for use in a JSON Pointer (RFC 6901).
pub fn pointer_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn nest(mut errors: Vec<FieldError>, segment: &str) -> Vec<FieldError> {
    let segment = pointer_segment(segment);
    for e in &mut errors {
        e.pointer = format!("/{segment}{}", e.pointer);
    }
    errors
}

/// Walks a JSON object field by field and keeps every error.
#[derive(Debug)]
pub struct ObjectParser<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> ObjectParser<'a> {
    pub fn new(value: &'a Value) -> Result<Self, Vec<FieldError>> {
        match value.as_object() {
            Some(object) => Ok(Self { object, errors: Vec::new() }),
            None => fail("the body must be a JSON object"),
        }
    }

    /// Reject fields outside `allowed`; `read_only` ones get a message of their own.
    pub fn only(&mut self, allowed: &[&str], read_only: &[&str]) {
        for key in self.object.keys() {
            if read_only.contains(&key.as_str()) {
                self.errors.push(FieldError::new(format!("/{}", pointer_segment(key)), "is read-only"));
            } else if !allowed.contains(&key.as_str()) {
                self.errors.push(FieldError::new(format!("/{}", pointer_segment(key)), "is not a known field"));
            }
        }
    }

    fn record<T>(&mut self, key: &str, result: Check<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(errors) => {
                self.errors.extend(nest(errors, key));
                None
            }
        }
    }

    /// A field that must be present and not null.
    pub fn required<T>(&mut self, key: &str, parse: impl FnOnce(&Value) -> Check<T>) -> Option<T> {
        match self.object.get(key) {
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(format!("/{}", pointer_segment(key)), "is required"));
                None
            }
            Some(v) => {
                let result = parse(v);
                self.record(key, result)
            }
        }
    }

    /// A field with a default when absent; null is refused (use [`Self::nullable`] where null means "none").
    pub fn defaulted<T>(&mut self, key: &str, default: T, parse: impl FnOnce(&Value) -> Check<T>) -> Option<T> {
        match self.object.get(key) {
            None => Some(default),
            Some(Value::Null) => {
                self.errors.push(FieldError::new(format!("/{}", pointer_segment(key)), "must not be null"));
                None
            }
            Some(v) => {
                let result = parse(v);
                self.record(key, result)
            }
        }
    }

    /// A field that may be absent or null (both mean "none").
    pub fn nullable<T>(&mut self, key: &str, parse: impl FnOnce(&Value) -> Check<T>) -> Option<Option<T>> {
        match self.object.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(v) => {
                let result = parse(v);
                self.record(key, result).map(Some)
            }
        }
    }

    /// A field that may be absent (none), but not null: a change that leaves a field alone omits it.
    pub fn optional<T>(&mut self, key: &str, parse: impl FnOnce(&Value) -> Check<T>) -> Option<Option<T>> {
        match self.object.get(key) {
            None => Some(None),
            Some(v) => {
                let result = parse(v);
                self.record(key, result).map(Some)
            }
        }
    }

    /// The collected errors, or `value` when there are none.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Check<T> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        match value() {
            Some(v) => Ok(v),
            None => fail("is invalid"),
        }
    }
}

/// A string, trimmed, with at least `min` characters once trimmed and at most `max` as sent, and no control
/// characters other than line breaks and tabs anywhere. The contract states the same rules (`maxLength`, a pattern
/// on the text as sent), so whitespace that trimming drops neither makes a long text fit nor hides a control character.
pub fn text(value: &Value, min: usize, max: usize) -> Check<String> {
    let Some(sent) = value.as_str() else {
        return fail("must be a string");
    };
    if sent.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return fail("must not contain control characters");
    }
    let sent_len = sent.chars().count();
    if sent_len > max {
        return fail(format!("must have at most {max} characters, has {sent_len}"));
    }
    let s = sent.trim();
    if s.chars().count() < min {
        return fail(if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must have at least {min} characters")
        });
    }
    Ok(s.to_owned())
}

/// A one-line string: like [`text`] but without line breaks or tabs.
pub fn line(value: &Value, min: usize, max: usize) -> Check<String> {
    let s = text(value, min, max)?;
    if s.contains(['\n', '\r', '\t']) {
        return fail("must be a single line");
    }
    Ok(s)
}

pub fn boolean(value: &Value) -> Check<bool> {
    value.as_bool().map_or_else(|| fail("must be true or false"), Ok)
}

/// A whole number in `min..=max`. As in JSON Schema, a number with a zero fraction (`3.0`) is a whole number.
pub fn integer(value: &Value, min: i64, max: i64) -> Check<i64> {
    let whole = value.as_i64().or_else(|| {
        let f = value.as_f64()?;
        // Exact in f64 and in i64 range: the bounds callers use are far inside it.
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    });
    match whole {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => fail(format!("must be a whole number from {min} to {max}")),
        None if value.is_number() => fail(format!("must be a whole number from {min} to {max}")),
        None => fail("must be a number"),
    }
}

/// An array of at most `max` items, each parsed by `item`; errors point at the item's index.
pub fn array<T>(value: &Value, max: usize, mut item: impl FnMut(&Value) -> Check<T>) -> Check<Vec<T>> {
    let Some(items) = value.as_array() else {
        return fail("must be an array");
    };
    if items.len() > max {
        return fail(format!("must have at most {max} items, has {}", items.len()));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, v) in items.iter().enumerate() {
        match item(v) {
            Ok(t) => out.push(t),
            Err(e) => errors.extend(nest(e, &i.to_string())),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Refuse the second and later items with the same key; errors point at the repeated item.
pub fn unique_by<T, K: PartialEq>(items: Vec<T>, key: impl Fn(&T) -> K, what: &str) -> Check<Vec<T>> {
    let keys: Vec<K> = items.iter().map(&key).collect();
    let errors: Vec<FieldError> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| {
            keys[..i]
                .iter()
                .position(|earlier| earlier == k)
                .map(|first| FieldError::new(format!("/{i}"), format!("repeats {what} of item {first}")))
        })
        .collect();
    if errors.is_empty() { Ok(items) } else { Err(errors) }
}

/// A closed set of string values (an enum in the API).
pub trait ApiEnum: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;

    fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }

    fn choices() -> String {
        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
    }

    fn parse_value(value: &Value) -> Check<Self> {
        match value.as_str() {
            Some(s) => Self::from_name(s).map_or_else(|| fail(format!("must be one of {}", Self::choices())), Ok),
            None => fail(format!("must be a string, one of {}", Self::choices())),
        }
    }
}

/// Define an API enum: its variants, their wire names, and its [`ApiEnum`] and serde impls.
#[macro_export]
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $crate::domain::parse::ApiEnum for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::domain::parse::ApiEnum::as_str(*self))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::domain::parse::ApiEnum::as_str(*self))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_every_error_with_pointers() {
        let body = json!({"a": "", "b": [1, "x", 7], "c": null, "zzz": 1, "id": "1"});
        let mut p = ObjectParser::new(&body).unwrap();
        p.only(&["a", "b", "c"], &["id"]);
        let a = p.required("a", |v| text(v, 1, 10));
        let b = p.required("b", |v| array(v, 5, |i| integer(i, 1, 5)));
        let c = p.defaulted("c", 3, |v| integer(v, 1, 5));
        assert!(a.is_none() && b.is_none() && c.is_none());
        let errors = p.finish(|| Some(())).unwrap_err();
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/id", "/zzz", "/a", "/b/1", "/b/2", "/c"]);
        assert_eq!(errors[0].detail, "is read-only");
    }

    #[test]
    fn unique_by_points_at_repeats() {
        let errors = unique_by(vec!["a", "b", "a"], |s| *s, "the value").unwrap_err();
        assert_eq!(errors, vec![FieldError::new("/2", "repeats the value of item 0")]);
    }

    #[test]
    fn text_trims_and_bounds() {
        assert_eq!(text(&json!("  hi "), 1, 5).unwrap(), "hi");
        assert!(text(&json!("   "), 1, 5).is_err());
        assert!(text(&json!("abcdef"), 1, 5).is_err());
        assert!(text(&json!(5), 1, 5).is_err());
        assert!(line(&json!("a\nb"), 1, 5).is_err());
        assert!(text(&json!("a\u{0}b"), 1, 5).is_err());
        // Line breaks and tabs pass in a text and are trimmed from a line's ends; other control characters are
        // refused wherever they are, even where trimming would drop them.
        assert_eq!(text(&json!("a\r\n\tb"), 1, 9).unwrap(), "a\r\n\tb");
        assert_eq!(line(&json!("\tab\n"), 1, 5).unwrap(), "ab");
        assert!(text(&json!("ab\u{b}"), 1, 5).is_err());
        assert!(line(&json!("\u{85}ab"), 1, 5).is_err());
        assert!(text(&json!("ab    "), 1, 5).is_err(), "the limit counts the text as sent");
    }

    #[test]
    fn whole_numbers_may_carry_a_zero_fraction() {
        assert_eq!(integer(&json!(3.0), 1, 5).unwrap(), 3);
        assert!(integer(&json!(3.5), 1, 5).is_err());
        assert!(integer(&json!(6.0), 1, 5).is_err());
        assert!(integer(&json!(1e300), 1, 5).is_err());
    }
}
