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

/// One row of `tests/data/trade_words/*.csv`: a word a member of that sector types for its trade, in one of the four
/// languages, and the concept a person means by it.
#[derive(Debug, serde::Deserialize)]
struct TradeWord {
    sector: String,
    lang: String,
    term: String,
    concept: String,
}

/// One row of a judged list (`tests/data/README.md`): a term as profiles write it, and the concept judged for it (for a
/// word form, the concept its base form, masculine or singular, maps to).
#[derive(Debug, serde::Deserialize)]
struct JudgedForm {
    lang: String,
    term: String,
    concept: String,
}

/// Holds both parts of `tests/data/{name}_*.csv` (`rows_expected` rows in all) to their concepts: every row lands on
/// its concept, by a label where `by_label` says it must. Returns how many land by a label.
fn judged_forms(name: &str, rows_expected: usize, by_label: impl Fn(&str) -> bool) -> usize {
    use matchmaker::matching::vocabulary::MatchKind;
    let v = Vocabulary::shipped().unwrap();
    let (mut rows, mut wrong, mut labelled) = (0, Vec::new(), 0);
    for part in ["tuning", "heldout"] {
        let path = format!("{}/tests/data/{name}_{part}.csv", env!("CARGO_MANIFEST_DIR"));
        for row in csv::Reader::from_path(path).unwrap().deserialize::<JudgedForm>() {
            let row = row.unwrap();
            rows += 1;
            let want = v.find(&row.concept).unwrap_or_else(|| panic!("{row:?}: unknown concept"));
            let got = v.normalise(&row.term);
            let label = matches!(got.kind, MatchKind::Exact | MatchKind::Synonym);
            labelled += usize::from(label);
            if got.concept != Some(want) || (by_label(&row.term) && !label) {
                wrong.push(format!("{} ({}, {part}): expected {}, got {got:?}", row.term, row.lang, row.concept));
            }
        }
    }
    assert_eq!(rows, rows_expected, "{name}");
    assert!(wrong.is_empty(), "{} of {rows} {name} miss:\n{}", wrong.len(), wrong.join("\n"));
    labelled
}

/// A trade's name in its feminine or plural form lands where its masculine singular does: "Tontechnikerin" and
/// "Keramikerinnen", "relieuse", "illustratrices", "tapissière". Both parts of the judged list; before the rule for
/// these forms, 32 of 34 and 19 of 26 did.
#[test]
fn feminine_and_plural_trade_names_meet_the_masculine() {
    judged_forms("agent_nouns", 60, |_| false);
}

/// German and Luxembourgish trade words in the plural, as profiles list them, land on their singular's concept by its
/// label, not as a typo of it ("Restaurierungen", "Koproduktionen", "Stickereien", "Illustratiounen"). Both parts of
/// the judged list: before the first rule for such plurals, all landed but only 2 of 17 and 5 of 11 by a label; after
/// it 15 of 17 and 10 of 11; with the endings in "-n" and "-en" (below), all ("Fotografien", "Tonaufnahmen").
#[test]
fn german_and_luxembourgish_plurals_meet_their_singular() {
    judged_forms("plurals", 28, |_| true);
}

/// German and Luxembourgish plurals in "-n" and "-en" ("Skulpturen", "Keramiken", "Markenstrategien",
/// "Restauratoren", "Journalisten", Luxembourgish "Illustrateuren") land on their singular's concept by its label;
/// architects in the plural ("Landschaftsarchitekten") by fuzzy matching, as before (see `PLURAL_ENDINGS`). Before
/// the rule, 24 of 25 (2 by a label) and 15 of 16 (4 by a label) landed, the others by fuzzy matching or not at all
/// ("Mosaiken"); the held-out part was read once, after the rule.
#[test]
fn plurals_in_n_and_en_meet_their_singular() {
    judged_forms("n_plurals", 41, |term| !term.ends_with("ekten"));
}

