//! Official code lists the service ships in `assets/` and embeds at build time.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

const COUNTRIES: &str = include_str!("../../assets/iso3166_alpha2.txt");
const LANGUAGES: &str = include_str!("../../assets/iso639_1.txt");
const NACE: &str = include_str!("../../assets/nace_rev2.csv");

static COUNTRY_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| lines(COUNTRIES));
static LANGUAGE_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| lines(LANGUAGES));

/// NACE Rev. 2 classes (level 4), code → English name.
static NACE_CLASSES: LazyLock<HashMap<String, String>> = LazyLock::new(|| nace_classes(NACE));

fn lines(text: &'static str) -> HashSet<&'static str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

fn nace_classes(text: &str) -> HashMap<String, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let mut classes = HashMap::new();
    for record in reader.records().flatten() {
        let (Some(code), Some(level), Some(name)) = (record.get(0), record.get(1), record.get(2)) else {
            continue;
        };
        if level == "4" {
            classes.insert(code.to_owned(), name.to_owned());
        }
    }
    classes
}

/// An assigned ISO 3166-1 alpha-2 code, upper case.
pub fn is_country(code: &str) -> bool {
    COUNTRY_SET.contains(code)
}

/// An ISO 639-1 language code, lower case.
pub fn is_language(code: &str) -> bool {
    LANGUAGE_SET.contains(code)
}

/// The English name of a NACE Rev. 2 class such as `74.10`.
pub fn nace_class_name(code: &str) -> Option<&'static str> {
    NACE_CLASSES.get(code).map(String::as_str)
}

/// How many NACE classes are shipped.
pub fn nace_class_count() -> usize {
    NACE_CLASSES.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lists_are_complete() {
        assert!(is_country("LU") && is_country("DE") && is_country("FR") && is_country("BE"));
        assert!(!is_country("XX") && !is_country("lu") && !is_country("EU"));
        assert!(is_language("lb") && is_language("fr") && is_language("de") && is_language("en"));
        assert!(!is_language("xx"));
        assert_eq!(nace_class_count(), 615);
    }

    #[test]
    fn creative_industry_classes_are_known() {
        for code in ["59.11", "58.21", "71.11", "73.11", "74.10", "74.20", "90.01", "90.02", "90.03", "14.13"] {
            assert!(nace_class_name(code).is_some(), "{code}");
        }
        assert_eq!(nace_class_name("74.10"), Some("Specialised design activities"));
        assert!(nace_class_name("74.1").is_none(), "groups are not classes");
    }
}
