//! The shipped vocabulary against the labelled variants: the held-out half sets the bar (precision ≥ 0.95, recall
//! ≥ 0.8) and none of its variants may be a label of the vocabulary.

use matchmaker::domain::fold::fold;
use matchmaker::matching::Vocabulary;

#[derive(Debug, serde::Deserialize)]
pub struct Variant {
    pub variant: String,
    pub expected: String,
    pub category: String,
}

pub fn variants(file: &str) -> Vec<Variant> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    csv::Reader::from_path(path).unwrap().deserialize().map(Result::unwrap).collect()
}

/// (precision, recall, the misses) of the vocabulary on a set of variants.
pub fn evaluate(v: &Vocabulary, set: &[Variant]) -> (f64, f64, Vec<String>) {
    let (mut predicted, mut correct, mut positives) = (0, 0, 0);
    let mut misses = Vec::new();
    for item in set {
        let got = v.normalise(&item.variant).concept.map(|c| v.concept(c).id.clone());
        let want =
            (!item.expected.is_empty()).then(|| v.find(&item.expected).map(|c| v.concept(c).id.clone())).flatten();
        positives += usize::from(want.is_some());
        if got.is_some() {
            predicted += 1;
        }
        if got.is_some() && got == want {
            correct += 1;
        } else if got.is_some() || want.is_some() {
            misses.push(format!("{} ({}): expected {:?}, got {:?}", item.variant, item.category, want, got));
        }
    }
    let precision = if predicted == 0 { 1.0 } else { correct as f64 / predicted as f64 };
    let recall = if positives == 0 { 1.0 } else { correct as f64 / positives as f64 };
    (precision, recall, misses)
}

#[test]
fn held_out_variants_meet_the_bar() {
    let v = Vocabulary::shipped().unwrap();
    let set = variants("variants_heldout.csv");
    assert!(set.len() >= 150, "the held-out half has {} variants", set.len());
    let (precision, recall, misses) = evaluate(&v, &set);
    eprintln!("held-out: precision {precision:.3}, recall {recall:.3} on {} variants", set.len());
    assert!(precision >= 0.95 && recall >= 0.8, "precision {precision:.3}, recall {recall:.3}\n{}", misses.join("\n"));
}

#[test]
fn held_out_variants_are_not_labels() {
    let v = Vocabulary::shipped().unwrap();
    let labels: std::collections::HashSet<String> =
        v.concept_ids().flat_map(|(i, _)| v.labels_of(i).map(|(t, _)| t.to_lowercase()).collect::<Vec<_>>()).collect();
    for item in variants("variants_heldout.csv") {
        assert!(!labels.contains(&item.variant.to_lowercase()), "held-out variant `{}` is a label", item.variant);
        assert!(item.expected.is_empty() || v.find(&item.expected).is_some(), "unknown concept {}", item.expected);
    }
    assert!(v.len() > 500 && fold("x") == "x");
}

#[test]
fn the_shipped_vocabulary_covers_every_language() {
    let v = Vocabulary::shipped().unwrap();
    for lang in matchmaker::matching::vocabulary::Lang::ALL {
        let concepts = v.concept_ids().filter(|(i, _)| v.labels_of(*i).any(|(_, l)| l == lang)).count();
        let needed = if matches!(
            lang,
            matchmaker::matching::vocabulary::Lang::De | matchmaker::matching::vocabulary::Lang::Lb
        ) {
            150
        } else {
            500
        };
        assert!(concepts >= needed, "{lang:?}: {concepts} concepts have labels");
    }
}