/// English plurals of labels in "-y" ("documentaries", "brand strategies") and French plurals of labels in "-ie"
/// ("scénographies", "menuiseries") land on their singular's concept by its label. Before the rule, 14 of 19 and 7 of
/// 13 landed (10 and 6 by a label).
#[test]
fn plurals_of_words_in_y_and_ie_meet_their_singular() {
    judged_forms("y_plurals", 32, |_| true);
}

/// The second list of trade words (`tests/data/README.md`, "More trade words"): its tuning part lands on the concepts
/// judged for it ("scénario" stays free: the same word as the "scenarios" of calls); its held-out part, read once
/// after the labels the tuning part showed missing, at the level measured then: 62 of 71 on their concept (the same
/// before those labels), 1 on another (a partial match), 8 free where the vocabulary has no concept for them (game
/// porting, chatbots, casting) or no label.
#[test]
fn more_trade_words_land_on_their_concept() {
    type Row = JudgedForm;
    let v = Vocabulary::shipped().unwrap();
    let read = |part: &str| -> Vec<Row> {
        let path = format!("{}/tests/data/trade_words_more_{part}.csv", env!("CARGO_MANIFEST_DIR"));
        csv::Reader::from_path(path).unwrap().deserialize::<Row>().map(Result::unwrap).collect()
    };
    // (right, on another concept, free) for a part.
    let land = |rows: &[Row], misses: &mut Vec<String>| {
        let (mut right, mut other, mut free) = (0, 0, 0);
        for row in rows {
            let want = (!row.concept.is_empty()).then(|| v.find(&row.concept).expect("a known concept"));
            let got = v.normalise(&row.term).concept;
            match (want, got) {
                (w, g) if w == g => right += 1,
                (_, None) => free += 1,
                _ => other += 1,
            }
            if want != got || want.is_none() {
                misses.push(format!("{} ({}): {:?}", row.term, row.lang, got.map(|c| v.concept(c).id.clone())));
            }
        }
        (right, other, free)
    };
    let tuning = read("tuning");
    let mut misses = Vec::new();
    assert_eq!(land(&tuning, &mut misses), (143, 0, 0), "{misses:?}");
    let held = read("heldout");
    let mut misses = Vec::new();
    let (right, other, free) = land(&held, &mut misses);
    assert_eq!(held.len(), 71);
    assert!(right >= 62 && other <= 1, "{right} right, {other} elsewhere, {free} free: {misses:?}");
}

/// The trades of all eight sectors, as members name them in English, French, German and Luxembourgish, land on the
/// concept they mean: none free, none elsewhere. The lists were written from the trades, before the labels that
/// cover them (`tests/data/README.md`).
#[test]
fn the_trades_of_every_sector_are_covered() {
    use matchmaker::domain::parse::ApiEnum as _;
    let v = Vocabulary::shipped().unwrap();
    let dir = format!("{}/tests/data/trade_words", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut per_sector: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    let mut wrong = Vec::new();
    let mut rows = 0;
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "csv")) {
        for row in csv::Reader::from_path(path).unwrap().deserialize::<TradeWord>() {
            let row = row.unwrap();
            rows += 1;
            assert!(matchmaker::domain::member::Sector::from_name(&row.sector).is_some(), "{row:?}: unknown sector");
            let want = v.find(&row.concept).unwrap_or_else(|| panic!("{row:?}: unknown concept"));
            let got = v.normalise(&row.term).concept;
            if got != Some(want) {
                let got = got.map(|c| v.concept(c).id.clone());
                wrong.push(format!(
                    "{} ({}, {}): expected {}, got {got:?}",
                    row.term, row.lang, row.sector, row.concept
                ));
            }
            per_sector.entry(row.sector).or_default().insert(row.lang);
        }
    }
    assert!(rows >= 400, "{rows} trade words");
    assert_eq!(per_sector.len(), 8, "sectors: {:?}", per_sector.keys());
    for (sector, langs) in &per_sector {
        assert_eq!(langs.len(), 4, "{sector}: languages {langs:?}");
    }
    assert!(wrong.is_empty(), "{} of {rows} trade words miss their concept:\n{}", wrong.len(), wrong.join("\n"));
}
