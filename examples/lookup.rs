//! What the vocabulary makes of terms, one per line on standard input: the concept, its English label and the kind
//! of match, or `free`. For checking a list of trade words before adding labels.
//!
//!     printf 'Sounddesign\nGlasuren\n' | cargo run --example lookup
//!
//! `--dir <folder>` reads the vocabulary's files from that folder at run time (named as in `assets/vocabulary/`)
//! instead of the ones built in, so that edits can be tried without building again.
#![allow(clippy::unwrap_used, clippy::print_stdout, reason = "a developer tool")]

use std::io::BufRead as _;

use matchmaker::matching::Vocabulary;
use matchmaker::matching::vocabulary::Lang;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let vocab = match args.iter().position(|a| a == "--dir") {
        Some(i) => Vocabulary::read_dir(std::path::Path::new(&args[i + 1])).unwrap(),
        None => Vocabulary::shipped().unwrap(),
    };
    for line in std::io::stdin().lock().lines() {
        let term = line.unwrap();
        let term = term.trim();
        if term.is_empty() || term.starts_with('#') {
            continue;
        }
        let found = vocab.normalise(term);
        match found.concept {
            Some(idx) => {
                let c = vocab.concept(idx);
                println!("{term}\t{:?}\t{}\t{}", found.kind, c.id, c.label(Lang::En));
            }
            None => println!("{term}\tfree"),
        }
    }
}
