//! The vocabulary: concepts with a stable id (the ESCO URI where one exists, else `mm:…`), labels in English,
//! French, German and Luxembourgish, and the indexes that map what a member typed to a concept.
//!
//! Lookup order: the folded label itself; then a light-stemmed, word-order-free key; then a fuzzy match with
//! `strsim` over candidates that share character trigrams with the term (never a scan of every label). Anything
//! else stays a free term, text intact.
//!
//! Rooms: `concepts` (concepts and their kinds, languages, how a term matched), `load` (the shipped CSV files and
//! the lookup indexes built from them), `fuzzy` (trigrams and the fuzzy lookup), `compare` (the string similarity over
//! reused buffers), `complete` (the autocomplete) and `edit` (staff synonyms and merges). This room holds the
//! vocabulary itself and the exact and stemmed lookups.

mod compare;
mod complete;
mod concepts;
mod edit;
mod fuzzy;
mod load;

use std::borrow::Cow;
use std::collections::HashMap;

pub use self::complete::Completion;
use self::concepts::resolve_in;
pub use self::concepts::{Concept, ConceptIdx, ConceptKind, Lang, MatchKind};
pub use self::fuzzy::similarity;
use crate::domain::fold::fold;

#[derive(Debug, Clone)]
struct LabelEntry {
    text: String,
    folded: String,
    concept: ConceptIdx,
    lang: Lang,
    preferred: bool,
    /// Whether the label was reviewed for how this cluster writes (our own layer's labels, staff synonyms) rather
    /// than taken as it comes (ESCO's alternative labels include loose paraphrases such as "art projects").
    reviewed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    One(u32),
    Ambiguous,
}

/// The outcome of normalising one term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalised {
    pub concept: Option<ConceptIdx>,
    pub kind: MatchKind,
}

impl Normalised {
    pub const FREE: Self = Self { concept: None, kind: MatchKind::Free };
}

/// Countries a term may name as where the other side must be, by their folded names in the cluster's languages.
const PLACES: &[(&str, &str)] = &[
    ("luxembourg", "LU"),
    ("luxemburg", "LU"),
    ("letzebuerg", "LU"),
    ("grand duche", "LU"),
    ("france", "FR"),
    ("frankreich", "FR"),
    ("frankraich", "FR"),
    ("belgique", "BE"),
    ("belgium", "BE"),
    ("belgien", "BE"),
    ("germany", "DE"),
    ("allemagne", "DE"),
    ("deutschland", "DE"),
    ("daitschland", "DE"),
    ("netherlands", "NL"),
    ("pays bas", "NL"),
    ("niederlande", "NL"),
    ("portugal", "PT"),
    ("switzerland", "CH"),
    ("suisse", "CH"),
    ("schweiz", "CH"),
    ("italy", "IT"),
    ("italie", "IT"),
    ("italien", "IT"),
    ("spain", "ES"),
    ("espagne", "ES"),
    ("spanien", "ES"),
    ("austria", "AT"),
    ("autriche", "AT"),
    ("osterreich", "AT"),
];

/// Words that put a country after them as a place: "in", "au", "aus", "a" (Luxembourgish "a Lëtzebuerg"), ….
const PLACE_WORDS: &[&str] = &["in", "im", "au", "aux", "en", "a", "zu", "aus", "from", "at", "based in"];

/// Adjectives of nationality (folded, as word beginnings so that inflected forms count: "luxemburgischer",
/// "luxembourgeoise"). They name a language as often as a country ("traduction luxembourgeoise", "German subtitles"),
/// so they count as a place only beside a word for a party (see [`PARTY_WORDS`]).
const DEMONYMS: &[(&str, &str)] = &[
    ("luxembourgeois", "LU"),
    ("luxemburgisch", "LU"),
    ("luxembourgish", "LU"),
    ("letzebuergesch", "LU"),
    ("belge", "BE"),
    ("belgisch", "BE"),
    ("belgian", "BE"),
    ("francais", "FR"),
    ("franzosisch", "FR"),
    ("french", "FR"),
    ("allemand", "DE"),
    ("deutsch", "DE"),
    ("german", "DE"),
];

/// Beginnings of words for someone one works with: a "coproducteur luxembourgeois" is sought in Luxembourg, a
/// "traduction luxembourgeoise" anywhere.
const PARTY_WORDS: &[&str] = &[
    "coproducteur",
    "coproductrice",
    "coproducer",
    "koproduzent",
    "producer",
    "producteur",
    "produzent",
    "production company",
    "produktionsfirm",
    "partenaire",
    "partner",
    "societe",
    "company",
    "companies",
    "firm",
    "unternehm",
    "studio",
    "agenc",
    "agentur",
    "bureau",
    "buro",
    "architect",
    "architekt",
    "artisan",
    "handwerk",
    "distribut",
    "verleih",
    "diffuseur",
];

