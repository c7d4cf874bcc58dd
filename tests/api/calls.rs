//! Reading calls right: the skills the import extracts from the fixture's calls, judged against a labelled sample
//! of 66 calls (`tests/data/calls_labelled.json`, written before the extraction was judged): every creative and
//! heritage call of the export and a spread of others, each with the skills a person lists for it (`required`),
//! further ones that would not be wrong (`acceptable`), and the false friends its text holds.
//!
//! An extracted skill is right when its concept is one a labelled phrase maps to (through the same vocabulary) or a
//! neighbour of one. Precision is over every skill extracted from the sample; recall over the required phrases that
//! the vocabulary knows at all.

use std::collections::{HashMap, HashSet};

use chrono::DateTime;
use matchmaker::domain::project::CallFilter;
use matchmaker::import::{read_rows, row_to_draft};
use matchmaker::matching::Vocabulary;
use matchmaker::matching::vocabulary::{ConceptIdx, Lang};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Labelled {
    calls: Vec<Call>,
}

#[derive(Debug, Deserialize)]
struct Call {
    reference: String,
    identifier: String,
    creative: bool,
    sectors: Vec<String>,
    required: Vec<String>,
    acceptable: Vec<String>,
}

fn labelled() -> Labelled {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/calls_labelled.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn concepts(vocab: &Vocabulary, phrases: &[String]) -> HashSet<ConceptIdx> {
    phrases.iter().filter_map(|p| vocab.normalise(p).concept).collect()
}

/// What the extraction gets right and wrong on the sample: (extracted, right, required known, required found,
/// the wrong ones).
fn judge(vocab: &Vocabulary) -> (usize, usize, usize, usize, Vec<String>) {
    let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/eu_open_calls_2024-10.csv")).unwrap();
    let rows: HashMap<String, HashMap<String, String>> =
        read_rows(&data).unwrap().into_iter().map(|(_, r)| (r["reference"].clone(), r)).collect();
    let now = DateTime::parse_from_rfc3339("2024-10-15T09:00:00Z").unwrap().to_utc();
    let (mut extracted, mut right, mut known, mut found) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for call in labelled().calls {
        let (_, draft) = row_to_draft(&rows[&call.reference], vocab, now).unwrap();
        let required = concepts(vocab, &call.required);
        let mut fine = required.clone();
        fine.extend(concepts(vocab, &call.acceptable));
        let near: HashSet<ConceptIdx> = fine.iter().flat_map(|&c| vocab.neighbours(c)).collect();
        let got: HashMap<ConceptIdx, &str> = draft
            .required_skills
            .iter()
            .filter_map(|t| Some((vocab.find(t.resolution.concept.as_deref()?)?, t.term.as_str())))
            .collect();
        for (&c, read) in &got {
            extracted += 1;
            if fine.contains(&c) || near.contains(&c) {
                right += 1;
            } else {
                wrong.push(format!("{}: {} (read from “{read}”)", call.identifier, vocab.concept(c).label(Lang::En)));
            }
        }
        known += required.len();
        found += required.iter().filter(|c| got.contains_key(c)).count();
    }
    (extracted, right, known, found, wrong)
}

#[test]
fn skills_read_from_calls_are_what_a_person_lists() {
    let vocab = Vocabulary::shipped().unwrap();
    let (extracted, right, known, found, wrong) = judge(&vocab);
    let precision = right as f64 / extracted.max(1) as f64;
    let recall = found as f64 / known.max(1) as f64;
    eprintln!(
        "calls: {right}/{extracted} extracted skills right (precision {precision:.2}); {found}/{known} required skills \
         the vocabulary knows were found (recall {recall:.2})\nwrong: {wrong:#?}"
    );
    // Precision comes first (a wrong skill sends members to calls that are not theirs); recall is stated in the
    // README and held at today's floor so that a change which loses it shows.
    assert!(extracted >= 25, "the sample's calls yield skills: {extracted}");
    assert!(precision >= 0.9, "precision {precision:.2}: {wrong:#?}");
    assert!(recall >= 0.15, "recall {recall:.2}");
}

#[test]
fn imported_calls_get_the_sectors_a_person_gives_them() {
    let vocab = Vocabulary::shipped().unwrap();
    let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/eu_open_calls_2024-10.csv")).unwrap();
    let rows: HashMap<String, HashMap<String, String>> =
        read_rows(&data).unwrap().into_iter().map(|(_, r)| (r["reference"].clone(), r)).collect();
    let now = DateTime::parse_from_rfc3339("2024-10-15T09:00:00Z").unwrap().to_utc();
    let (mut creative, mut with_sector, mut non_creative, mut without) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for call in labelled().calls {
        let (_, draft) = row_to_draft(&rows[&call.reference], &vocab, now).unwrap();
        let given: HashSet<String> = draft.sectors.iter().map(|s| s.to_string()).collect();
        if call.creative && !call.sectors.is_empty() {
            creative += 1;
            if call.sectors.iter().any(|s| given.contains(s)) {
                with_sector += 1;
            } else {
                misses.push(format!("{}: {given:?}, expected one of {:?}", call.identifier, call.sectors));
            }
        } else {
            non_creative += 1;
            if given.is_empty() {
                without += 1;
            } else {
                misses.push(format!("{}: {given:?}, expected none", call.identifier));
            }
        }
    }
    eprintln!(
        "sectors: {with_sector}/{creative} creative calls share one; {without}/{non_creative} others have none\n\
         misses: {misses:#?}"
    );
    assert!(with_sector * 10 >= creative * 8, "{with_sector}/{creative} creative calls get a sector they have");
    assert!(without * 10 >= non_creative * 8, "{without}/{non_creative} other calls get no sector");
}

/// The filter leaves out calls of programmes outside the creative industries, of types of action no member applies
/// to, and calls nothing of the cluster's is read from; never one the realistic evaluation expects for a member
/// (either part), never a call a person calls creative (the labelled sample) by its programme or type, and by its
/// text only one that could match no member anyway (no
/// skill, theme or sector read from it: 4 of the 31, listed for staff with why).
#[test]
fn calls_left_out_are_none_the_cluster_wants() {
    let vocab = Vocabulary::shipped().unwrap();
    let filter = CallFilter::default();
    let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/eu_open_calls_2024-10.csv")).unwrap();
    let rows: HashMap<String, HashMap<String, String>> =
        read_rows(&data).unwrap().into_iter().map(|(_, r)| (r["reference"].clone(), r)).collect();
    let now = DateTime::parse_from_rfc3339("2024-10-15T09:00:00Z").unwrap().to_utc();
    let left_out = |reference: &str| {
        let row = &rows[reference];
        filter.left_out(&row_to_draft(row, &vocab, now).unwrap().1, row.get("action_type").map_or("", String::as_str))
    };
    let (mut creative, mut creative_out, mut others, mut others_out) = (0, Vec::new(), 0, 0);
    for call in labelled().calls {
        let why = left_out(&call.reference);
        if call.creative {
            creative += 1;
            if let Some(why) = why {
                assert!(why.contains("UNREAD"), "{} is a creative call: {why}", call.identifier);
                let draft = row_to_draft(&rows[&call.reference], &vocab, now).unwrap().1;
                assert!(draft.required_skills.is_empty() && draft.themes.is_empty() && draft.sectors.is_empty());
                creative_out.push(call.identifier);
            }
        } else {
            others += 1;
            others_out += usize::from(why.is_some());
        }
    }
    let mut expected = 0;
    for part in ["dev", "heldout"] {
        let path = format!("{}/tests/data/realistic/judgements_{part}.json", env!("CARGO_MANIFEST_DIR"));
        let judgements: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for member in judgements["members"].as_object().unwrap().values() {
            for reference in
                member["expected_projects"].as_array().unwrap().iter().filter_map(|p| p.as_str()?.strip_prefix("ref:"))
            {
                expected += 1;
                assert_eq!(left_out(reference), None, "{reference} is expected for a member");
            }
        }
    }
    let reasons: Vec<String> = rows.keys().filter_map(|r| left_out(r)).collect();
    let by_programme = reasons.iter().filter(|why| why.contains("programme")).count();
    let by_type = reasons.iter().filter(|why| why.contains("ACTION_TYPES")).count();
    eprintln!(
        "left out: {} of {} calls ({by_programme} by programme, {by_type} by type of action, {} with nothing read); \
         of the labelled sample, {} of {creative} creative calls ({creative_out:?}, nothing read) and {others_out} of \
         {others} others; 0 of {expected} calls expected for members",
        reasons.len(),
        rows.len(),
        reasons.len() - by_programme - by_type,
        creative_out.len()
    );
    assert!(creative_out.len() <= 4, "creative calls left out: {creative_out:?}");
    assert!(creative >= 19 && expected >= 10, "{creative} creative, {expected} expected");
    assert!(others_out >= 1, "the sample's defence calls are left out: {others_out} of {others}");
}
