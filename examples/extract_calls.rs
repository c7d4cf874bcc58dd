//! Show what the importer reads from each call of an export: its required skills and themes.
//!
//!     cargo run --release --example extract_calls -- tests/fixtures/eu_open_calls_2024-10.csv [PREFIX]
#![allow(clippy::unwrap_used, clippy::print_stdout, reason = "a developer tool")]

use chrono::Utc;
use matchmaker::import::{read_rows, row_to_draft};
use matchmaker::matching::Vocabulary;

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().unwrap_or_else(|| "tests/fixtures/eu_open_calls_2024-10.csv".to_owned());
    let prefix = args.next().unwrap_or_default();
    let vocab = Vocabulary::shipped().unwrap();
    let data = std::fs::read(file).unwrap();
    for (_, row) in read_rows(&data).unwrap() {
        if !row["identifier"].starts_with(&prefix) {
            continue;
        }
        let (_, draft) = row_to_draft(&row, &vocab, Utc::now()).unwrap();
        let skills: Vec<String> =
            draft.required_skills.iter().map(|t| format!("{}×{}", t.term.as_str(), t.strength.unwrap_or(1))).collect();
        let themes: Vec<&str> = draft.themes.iter().map(|t| t.term.as_str()).collect();
        println!("{}\n  skills: {}\n  themes: {}", row["identifier"], skills.join(", "), themes.join(", "));
    }
}