/// A folded term that names where the other side must be: ending with a place word and a country ("produktionsfirmen
/// in luxemburg", "partenaire au luxembourg"), or a party with its nationality ("coproducteur luxembourgeois",
/// "luxemburgischer koproduzent"). The rest and the country's code. A nationality alone names a language as often as
/// a country and does not count.
pub fn place_of(folded: &str) -> Option<(String, &'static str)> {
    for (name, code) in PLACES {
        let Some(before) = folded.strip_suffix(name).and_then(|b| b.strip_suffix(' ')) else { continue };
        for word in PLACE_WORDS {
            if let Some(rest) = before.strip_suffix(word)
                && (rest.is_empty() || rest.ends_with(' '))
            {
                let rest = rest.trim_end();
                return (!rest.is_empty()).then(|| (rest.to_owned(), *code));
            }
        }
    }
    demonym_of(folded)
}

/// "coproducteur luxembourgeois" → ("coproducteur", LU): one nationality word beside a party word.
fn demonym_of(folded: &str) -> Option<(String, &'static str)> {
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let mut found: Option<(usize, &'static str)> = None;
    for (i, word) in words.iter().enumerate() {
        let country = PLACES.iter().any(|(name, _)| name == word);
        let compound =
            |d: &str| ["belgo", "franco", "germano", "luxembourgo"].contains(word) && d.starts_with(&word[..4]);
        if let Some((_, code)) = DEMONYMS.iter().find(|(d, _)| !country && (word.starts_with(d) || compound(d))) {
            if found.is_some() {
                return None; // "belgo-luxembourgeoise", two nationalities: not one place
            }
            found = Some((i, code));
        }
    }
    let (at, code) = found?;
    let rest: Vec<&str> = words.iter().enumerate().filter(|&(i, _)| i != at).map(|(_, w)| *w).collect();
    let rest = rest.join(" ");
    let party = PARTY_WORDS
        .iter()
        .any(|p| if p.contains(' ') { rest.contains(p) } else { rest.split(' ').any(|w| w.starts_with(p)) });
    (party && !rest.is_empty()).then_some((rest, code))
}

/// Idioms of running text whose words would read as a label ("state-of-the-art digital" as the French "art
/// digital"), blanked out before a text is scanned.
const RUNNING_TEXT_IDIOMS: &[&str] = &["state of the art", "state of art"];

/// Prepositions (folded) after which a phrase says what its head is for or about: "für", "for", "de", "pour", ….
const HEAD_BREAKS: &[&str] = &["fur", "for", "de", "du", "des", "d", "pour", "von", "vun", "vum", "of", "fir"];

/// A single word that names more concepts than this is too general to stand for one in a phrase.
const SPECIFIC_WORD_CONCEPTS: u32 = 10;

/// Whether `a` is a few edits from `b` (Damerau-Levenshtein): none under five characters, one up to eight, two
/// beyond.
fn near(a: &str, b: &str) -> bool {
    let n = a.chars().count().max(b.chars().count());
    let allowed = match n {
        0..5 => 0,
        5..9 => 1,
        _ => 2,
    };
    strsim::damerau_levenshtein(a, b) <= allowed
}

/// Words of English, French and German a few edits from a word of the vocabulary without being a form of it
/// (`assets/tools/derive_language_words.py`, from Debian's word lists): read once per process.
static LANGUAGE_WORDS: std::sync::LazyLock<std::collections::HashSet<&'static str>> = std::sync::LazyLock::new(|| {
    include_str!("../../../assets/vocabulary/language_words.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Whether two (folded) words share all but the last four letters of the shorter, and at least four: forms of one
/// word ("fotografen", "fotografinnen"), or a slip late in it ("realty" for "reality"), not two words.
fn same_word_forms(a: &str, b: &str) -> bool {
    let shared = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let shorter = a.chars().count().min(b.chars().count());
    shared >= 4 && shared + 4 >= shorter
}

/// Whether `typed` is a word of the language other than `label_word` (and not a form of it): then it is not a slip
/// of the keyboard for it ("Lederwaren" is not "Miederwaren", "Möbelbau" not "Modellbau").
fn other_word(typed: &str, label_word: &str) -> bool {
    LANGUAGE_WORDS.contains(typed) && !same_word_forms(typed, label_word)
}

/// The fuzzy threshold, tuned on `tests/data/variants_tuning.csv` (see the README).
pub const DEFAULT_FUZZY_THRESHOLD: f64 = 0.82;

#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    concepts: Vec<Concept>,
    ids: HashMap<String, ConceptIdx>,
    labels: Vec<LabelEntry>,
    exact: HashMap<String, Hit>,
    keyed: HashMap<String, Hit>,
    /// Labels with their spaces taken out: "webdesign" is "web design", "3Dmodelling" is "3D modelling".
    squashed: HashMap<String, Hit>,
    /// Every (stemmed) word of a label, with how many concepts have a label holding it: a typed word found here is
    /// a word, not a typo, and a word many concepts share is too general to stand for one of them.
    words: HashMap<String, u32>,
    /// Every (stemmed) word of an English label, with the concepts whose English labels hold it: a word typed without
    /// accents may be English ("editions" of a print run) rather than a French label without its accents.
    english_words: HashMap<String, Vec<ConceptIdx>>,
    /// Labels by rank: in order of length (in characters), so that the labels a term's length can reach are one range
    /// of ranks. `by_len[rank]` is the label, `rank_chars[rank]` its length (ascending).
    by_len: Vec<u32>,
    rank_chars: Vec<u16>,
    /// Trigram → the ranks of the labels that have it, ascending.
    grams: HashMap<u32, Vec<u32>>,
    /// By rank: how many distinct trigrams the label has (for the overlap ratio).
    gram_counts: Vec<u16>,
    /// (folded word-suffix of a label, label index), sorted: prefix search for the autocomplete.
    prefixes: Vec<(String, u32)>,
    /// By concept `c`: the concepts that have `c` among their [`Vocabulary::neighbours`] (rankings walk the
    /// hierarchy from an offer to the wants it gives partial credit to).
    neighbour_of: Vec<Vec<ConceptIdx>>,
    pub fuzzy_threshold: f64,
}

/// Light stemming shared by labels and terms: plural endings of English, French and German nouns, then a final
/// silent `e`, so that a plural in `-es` meets its singular in `-e` ("glazes" and "glaze", "maquettes" and
/// "maquette", "sketches" and "sketch"), and a final `-y`, `-ie` or `-ies` as `-i` ("studies" and "study",
/// "scénographies" and "scenography"); and the feminine of a trade's name meets its masculine, the form most labels
/// have: French "-euse", "-trice", "-ière", "-ienne" ("relieuse", "illustratrices", "tapissière"), German and
/// Luxembourgish "-in" and "-innen" after the ending of a doer's name ("Tontechnikerin", "Fotografinnen"; not
/// "dessin" or "Magazin"); and German and Luxembourgish plurals whose ending no English or French word has
/// ("Restaurierungen", "Koproduktionen", "Stickereien", "Illustratiounen", "Skulpturen", "Fotografien",
/// "Restauratoren") meet their singular ([`PLURAL_ENDINGS`]).
fn stem(word: &str) -> Cow<'_, str> {
    let n = word.len();
    if n <= 3 || !word.is_ascii() {
        return Cow::Borrowed(word);
    }
    if let Some(base) = word.strip_suffix("innen").or_else(|| word.strip_suffix("in"))
        && base.len() >= 4
        && DOER_ENDINGS.iter().any(|e| base.ends_with(e))
    {
        return Cow::Borrowed(base);
    }
    for (plural, singular) in PLURAL_ENDINGS {
        if let Some(root) = word.strip_suffix(plural)
            && root.len() >= 3
        {
            return Cow::Borrowed(&word[..root.len() + singular.len()]);
        }
    }
    let singular = word.strip_suffix('s').unwrap_or(word);
    for (feminine, masculine) in FEMININE_ENDINGS {
        if let Some(root) = singular.strip_suffix(feminine)
            && root.len() >= 3
        {
            return Cow::Owned(format!("{root}{masculine}"));
        }
    }
    // An English plural in "-ies" and its singular in "-y", a French plural in "-ies" and its singular in "-ie", all
    // end in "-i": "studies" and "study", "photographies", "photographie" and "photography".
    if let Some(root) = word.strip_suffix("ies")
        && root.len() >= 3
    {
        return Cow::Owned(format!("{root}i"));
    }
    let mut base = word;
    for suffix in ["es", "s", "x"] {
        if let Some(b) = word.strip_suffix(suffix)
            && b.len() >= 3
            && !word.ends_with("ss")
            && !word.ends_with("us")
            && !word.ends_with("is")
        {
            base = b;
            break;
        }
    }
    let base = match base.strip_suffix('e') {
        Some(b) if b.len() >= 3 => b,
        _ => base,
    };
    match base.strip_suffix('y') {
        Some(root) if root.len() >= 3 => Cow::Owned(format!("{root}i")),
        _ => Cow::Borrowed(base),
    }
}

