//! Reading the vocabulary: the shipped CSV files (the ESCO subset and our own layer), or any others in the same
//! format, and the lookup indexes built from their labels.

use super::fuzzy::{chars_u16, trigrams};
use super::{
    Concept, ConceptIdx, ConceptKind, DEFAULT_FUZZY_THRESHOLD, Hit, LabelEntry, Lang, Vocabulary, key, resolve_in, stem,
};
use crate::domain::fold::fold;

/// One row of a concepts file.
#[derive(Debug, Clone, serde::Deserialize)]
struct ConceptRow {
    concept: String,
    kind: String,
    #[serde(default)]
    broader: String,
    /// Space-separated sector names (our own concepts' files have them).
    #[serde(default)]
    sectors: String,
}

/// One row of `concept_sectors.csv`: the sectors of an ESCO concept.
#[derive(Debug, Clone, serde::Deserialize)]
struct SectorRow {
    concept: String,
    sectors: String,
}

/// Sector names (space-separated) as sectors; unknown names are skipped.
fn sectors(text: &str) -> Vec<crate::domain::member::Sector> {
    use crate::domain::parse::ApiEnum as _;
    text.split_whitespace().filter_map(crate::domain::member::Sector::from_name).collect()
}

/// One row of `esco_links.csv`: a link between two ESCO concepts that ESCO's hierarchy lacks.
#[derive(Debug, Clone, serde::Deserialize)]
struct LinkRow {
    concept: String,
    relation: String,
    target: String,
}

/// One row of a labels file.
#[derive(Debug, Clone, serde::Deserialize)]
struct LabelRow {
    concept: String,
    lang: String,
    kind: String,
    label: String,
}

const ESCO_CONCEPTS: &str = include_str!("../../../assets/vocabulary/esco_concepts.csv");
const ESCO_LABELS: &str = include_str!("../../../assets/vocabulary/esco_labels.csv");
const OWN_CONCEPTS: &str = include_str!("../../../assets/vocabulary/own_concepts.csv");
const OWN_LABELS: &str = include_str!("../../../assets/vocabulary/own_labels.csv");
const CONCEPT_SECTORS: &str = include_str!("../../../assets/vocabulary/concept_sectors.csv");
const ESCO_LINKS: &str = include_str!("../../../assets/vocabulary/esco_links.csv");

/// The vocabulary's files, by name, in the order [`Vocabulary::from_files`] reads them.
const FILES: [&str; 6] = [
    "esco_concepts.csv",
    "own_concepts.csv",
    "esco_labels.csv",
    "own_labels.csv",
    "concept_sectors.csv",
    "esco_links.csv",
];

static SHIPPED: std::sync::LazyLock<Result<std::sync::Arc<Vocabulary>, String>> = std::sync::LazyLock::new(|| {
    Vocabulary::from_files([ESCO_CONCEPTS, OWN_CONCEPTS, ESCO_LABELS, OWN_LABELS, CONCEPT_SECTORS, ESCO_LINKS])
        .map(std::sync::Arc::new)
        .map_err(|e| format!("the shipped vocabulary cannot be read: {e}"))
});

/// What identifies the shipped vocabulary: a digest of its files and of the service's version (whose code reads the
/// terms). Stored terms are mapped anew once for each (the `vocabulary` job).
static FINGERPRINT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use sha2::Digest as _;
    let mut digest = sha2::Sha256::new();
    for part in [ESCO_CONCEPTS, ESCO_LABELS, OWN_CONCEPTS, OWN_LABELS, CONCEPT_SECTORS, ESCO_LINKS] {
        digest.update(part.len().to_le_bytes());
        digest.update(part.as_bytes());
    }
    let hex: String = digest.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{}+{hex}", env!("CARGO_PKG_VERSION"))
});

