//! Precision and recall of the fuzzy threshold on the tuning half of the labelled variants, to choose
//! `DEFAULT_FUZZY_THRESHOLD`. The held-out half is never used for this.
//!
//!     cargo run --release --example tune_fuzzy
#![allow(clippy::unwrap_used, clippy::print_stdout, reason = "a developer tool")]

use matchmaker::matching::Vocabulary;

#[derive(Debug, serde::Deserialize)]
struct Variant {
    variant: String,
    expected: String,
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/variants_tuning.csv");
    let set: Vec<Variant> = csv::Reader::from_path(path).unwrap().deserialize().map(Result::unwrap).collect();
    let mut v = Vocabulary::shipped().unwrap();
    println!("threshold  precision  recall  (tuning half, {} variants)", set.len());
    for t in [0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.92, 0.94] {
        v.fuzzy_threshold = t;
        let (mut predicted, mut correct, mut positives) = (0, 0, 0);
        for item in &set {
            let got = v.normalise(&item.variant).concept;
            let want = (!item.expected.is_empty()).then(|| v.find(&item.expected)).flatten();
            positives += usize::from(want.is_some());
            predicted += usize::from(got.is_some());
            correct += usize::from(got.is_some() && got == want);
        }
        let p = correct as f64 / predicted.max(1) as f64;
        let r = correct as f64 / positives.max(1) as f64;
        println!("{t:9.2}  {p:9.3}  {r:6.3}");
    }
}