/// Endings of a German or Luxembourgish doer's name that `-in` makes feminine: Techniker, Restaurator, Florist,
/// Fotograf, Produzent, Architekt, Regisseur, Pädagoge's Pädagog, Goldschmied.
const DOER_ENDINGS: [&str; 10] = ["er", "or", "ist", "graf", "ant", "ent", "ekt", "eur", "og", "ied"];

/// German and Luxembourgish plural endings (folded) that end no English or French word, each with its singular's
/// stem, which is where the plural starts: "-ungen" of "-ung", "-ionen" of "-ion" (Luxembourgish "-iounen" of
/// "-ioun"), "-eien" of "-ei", "-heiten", "-keiten", "-schaften"; nouns in "-ur", "-ik" and "-ie" with "-en" or "-n"
/// ("Skulpturen", "Keramiken", "Fotografien", "Technologien", "Strategien"), "-nahmen" of "-nahme"; and the names of
/// a trade's people that take "-en" ("Restauratoren", Luxembourgish "Illustrateuren", "Journalisten", "Fotografen",
/// "Produzenten", "Praktikanten", "Pädagogen"). "Architekten" is left to fuzzy matching: read by its label, it would
/// make "architects" the head of "Architekten fir Denkmalschutz-Projeten" (see [`Vocabulary::head`]) where the
/// purpose names the trade meant, building conservation.
const PLURAL_ENDINGS: [(&str, &str); 21] = [
    ("ungen", "ung"),
    ("iounen", "ioun"),
    ("ionen", "ion"),
    ("eien", "ei"),
    ("heiten", "heit"),
    ("keiten", "keit"),
    ("schaften", "schaft"),
    ("euren", "eur"),
    ("uren", "ur"),
    ("iken", "ik"),
    ("fien", "fi"),
    ("phien", "phi"),
    ("logien", "logi"),
    ("tegien", "tegi"),
    ("nahmen", "nahm"),
    ("oren", "or"),
    ("isten", "ist"),
    ("grafen", "graf"),
    ("anten", "ant"),
    ("enten", "ent"),
    ("agogen", "agog"),
];