impl Vocabulary {
    /// The shipped vocabulary's fingerprint: `<version>+<16 hex digits of its files' digest>`.
    pub fn shipped_fingerprint() -> &'static str {
        &FINGERPRINT
    }

    /// The vocabulary the service ships: the ESCO subset and our own layer.
    pub fn shipped() -> anyhow::Result<Self> {
        Ok((*Self::shipped_shared()?).clone())
    }

    /// The shipped vocabulary, read once per process and shared.
    pub fn shipped_shared() -> anyhow::Result<std::sync::Arc<Self>> {
        SHIPPED.as_ref().map(std::sync::Arc::clone).map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// The vocabulary of the files in `dir`, named as in `assets/vocabulary/`, read as the shipped one is: for
    /// trying edits of those files without building the service again (`cargo run --example lookup -- --dir …`).
    pub fn read_dir(dir: &std::path::Path) -> anyhow::Result<Self> {
        let mut texts = Vec::with_capacity(FILES.len());
        for name in FILES {
            let path = dir.join(name);
            texts.push(std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?);
        }
        Self::from_files(std::array::from_fn(|i| texts[i].as_str()))
    }

    /// The vocabulary of the six files' texts, in the order of [`FILES`]: ESCO's concepts and ours, ESCO's labels
    /// (taken as they are) and ours (reviewed), the ESCO concepts' sectors and the corrections of ESCO's hierarchy.
    fn from_files(
        [esco_concepts, own_concepts, esco_labels, own_labels, sectors, links]: [&str; 6],
    ) -> anyhow::Result<Self> {
        let mut v = Self::build(&[esco_concepts, own_concepts], &[(esco_labels, false), (own_labels, true)])?;
        v.read_sectors(sectors)?;
        v.read_links(links)?;
        Ok(v)
    }

    /// Build from concept files (`concept,kind,broader,…`) and label files (`concept,lang,kind,label`), every
    /// label reviewed (see [`LabelEntry::reviewed`](super::LabelEntry)).
    pub fn from_csv(concept_files: &[&str], label_files: &[&str]) -> anyhow::Result<Self> {
        let labels: Vec<(&str, bool)> = label_files.iter().map(|t| (*t, true)).collect();
        Self::build(concept_files, &labels)
    }

    /// Build from concept files and label files, each label file saying whether its labels were reviewed for this
    /// cluster (ours) or are taken as they are (ESCO's).
    fn build(concept_files: &[&str], label_files: &[(&str, bool)]) -> anyhow::Result<Self> {
        let mut v = Self { fuzzy_threshold: DEFAULT_FUZZY_THRESHOLD, ..Self::default() };
        let mut broader: Vec<(ConceptIdx, String)> = Vec::new();
        for text in concept_files {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            for row in reader.deserialize::<ConceptRow>() {
                let row = row?;
                let kind = if row.kind == "theme" { ConceptKind::Theme } else { ConceptKind::Skill };
                if v.ids.contains_key(&row.concept) {
                    continue;
                }
                let idx = v.push_concept(row.concept.clone(), kind);
                v.concepts[idx as usize].sectors = sectors(&row.sectors);
                for b in row.broader.split_whitespace() {
                    broader.push((idx, b.to_owned()));
                }
            }
        }
        for (idx, b) in broader {
            if let Some(&parent) = v.ids.get(&b)
                && parent != idx
            {
                v.concepts[idx as usize].broader.push(parent);
                v.concepts[parent as usize].narrower.push(idx);
            }
        }
        for &(text, reviewed) in label_files {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            for row in reader.deserialize::<LabelRow>() {
                let row = row?;
                let (Some(&idx), Some(lang)) = (v.ids.get(&row.concept), Lang::parse(&row.lang)) else { continue };
                v.push_label(idx, lang, &row.label, row.kind == "pref", reviewed);
            }
        }
        v.reindex();
        Ok(v)
    }

    /// Give concepts their sectors from a `concept,sectors` file; a concept without any then takes those of the
    /// concepts it is under.
    pub fn read_sectors(&mut self, text: &str) -> anyhow::Result<()> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for row in reader.deserialize::<SectorRow>() {
            let row = row?;
            if let Some(&idx) = self.ids.get(&row.concept) {
                self.concepts[idx as usize].sectors = sectors(&row.sectors);
            }
        }
        for _ in 0..4 {
            for i in 0..self.concepts.len() {
                if self.concepts[i].sectors.is_empty() {
                    let mut inherited: Vec<crate::domain::member::Sector> = self.concepts[i]
                        .broader
                        .iter()
                        .flat_map(|&b| self.concepts[b as usize].sectors.clone())
                        .collect();
                    inherited.sort_unstable();
                    inherited.dedup();
                    self.concepts[i].sectors = inherited;
                }
            }
        }
        Ok(())
    }

    /// Add the links of a `concept,relation,target` file: `same` reads the first concept as the second, as a staff
    /// merge does (ESCO keeps near-duplicates apart, such as *take pictures* and *photography*), `broader` puts the
    /// first below the second, and `unlink` takes the first from below the second (ESCO puts video editing below
    /// digital illustration). Rows apply in order, to concepts as merged so far. Read after the sectors, so a merged
    /// concept leaves its sectors behind.
    pub fn read_links(&mut self, text: &str) -> anyhow::Result<()> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for row in reader.deserialize::<LinkRow>() {
            let row = row?;
            let (Some(&from), Some(&to)) = (self.ids.get(&row.concept), self.ids.get(&row.target)) else {
                anyhow::bail!("link {} {} {}: not a concept of the vocabulary", row.concept, row.relation, row.target);
            };
            let relation = row.relation.as_str();
            if !["same", "broader", "unlink"].contains(&relation) {
                anyhow::bail!(
                    "link {} {relation} {}: the relation is `same`, `broader` or `unlink`",
                    row.concept,
                    row.target
                );
            }
            let (from, to) = (self.resolve(from), self.resolve(to));
            if from == to {
                continue;
            }
            let (a, b) = (from as usize, to as usize);
            match relation {
                "same" => self.merge_unindexed(from, to),
                "broader" if !self.concepts[a].broader.contains(&to) => {
                    self.concepts[a].broader.push(to);
                    self.concepts[b].narrower.push(from);
                }
                "unlink" => {
                    self.concepts[a].broader.retain(|&c| c != to);
                    self.concepts[b].narrower.retain(|&c| c != from);
                }
                _ => {}
            }
        }
        self.reindex();
        Ok(())
    }

    fn push_concept(&mut self, id: String, kind: ConceptKind) -> ConceptIdx {
        let idx = ConceptIdx::try_from(self.concepts.len()).unwrap_or(ConceptIdx::MAX);
        self.ids.insert(id.clone(), idx);
        self.concepts.push(Concept {
            id,
            kind,
            preferred: [None, None, None, None],
            broader: Vec::new(),
            narrower: Vec::new(),
            merged_into: None,
            sectors: Vec::new(),
        });
        idx
    }

    pub(super) fn push_label(&mut self, concept: ConceptIdx, lang: Lang, text: &str, preferred: bool, reviewed: bool) {
        let text = text.trim();
        let folded = fold(text);
        if folded.is_empty() {
            return;
        }
        let c = &mut self.concepts[concept as usize];
        // The label shown in a language is its preferred label, or for German and Luxembourgish (which ESCO lacks)
        // the first one listed. How a term matched still follows the row: `pref` is exact, anything else a synonym.
        let shown = preferred || (matches!(lang, Lang::De | Lang::Lb) && c.preferred[lang.index()].is_none());
        if shown && (preferred || c.preferred[lang.index()].is_none()) {
            c.preferred[lang.index()] = Some(text.to_owned());
        }
        self.labels.push(LabelEntry { text: text.to_owned(), folded, concept, lang, preferred, reviewed });
    }

    /// Rebuild the lookup indexes from the labels.
    pub(super) fn reindex(&mut self) {
        self.exact.clear();
        self.keyed.clear();
        self.squashed.clear();
        self.words.clear();
        self.english_words.clear();
        self.grams.clear();
        self.gram_counts.clear();
        self.prefixes.clear();
        let mut by_len: Vec<(u16, u32)> = (0..self.labels.len())
            .filter_map(|i| Some((chars_u16(&self.labels[i].folded), u32::try_from(i).ok()?)))
            .collect();
        by_len.sort_unstable();
        (self.rank_chars, self.by_len) = by_len.into_iter().unzip();
        for (rank, &i) in self.by_len.iter().enumerate() {
            let rank = u32::try_from(rank).unwrap_or(u32::MAX);
            let grams = trigrams(&self.labels[i as usize].folded);
            self.gram_counts.push(u16::try_from(grams.len()).unwrap_or(u16::MAX));
            for g in grams {
                self.grams.entry(g).or_default().push(rank);
            }
        }
        for (i, label) in self.labels.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let concept = self.resolve(label.concept);
            let squashed = label.folded.replace(' ', "");
            for (map, k) in [
                (&mut self.exact, label.folded.clone()),
                (&mut self.keyed, key(&label.folded)),
                (&mut self.squashed, squashed),
            ] {
                let entry = map.entry(k).or_insert(Hit::One(i));
                if let Hit::One(other) = *entry
                    && resolve_in(&self.concepts, self.labels[other as usize].concept) != concept
                {
                    *entry = Hit::Ambiguous;
                }
            }
            let mut start = 0;
            for word in label.folded.split(' ') {
                self.prefixes.push((label.folded[start..].to_owned(), i));
                start += word.len() + 1;
            }
        }
        self.prefixes.sort_unstable();
        let mut word_concepts: std::collections::HashSet<(String, ConceptIdx)> = std::collections::HashSet::new();
        for label in &self.labels {
            let concept = resolve_in(&self.concepts, label.concept);
            for word in label.folded.split(' ').filter(|w| !w.is_empty()) {
                word_concepts.insert((stem(word).into_owned(), concept));
                if label.lang == Lang::En {
                    let concepts = self.english_words.entry(stem(word).into_owned()).or_default();
                    if !concepts.contains(&concept) {
                        concepts.push(concept);
                    }
                }
            }
        }
        for (word, _) in word_concepts {
            *self.words.entry(word).or_insert(0) += 1;
        }
        self.neighbour_of = vec![Vec::new(); self.concepts.len()];
        for i in 0..self.concepts.len() {
            let Ok(c) = ConceptIdx::try_from(i) else { break };
            let around: Vec<ConceptIdx> = self.neighbours(c).collect();
            for n in around {
                if let Some(list) = self.neighbour_of.get_mut(n as usize) {
                    list.push(c);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHOTOGRAPHY: &str = "http://data.europa.eu/esco/skill/38509fa4-7c06-4a4b-9622-f521f03c37b8";
    const TAKE_PICTURES: &str = "http://data.europa.eu/esco/skill/441da17f-5560-43d3-920e-2865931c96d2";
    const COMMERCIAL_PHOTOGRAPHY: &str = "http://data.europa.eu/esco/skill/eac1e014-17aa-4694-a96d-540bfc06bca3";

    #[test]
    fn shipped_links_join_what_esco_keeps_apart() {
        let v = Vocabulary::shipped().unwrap();
        let photography = v.find(PHOTOGRAPHY).unwrap();
        // A photo shoot asked for is photography, so a product photographer (below it) meets it.
        assert_eq!(v.resolve(v.find(TAKE_PICTURES).unwrap()), photography);
        assert_eq!(v.normalise("Fotoshooting").concept, Some(photography));
        assert!(v.is_below(v.find(COMMERCIAL_PHOTOGRAPHY).unwrap(), photography));
        // `broader` puts a concept below another: front-end work is web development.
        let front_end = v.find("http://data.europa.eu/esco/skill/c4b1f326-224a-420a-b8b3-814a8f13b6cb").unwrap();
        assert!(v.is_below(front_end, v.find("mm:web-development").unwrap()));
        // `unlink` undoes one of ESCO's: video editing (joined from two of ESCO's concepts) is not illustration.
        let video_editing = v.normalise("video editing").concept.unwrap();
        let digital_illustration =
            v.find("http://data.europa.eu/esco/skill/8ff314a8-57d7-4b8c-bf41-79f9572fedd0").unwrap();
        assert_eq!(
            v.find("http://data.europa.eu/esco/skill/5ce80f97-b385-4a41-9339-a6593d0709c1"),
            Some(video_editing)
        );
        assert!(!v.neighbours(video_editing).any(|n| n == digital_illustration));
    }

    #[test]
    fn a_link_to_an_unknown_concept_or_of_an_unknown_kind_is_refused() {
        let mut v = Vocabulary::shipped().unwrap();
        let unknown = v.read_links("concept,relation,target,why\nmm:nothing,same,mm:web-development,x\n");
        assert!(unknown.unwrap_err().to_string().contains("mm:nothing"));
        let kind = v.read_links(&format!("concept,relation,target,why\n{TAKE_PICTURES},related,{PHOTOGRAPHY},x\n"));
        assert!(kind.unwrap_err().to_string().contains("`same`, `broader` or `unlink`"));
    }
}