/// French feminine endings of a trade's name (folded, in the singular) and their masculine.
const FEMININE_ENDINGS: [(&str, &str); 4] = [("euse", "eur"), ("trice", "teur"), ("iere", "ier"), ("ienne", "ien")];

/// How a typed text is known when it maps to no concept: folded, stemmed, word order ignored. Two free terms with
/// the same key are the same words ("3D scanning", "3d-Scanning").
pub fn term_key(text: &str) -> String {
    key(&fold(text))
}

/// The word-order-free, stemmed key of a folded text.
pub(crate) fn key(folded: &str) -> String {
    let mut words: Vec<Cow<'_, str>> = folded.split(' ').filter(|w| !w.is_empty()).map(stem).collect();
    words.sort_unstable();
    words.dedup();
    words.join(" ")
}

impl Vocabulary {
    /// Follow merges to the surviving concept.
    pub fn resolve(&self, idx: ConceptIdx) -> ConceptIdx {
        resolve_in(&self.concepts, idx)
    }

    pub fn concept(&self, idx: ConceptIdx) -> &Concept {
        &self.concepts[idx as usize]
    }

    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    pub fn label_count(&self) -> usize {
        self.labels.len()
    }

    /// The concept with this id (or a merged id), resolved to the survivor.
    pub fn find(&self, id: &str) -> Option<ConceptIdx> {
        self.ids.get(id).map(|&i| self.resolve(i))
    }

    /// All concept ids (for generators and checks).
    pub fn concept_ids(&self) -> impl Iterator<Item = (ConceptIdx, &Concept)> {
        self.concepts.iter().enumerate().filter_map(|(i, c)| {
            let i = ConceptIdx::try_from(i).ok()?;
            c.merged_into.is_none().then_some((i, c))
        })
    }

    /// Labels of a concept (for generators and checks).
    pub fn labels_of(&self, idx: ConceptIdx) -> impl Iterator<Item = (&str, Lang)> {
        self.labels.iter().filter(move |l| self.resolve(l.concept) == idx).map(|l| (l.text.as_str(), l.lang))
    }

    fn hit(&self, hit: Option<&Hit>) -> Option<Normalised> {
        match hit {
            Some(Hit::One(i)) => {
                let label = &self.labels[*i as usize];
                let kind = if label.preferred { MatchKind::Exact } else { MatchKind::Synonym };
                Some(Normalised { concept: Some(self.resolve(label.concept)), kind })
            }
            _ => None,
        }
    }

    /// Map a term to a concept, or leave it free. In order: a label (folded), a label's stemmed and word-order-free
    /// key, a label with its spaces taken out, a typo of a label, a label contained in the phrase. Refusing is better
    /// than guessing: a term none of these explain stays free.
    pub fn normalise(&self, text: &str) -> Normalised {
        let mut folded = fold(text);
        if folded.is_empty() {
            return Normalised::FREE;
        }
        // "Produktionsfirmen in Luxemburg" is about production companies; where is kept apart (see [`place_of`]).
        if !self.exact.contains_key(&folded)
            && let Some((rest, _)) = place_of(&folded)
        {
            folded = rest;
        }
        if let Some(n) = self.hit(self.exact.get(&folded)) {
            return n;
        }
        if let Some(n) = self.hit(self.keyed.get(&key(&folded))) {
            return n;
        }
        if let Some(n) = self.hit(self.squashed.get(&folded.replace(' ', ""))) {
            return n;
        }
        let plain = text.chars().all(|c| c.is_ascii() || !c.is_alphabetic());
        self.fuzzy(&folded).or_else(|| self.partial(&folded, plain)).unwrap_or(Normalised::FREE)
    }

    /// Whether one word of a phrase typed without accented letters (`plain`) meets the label `hit` only once the label's
    /// accents are folded away while the word, as typed, is a word of English labels of another concept: "small
    /// editions" (of a print run) is English, not French "éditions" (publishing). Read as the label it would be a
    /// false friend; refusing leaves the phrase to a reading both languages agree on, or free.
    fn false_friend(&self, word: &str, hit: Option<&Hit>, plain: bool) -> bool {
        let Some(Hit::One(i)) = hit else { return false };
        let label = &self.labels[*i as usize];
        let concept = self.resolve(label.concept);
        plain
            && !label.text.is_ascii()
            && self.english_words.get(stem(word).as_ref()).is_some_and(|cs| cs.iter().any(|&c| c != concept))
    }

    /// Whether a (folded) word is a word of some label: a word of the trades, not a typo.
    fn is_word(&self, word: &str) -> bool {
        self.words.contains_key(stem(word).as_ref())
    }

    /// A word that names few concepts (at most [`SPECIFIC_WORD_CONCEPTS`]) and is long enough to mean something on
    /// its own: "storyboard", "photographie", but not "design" or "art".
    fn is_specific(&self, word: &str) -> bool {
        word.chars().count() >= 5 && self.words.get(stem(word).as_ref()).is_some_and(|&n| n <= SPECIFIC_WORD_CONCEPTS)
    }

    /// Whether `typed` can be a slip of the keyboard for `label` (both folded): the same words, each equal to its
    /// counterpart (stemmed) or a few edits from it, and every word that differs not itself a word of the trades
    /// ("web development" is not a typo of "video game development", nor "industrial heritage" of "industrial
    /// design") nor another word of the language (see [`other_word`]); or, when one side runs two words together, the two without spaces a few edits apart.
    pub(super) fn plausible_typo(&self, typed: &str, label: &str) -> bool {
        let t: Vec<&str> = typed.split(' ').collect();
        let l: Vec<&str> = label.split(' ').collect();
        if t.len() == l.len() {
            let word_ok =
                |a: &str, b: &str| stem(a) == stem(b) || (!self.is_word(a) && !other_word(a, b) && near(a, b));
            if t.iter().zip(&l).all(|(a, b)| word_ok(a, b)) {
                return true;
            }
            let (mut ts, mut ls) = (t.clone(), l.clone());
            ts.sort_unstable();
            ls.sort_unstable();
            return ts.iter().zip(&ls).all(|(a, b)| word_ok(a, b));
        }
        t.len().abs_diff(l.len()) == 1
            && !t.iter().all(|w| self.is_word(w))
            && near(&typed.replace(' ', ""), &label.replace(' ', ""))
    }

    /// The concept of the longest label (in words, fewer than the phrase has) that the phrase contains, if one
    /// concept's: "storyboards erstellen" is about storyboards. A single word must be specific to count, and not a
    /// [false friend](Self::false_friend) of the label.
    fn partial(&self, folded: &str, plain: bool) -> Option<Normalised> {
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        if let Some(n) = self.head(&words, plain) {
            return Some(n);
        }
        for n in (1..words.len()).rev() {
            let mut found: Option<ConceptIdx> = None;
            for run in words.windows(n) {
                if n == 1 && !self.is_specific(run[0]) {
                    continue;
                }
                let phrase = run.join(" ");
                let hit = self.exact.get(&phrase).or_else(|| self.keyed.get(&key(&phrase)));
                if n == 1 && self.false_friend(run[0], hit, plain) {
                    continue;
                }
                let Some(Normalised { concept: Some(c), .. }) = self.hit(hit) else { continue };
                match found {
                    Some(other) if other != c => return None,
                    _ => found = Some(c),
                }
            }
            if let Some(c) = found {
                return Some(Normalised { concept: Some(c), kind: MatchKind::Partial });
            }
        }
        None
    }

    /// The head of a phrase whose head is a label: in "UX für Online-Ausstellung" or "restauration de vitraux" what
    /// is offered or sought is what comes before the preposition; what follows says what it is for. A one-word head
    /// must not be a word of many concepts ("design for museums" says little about which design).
    fn head(&self, words: &[&str], plain: bool) -> Option<Normalised> {
        let at = words.iter().position(|w| HEAD_BREAKS.contains(w))?;
        if at == 0 || at + 1 == words.len() {
            return None;
        }
        let head = &words[..at];
        if head.len() == 1 && self.words.get(stem(head[0]).as_ref()).is_none_or(|&n| n > SPECIFIC_WORD_CONCEPTS) {
            return None;
        }
        let phrase = head.join(" ");
        let hit = self.exact.get(&phrase).or_else(|| self.keyed.get(&key(&phrase)));
        if head.len() == 1 && self.false_friend(head[0], hit, plain) {
            return None;
        }
        let Some(Normalised { concept: Some(c), .. }) = self.hit(hit) else { return None };
        Some(Normalised { concept: Some(c), kind: MatchKind::Partial })
    }

    /// Concepts named in a text (longest label first, exact or stemmed labels only, no fuzzy guesses), with how
    /// often each is named and the label it was named by. For extracting a call's skills and themes.
    ///
    /// A label is found only within one sentence or clause and with its words in their order ("digital art", not
    /// "art. Digital"); the order-free key that serves typed terms would read running text too freely.
    pub fn scan(&self, text: &str, min_chars: usize) -> Vec<(ConceptIdx, usize, String)> {
        let mut found: Vec<(ConceptIdx, usize, String)> = Vec::new();
        for clause in text.split(['.', ';', ':', '!', '?', '(', ')', '\n', '•']) {
            let mut folded = fold(clause);
            for phrase in RUNNING_TEXT_IDIOMS {
                folded = folded.replace(phrase, " ");
            }
            let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
            let mut i = 0;
            while i < words.len() {
                let step = self.scan_at(&words[i..], min_chars, &mut found);
                i += step;
            }
        }
        found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        found
    }

    /// The longest label (up to four words) at the start of `words`, counted into `found`; how many words it took
    /// (one when none).
    fn scan_at(&self, words: &[&str], min_chars: usize, found: &mut Vec<(ConceptIdx, usize, String)>) -> usize {
        for n in (2..=4.min(words.len())).rev() {
            let phrase = words[..n].join(" ");
            if phrase.len() < min_chars {
                continue;
            }
            let hit = match self.exact.get(&phrase) {
                Some(h) => Some(*h),
                None => self.keyed.get(&key(&phrase)).copied(),
            };
            let Some(Hit::One(label)) = hit else { continue };
            let entry = &self.labels[label as usize];
            // In running text a single word ("architecture" in "service-oriented architecture", "conducting",
            // "collections") and an abbreviation ("SoMe", "PR") are ordinary words far more often than skills, and
            // ESCO's alternative labels include loose paraphrases ("art projects", "public spaces"): only phrases
            // count, named by a preferred or a reviewed label, in the label's word order.
            let acronym = entry.text.chars().filter(|c| c.is_uppercase()).count() > 1;
            let in_order = || {
                let label = fold(&entry.text);
                label.split(' ').filter(|w| !w.is_empty()).map(stem).eq(words[..n].iter().map(|w| stem(w)))
            };
            if acronym || !(entry.preferred || entry.reviewed) || !in_order() {
                continue;
            }
            let concept = self.resolve(entry.concept);
            match found.iter_mut().find(|(c, _, _)| *c == concept) {
                Some(f) => f.1 += 1,
                None => found.push((concept, 1, entry.text.clone())),
            }
            return n;
        }
        1
    }

    /// Concepts directly above or below `idx` in the hierarchy (partial credit); none for an id beyond the
    /// vocabulary (the index's ids for free terms).
    pub fn neighbours(&self, idx: ConceptIdx) -> impl Iterator<Item = ConceptIdx> + '_ {
        let (broader, narrower) =
            self.concepts.get(idx as usize).map_or((&[][..], &[][..]), |c| (&c.broader[..], &c.narrower[..]));
        broader.iter().chain(narrower.iter()).map(|&n| self.resolve(n)).filter(move |&n| n != idx)
    }

    /// The concepts directly above `idx` (merges followed).
    pub fn broader(&self, idx: ConceptIdx) -> impl Iterator<Item = ConceptIdx> + '_ {
        let up = self.concepts.get(idx as usize).map_or(&[][..], |c| &c.broader[..]);
        up.iter().map(|&n| self.resolve(n)).filter(move |&n| n != idx)
    }

    /// The concepts directly below `idx` (merges followed).
    pub fn narrower(&self, idx: ConceptIdx) -> impl Iterator<Item = ConceptIdx> + '_ {
        let down = self.concepts.get(idx as usize).map_or(&[][..], |c| &c.narrower[..]);
        down.iter().map(|&n| self.resolve(n)).filter(move |&n| n != idx)
    }

    /// Whether `a` sits directly below `b` in the hierarchy (`b` is among `a`'s broader concepts): a specialist's
    /// offer for a general want.
    pub fn is_below(&self, a: ConceptIdx, b: ConceptIdx) -> bool {
        self.concepts.get(a as usize).is_some_and(|c| c.broader.iter().any(|&up| self.resolve(up) == b))
    }

    /// The concept at `idx`, if it is one of the vocabulary's (not an index's id for a free term).
    pub fn get(&self, idx: ConceptIdx) -> Option<&Concept> {
        self.concepts.get(idx as usize)
    }

    /// The concepts that have `idx` among their neighbours: the inverse of [`Self::neighbours`] (the same set when
    /// the hierarchy is symmetric, as it is unless merges left it otherwise).
    pub fn neighbour_of(&self, idx: ConceptIdx) -> &[ConceptIdx] {
        self.neighbour_of.get(idx as usize).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The feminine of a trade's name stems to its masculine; words that merely end the same way do not change, nor
    /// do plurals stop meeting their singular.
    #[test]
    fn feminine_names_stem_to_the_masculine() {
        for (feminine, masculine) in [
            ("tontechnikerin", "tontechniker"),
            ("keramikerinnen", "keramiker"),
            ("restauratorin", "restaurator"),
            ("fotografinnen", "fotograf"),
            ("architektin", "architekt"),
            ("relieuses", "relieur"),
            ("illustratrices", "illustrateur"),
            ("tapissiere", "tapissier"),
            ("comedienne", "comedien"),
        ] {
            assert_eq!((feminine, stem(feminine)), (feminine, stem(masculine)));
        }
        for word in ["dessin", "magazin", "design", "origin", "latin", "violin", "medizin"] {
            assert_eq!(stem(word), word, "{word}");
        }
        assert_eq!(stem("glazes"), stem("glaze"));
        for (plural, singular) in [
            ("restaurierungen", "restaurierung"),
            ("koproduktionen", "koproduktion"),
            ("illustratiounen", "illustratioun"),
            ("stickereien", "stickerei"),
            ("moglichkeiten", "moglichkeit"),
            ("landschaften", "landschaft"),
            ("skulpturen", "skulptur"),
            ("keramiken", "keramik"),
            ("fotografien", "fotografie"),
            ("technologien", "technologie"),
            ("markenstrategien", "markenstrategie"),
            ("tonaufnahmen", "tonaufnahme"),
            ("restauratoren", "restaurator"),
            ("illustrateuren", "illustrateur"),
            ("journalisten", "journalist"),
            ("fotografen", "fotograf"),
            ("produzenten", "produzent"),
            ("praktikanten", "praktikant"),
            ("padagogen", "padagoge"),
        ] {
            assert_eq!((plural, stem(plural)), (plural, stem(singular)));
        }
        for (a, b) in [("studies", "study"), ("photographies", "photography"), ("scenographie", "scenography")] {
            assert_eq!((a, stem(a)), (a, stem(b)));
        }
        for word in ["union", "fashion", "ungen", "production", "listen", "collagen", "technicien", "historien"] {
            assert_eq!(stem(word), word, "{word}");
        }
        assert_eq!(stem("maquettes"), "maquett");
    }

    /// In a phrase typed without accents, "editions" is English (of a print run), not French "éditions"
    /// (publishing); with its accents, or where no English label holds the word, a phrase still meets the label.
    #[test]
    fn a_word_without_accents_is_not_a_french_labels_false_friend() {
        let v = Vocabulary::shipped().unwrap();
        let publishing = v.normalise("édition").concept;
        assert!(publishing.is_some());
        for typed in ["editions for artists", "art editions", "riso editions"] {
            assert_eq!(v.normalise(typed), Normalised::FREE, "{typed}");
        }
        for typed in ["petites éditions", "éditions d'artistes"] {
            let n = v.normalise(typed);
            assert_eq!((n.concept, n.kind), (publishing, MatchKind::Partial), "{typed}");
        }
    }

    /// A word of the language is not a slip for another word a few edits away ("roofing" is not "proofing", "Abbildung"
    /// not "Ausbildung"), but
    /// forms of one word are ("Fotografinnen" for photographers), and so is a slip late in a word ("realty").
    #[test]
    fn a_word_of_the_language_is_not_a_typo_of_another() {
        assert!(other_word("roofing", "proofing"));
        assert!(other_word("abbildung", "ausbildung"));
        assert!(!other_word("fotografinnen", "fotografieren"), "forms of one word");
        assert!(!other_word("realty", "reality"));
        assert!(!other_word("desgin", "design"), "not a word of any language");
        let v = Vocabulary::shipped().unwrap();
        assert_eq!(v.normalise("roofing").kind, MatchKind::Free);
        let photography = v.normalise("photography").concept;
        assert_eq!(v.normalise("Fotografinnen").concept, photography);
        assert!(matches!(v.normalise("augmented realty").kind, MatchKind::Fuzzy { .. }));
    }

    #[test]
    fn a_place_is_a_place_word_and_a_country() {
        assert_eq!(place_of("produktionsfirmen in luxemburg"), Some(("produktionsfirmen".to_owned(), "LU")));
        assert_eq!(place_of("partenaire au luxembourg"), Some(("partenaire".to_owned(), "LU")));
        assert_eq!(place_of("architekten a letzebuerg"), Some(("architekten".to_owned(), "LU")));
        assert_eq!(place_of("sourcing in portugal"), Some(("sourcing".to_owned(), "PT")));
        assert_eq!(place_of("coproducteur aux pays bas"), Some(("coproducteur".to_owned(), "NL")));
        // A language is no place; nor is a country alone, or one inside a longer word.
        assert_eq!(place_of("traduction luxembourgeoise"), None);
        assert_eq!(place_of("coproducteur luxembourgeois"), Some(("coproducteur".to_owned(), "LU")));
        assert_eq!(place_of("luxemburgischer koproduzent"), Some(("koproduzent".to_owned(), "LU")));
        assert_eq!(place_of("belgian production company"), Some(("production company".to_owned(), "BE")));
        assert_eq!(place_of("german subtitles"), None);
        assert_eq!(place_of("coproduction belgo luxembourgeoise"), None);
        assert_eq!(place_of("luxembourgeois"), None);
        assert_eq!(place_of("partenaire francophone"), None);
        assert_eq!(place_of("coproducteur franco allemand"), None);
        assert_eq!(place_of("partner in deutschland"), Some(("partner".to_owned(), "DE")));
        assert_eq!(place_of("in luxemburg"), None);
        assert_eq!(place_of("luxembourg"), None);
        assert_eq!(place_of("made in luxembourgish"), None);
        assert_eq!(place_of("design in grand luxembourg"), None);
    }

    const CONCEPTS: &str = "concept,kind,broader,pref_en\n\
        esco:gd,skill,esco:design,graphic design\n\
        esco:design,skill,,design\n\
        esco:3d,skill,,3D modeling\n\
        mm:theme:heritage,theme,,cultural heritage\n";
    const LABELS: &str = "concept,lang,kind,label\n\
        esco:gd,en,pref,graphic design\n\
        esco:gd,fr,pref,conception graphique\n\
        esco:gd,de,alt,Grafikdesign\n\
        esco:design,en,pref,design\n\
        esco:3d,en,pref,3D modeling\n\
        esco:3d,en,alt,3D modelling\n\
        esco:3d,fr,pref,modélisation 3D\n\
        esco:3d,de,alt,3D-Modellierung\n\
        mm:theme:heritage,en,pref,cultural heritage\n";

    pub(super) fn vocab() -> Vocabulary {
        Vocabulary::from_csv(&[CONCEPTS], &[LABELS]).unwrap()
    }

    #[test]
    fn exact_synonym_fuzzy_and_free() {
        let v = vocab();
        let gd = v.find("esco:gd").unwrap();
        assert_eq!(v.normalise("Graphic Design"), Normalised { concept: Some(gd), kind: MatchKind::Exact });
        assert_eq!(v.normalise("CONCEPTION GRAPHIQUE").concept, Some(gd));
        assert_eq!(v.normalise("grafikdesign").kind, MatchKind::Synonym);
        assert_eq!(v.normalise("design graphic").concept, Some(gd), "word order does not matter");
        assert_eq!(v.normalise("graphic designs").concept, Some(gd), "plurals");
        let typo = v.normalise("graphic desgin");
        assert_eq!(typo.concept, Some(gd));
        assert!(matches!(typo.kind, MatchKind::Fuzzy { similarity } if similarity > 0.9));
        let three_d = v.find("esco:3d").unwrap();
        for t in ["3D-Modellierung", "3D Modellierung", "modelisation 3d", "3D modeilng"] {
            assert_eq!(v.normalise(t).concept, Some(three_d), "{t}");
        }
        assert_eq!(v.normalise("beekeeping"), Normalised::FREE);
        assert_eq!(v.normalise("UX"), Normalised::FREE, "short terms are never fuzzy");
        assert_eq!(v.normalise("  "), Normalised::FREE);
    }

    /// Slips of the keyboard on every label: each letter dropped, doubled, swapped with the next.
    pub(super) fn slips(v: &Vocabulary, every: usize) -> Vec<String> {
        let mut out = Vec::new();
        for label in v.labels.iter().step_by(every) {
            let chars: Vec<char> = label.folded.chars().collect();
            for i in 1..chars.len() {
                let mut dropped = chars.clone();
                dropped.remove(i);
                let mut doubled = chars.clone();
                doubled.insert(i, chars[i]);
                let mut swapped = chars.clone();
                swapped.swap(i - 1, i);
                for c in [dropped, doubled, swapped] {
                    out.push(c.into_iter().collect());
                }
            }
        }
        out
    }
}
