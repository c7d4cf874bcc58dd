//! A pinned synthetic cluster: members and open projects over the shipped vocabulary, with Zipf popularity over its
//! concepts and terms written the way members write them (any language, sometimes with a slip). Every term goes through
//! `Vocabulary::normalise`, so the index holds what the service would store.

use chrono::{DateTime, Duration, Utc};
use matchmaker::domain::fold::fold;
use matchmaker::domain::member::{Scope, Sector};
use matchmaker::domain::parse::ApiEnum;
use matchmaker::matching::MatchIndex;
use matchmaker::matching::model::{MemberProfile, ProjectProfile, Term};
use matchmaker::matching::vocabulary::{ConceptIdx, ConceptKind, Lang, MatchKind, Vocabulary};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use uuid::Uuid;

/// The pinned seed: the same cluster on every run and every machine.
pub const SEED: u64 = 0x00C1_A57E_2D0C_2025;
/// Exponent of the Zipf popularity over concepts.
pub const ZIPF_S: f64 = 1.0;
/// Share of terms written with a variation (case, accents, hyphen, typo, plural).
pub const VARIATION_RATE: f64 = 0.25;

/// The fixed "now" of the benchmarks: every project's deadline is after it.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
}

/// SplitMix64: small, fast, good enough for a generator, and pinned here rather than in a crate's version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// An independent stream for one purpose (members, projects, queries…), so that adding draws to one stream
    /// leaves the others as they were.
    pub fn stream(seed: u64, stream: u64) -> Self {
        let mut r = Self(seed ^ stream.wrapping_mul(0xA24B_AED4_963E_E407));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One of `items`, with probability proportional to its weight.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut x = u32::try_from(self.below(total as usize)).unwrap_or(0);
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[items.len() - 1].0
    }
}

/// Zipf popularity over a list of concepts: the concept of rank k is drawn with probability ∝ 1 / k^s.
#[derive(Debug, Clone)]
pub struct Zipf {
    items: Vec<ConceptIdx>,
    cdf: Vec<f64>,
}

impl Zipf {
    /// `items` in rank order (most popular first).
    pub fn new(items: Vec<ConceptIdx>, s: f64) -> Self {
        let mut cdf = Vec::with_capacity(items.len());
        let mut total = 0.0;
        for k in 0..items.len() {
            total += 1.0 / ((k + 1) as f64).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Self { items, cdf }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn sample(&self, rng: &mut Rng) -> ConceptIdx {
        let u = rng.unit();
        let i = self.cdf.partition_point(|&c| c <= u).min(self.items.len() - 1);
        self.items[i]
    }

    /// The probability of the most popular concept (for the report).
    pub fn head_share(&self) -> f64 {
        self.cdf.first().copied().unwrap_or(0.0)
    }

    /// `n` distinct concepts, none of them in `exclude`.
    pub fn distinct(&self, rng: &mut Rng, n: usize, exclude: &[ConceptIdx]) -> Vec<ConceptIdx> {
        let n = n.min(self.items.len().saturating_sub(exclude.len()));
        let mut out = Vec::with_capacity(n);
        let mut attempts = 0;
        while out.len() < n && attempts < 10_000 {
            attempts += 1;
            let c = self.sample(rng);
            if !out.contains(&c) && !exclude.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}

/// How the generated terms normalised.
#[derive(Debug, Clone, Copy, Default)]
pub struct TermStats {
    pub written: usize,
    pub varied: usize,
    pub exact: usize,
    pub synonym: usize,
    pub fuzzy: usize,
    /// A label found inside a longer phrase.
    pub partial: usize,
    pub free: usize,
    /// Resolved, but to another concept than the one the writer meant (a typo close to another label).
    pub other_concept: usize,
}

impl TermStats {
    fn count(&mut self, meant: ConceptIdx, got: Option<ConceptIdx>, kind: MatchKind) {
        self.written += 1;
        match kind {
            MatchKind::Exact => self.exact += 1,
            MatchKind::Synonym => self.synonym += 1,
            MatchKind::Fuzzy { .. } => self.fuzzy += 1,
            MatchKind::Partial => self.partial += 1,
            MatchKind::Chosen | MatchKind::Free => self.free += 1,
        }
        if got.is_some_and(|g| g != meant) {
            self.other_concept += 1;
        }
    }
}

/// Where members are: the cluster is in Luxembourg, its partners mostly in the neighbouring countries.
pub const COUNTRIES: &[((&str, &[&str]), u32)] = &[
    (("LU", &["Luxembourg", "Esch-sur-Alzette", "Differdange", "Dudelange", "Ettelbruck"]), 46),
    (("FR", &["Metz", "Nancy", "Paris", "Strasbourg", "Lyon"]), 12),
    (("DE", &["Trier", "Saarbrücken", "Köln", "Berlin", "München"]), 10),
    (("BE", &["Arlon", "Liège", "Bruxelles", "Gent"]), 9),
    (("NL", &["Amsterdam", "Rotterdam", "Eindhoven"]), 4),
    (("IT", &["Milano", "Torino", "Bologna"]), 4),
    (("ES", &["Barcelona", "Madrid", "València"]), 3),
    (("PT", &["Lisboa", "Porto"]), 4),
    (("AT", &["Wien", "Graz"]), 2),
    (("PL", &["Kraków", "Warszawa"]), 2),
    (("IE", &["Dublin"]), 1),
    (("DK", &["København"]), 1),
    (("SE", &["Malmö"]), 1),
    (("CZ", &["Praha"]), 1),
];

const ORG_WORDS: &[&str] =
    &["Studio", "Atelier", "Lab", "Collective", "Agency", "Productions", "Works", "Design", "Media"];

/// Writes members and projects.
#[derive(Debug)]
pub struct Generator<'v> {
    vocab: &'v Vocabulary,
    seed: u64,
    rng: Rng,
    skills: Zipf,
    topics: Zipf,
    /// The vocabulary has no theme concepts yet: interests and themes are drawn from the skills.
    pub themes_from_skills: bool,
    /// Every label of a concept, by concept index.
    labels: Vec<Vec<String>>,
    pub stats: TermStats,
    members_made: usize,
    projects_made: usize,
}

impl<'v> Generator<'v> {
    pub fn new(vocab: &'v Vocabulary, seed: u64) -> Self {
        let mut ranks = Rng::stream(seed, 1);
        let mut labels: Vec<Vec<String>> = vec![Vec::new(); vocab.len()];
        let mut skills = Vec::new();
        let mut themes = Vec::new();
        for (idx, concept) in vocab.concept_ids() {
            labels[idx as usize] = vocab.labels_of(idx).map(|(text, _)| text.to_owned()).collect();
            if labels[idx as usize].is_empty() {
                continue;
            }
            match concept.kind {
                ConceptKind::Skill => skills.push(idx),
                ConceptKind::Theme => themes.push(idx),
            }
        }
        // Popularity ranks: a pinned shuffle, so that the popular concepts are not those that sort first.
        ranks.shuffle(&mut skills);
        ranks.shuffle(&mut themes);
        let themes_from_skills = themes.is_empty();
        let topics = if themes_from_skills { skills.clone() } else { themes };
        Self {
            vocab,
            seed,
            rng: Rng::stream(seed, 2),
            skills: Zipf::new(skills, ZIPF_S),
            topics: Zipf::new(topics, ZIPF_S),
            themes_from_skills,
            labels,
            stats: TermStats::default(),
            members_made: 0,
            projects_made: 0,
        }
    }

    /// Continue on another stream of the same seed (the popularity ranks stay).
    pub fn switch_stream(&mut self, stream: u64) {
        self.rng = Rng::stream(self.seed, stream);
    }

    pub fn skill_count(&self) -> usize {
        self.skills.len()
    }

    pub fn topic_count(&self) -> usize {
        self.topics.len()
    }

    pub fn head_share(&self) -> f64 {
        self.skills.head_share()
    }

    /// A label of the concept as a member would pick it: the English or French preferred label most of the time,
    /// else any of its labels.
    fn label(&mut self, c: ConceptIdx) -> String {
        let concept = self.vocab.concept(c);
        let r = self.rng.unit();
        let lang = if r < 0.35 {
            Some(Lang::En)
        } else if r < 0.50 {
            Some(Lang::Fr)
        } else if r < 0.55 {
            Some(Lang::De)
        } else if r < 0.58 {
            Some(Lang::Lb)
        } else {
            None
        };
        match lang {
            Some(l) => concept.label(l).to_owned(),
            None => {
                let all = &self.labels[c as usize];
                if all.is_empty() { concept.label(Lang::En).to_owned() } else { self.rng.pick(all).clone() }
            }
        }
    }

    /// What a member writes for concept `c`.
    fn written(&mut self, c: ConceptIdx) -> String {
        let label = self.label(c);
        if self.rng.chance(VARIATION_RATE) {
            self.stats.varied += 1;
            vary(&mut self.rng, &label)
        } else {
            label
        }
    }

    fn term(&mut self, c: ConceptIdx, strength: u8) -> Term {
        let text = self.written(c);
        let n = self.vocab.normalise(&text);
        self.stats.count(c, n.concept, n.kind);
        Term { text, concept: n.concept, kind: n.kind, strength, place: None }
    }

    fn terms(&mut self, concepts: &[ConceptIdx], strength: impl Fn(&mut Rng) -> u8) -> Vec<Term> {
        concepts
            .iter()
            .map(|&c| {
                let s = strength(&mut self.rng);
                self.term(c, s)
            })
            .collect()
    }

    fn sectors(&mut self, lo: usize, hi: usize) -> Vec<Sector> {
        let mut all = <Sector as ApiEnum>::ALL.to_vec();
        self.rng.shuffle(&mut all);
        all.truncate(self.rng.range(lo, hi));
        all.sort();
        all
    }

    pub fn member(&mut self) -> MemberProfile {
        let n = self.members_made;
        self.members_made += 1;
        let id = self.rng.uuid();
        let (country, cities) = *self.rng.weighted(COUNTRIES);
        let city = self.rng.chance(0.8).then(|| (*self.rng.pick(cities)).to_owned());
        let word = *self.rng.pick(ORG_WORDS);
        let website = self.rng.chance(0.85).then(|| format!("https://member{n:05}.example.org"));
        let sectors = self.sectors(1, 3);
        let mut scopes = <Scope as ApiEnum>::ALL.to_vec();
        self.rng.shuffle(&mut scopes);
        // None listed: open to every scope.
        scopes.truncate(self.rng.below(scopes.len() + 1));
        scopes.sort();
        let k = self.rng.range(3, 12);
        let offered = self.skills.distinct(&mut self.rng, k, &[]);
        let k = self.rng.range(2, 8);
        let needed = self.skills.distinct(&mut self.rng, k, &offered);
        let k = self.rng.range(1, 4);
        let interested = self.topics.distinct(&mut self.rng, k, &[]);
        let level = |r: &mut Rng| u8::try_from(r.range(1, 5)).unwrap_or(1);
        let offers = self.terms(&offered, level);
        let needs = self.terms(&needed, level);
        let interests = self.terms(&interested, |_| 1);
        MemberProfile {
            id,
            name: format!("{word} {n:05}"),
            country: country.to_owned(),
            size: None,
            city,
            website,
            sectors,
            scopes,
            offers,
            needs,
            interests,
            discoverable: self.rng.chance(0.92),
            active: self.rng.chance(0.97),
        }
    }

    /// An open project (its deadline after `now`); `members` are candidates for its lead.
    pub fn project(&mut self, now: DateTime<Utc>, members: &[Uuid]) -> ProjectProfile {
        let n = self.projects_made;
        self.projects_made += 1;
        let id = self.rng.uuid();
        let scope = *self.rng.weighted(&[(Scope::National, 30), (Scope::European, 50), (Scope::International, 20)]);
        let sectors = self.sectors(1, 2);
        let k = self.rng.range(3, 8);
        let required = self.skills.distinct(&mut self.rng, k, &[]);
        let k = self.rng.range(0, 3);
        let themed = self.topics.distinct(&mut self.rng, k, &[]);
        let weight = |r: &mut Rng| u8::try_from(r.range(1, 5)).unwrap_or(1);
        let required = self.terms(&required, weight);
        let themes = self.terms(&themed, |_| 1);
        let mut eligible_countries = Vec::new();
        if self.rng.chance(0.3) {
            let wanted = self.rng.range(2, 8);
            while eligible_countries.len() < wanted {
                let (c, _) = *self.rng.weighted(COUNTRIES);
                if !eligible_countries.iter().any(|e| e == c) {
                    eligible_countries.push(c.to_owned());
                }
            }
            eligible_countries.sort();
        }
        let min_partners = u32::try_from(self.rng.range(1, 3)).unwrap_or(1);
        let max_partners = min_partners + u32::try_from(self.rng.range(0, 5)).unwrap_or(0);
        let min_countries = u32::try_from(self.rng.range(1, 3)).unwrap_or(1);
        let deadline = now + Duration::days(i64::try_from(self.rng.range(7, 240)).unwrap_or(30));
        let lead = (self.rng.chance(0.35) && !members.is_empty()).then(|| *self.rng.pick(members));
        ProjectProfile {
            id,
            title: format!("Call {n:05}"),
            scope,
            sectors,
            required,
            themes,
            eligible_countries,
            eligible_sizes: Vec::new(),
            deadline: Some(deadline),
            closed: false,
            min_partners,
            max_partners,
            min_countries,
            lead,
        }
    }

    /// Generate and index `members` members, then `projects` open projects, one at a time (nothing else is kept but
    /// their ids, appended to the given lists).
    pub fn populate(
        &mut self,
        index: &mut MatchIndex,
        members: usize,
        projects: usize,
        member_ids: &mut Vec<Uuid>,
        project_ids: &mut Vec<Uuid>,
    ) {
        for _ in 0..members {
            let m = self.member();
            member_ids.push(m.id);
            index.upsert_member(m);
        }
        for _ in 0..projects {
            let p = self.project(now(), member_ids);
            project_ids.push(p.id);
            index.upsert_project(p);
        }
    }

    /// `n` mistyped labels (of concepts drawn by popularity) that need the fuzzy path: neither their folded text nor
    /// their stemmed key is a label. With the concept each was meant for.
    pub fn typo_batch(&mut self, n: usize) -> Vec<(String, ConceptIdx)> {
        let mut out = Vec::with_capacity(n);
        let mut attempts = 0;
        while out.len() < n && attempts < n * 100 {
            attempts += 1;
            let c = self.skills.sample(&mut self.rng);
            let label = self.label(c);
            if fold(&label).chars().count() < 6 {
                continue;
            }
            let text = typo(&mut self.rng, &label);
            if matches!(self.vocab.normalise(&text).kind, MatchKind::Fuzzy { .. } | MatchKind::Free) {
                out.push((text, c));
            }
        }
        out
    }
}

/// One realistic variation of a label.
pub fn vary(rng: &mut Rng, text: &str) -> String {
    match rng.below(6) {
        0 => text.to_lowercase(),
        1 => text.to_uppercase(),
        2 if !text.is_ascii() => text.nfd().filter(|c| !is_combining_mark(*c)).collect(),
        2 => capitalised(text),
        3 => hyphen_space(text),
        4 => typo(rng, text),
        _ => plural(text),
    }
}

fn capitalised(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            let mut cs = w.chars();
            cs.next().map_or_else(String::new, |f| f.to_uppercase().chain(cs).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn hyphen_space(text: &str) -> String {
    if text.contains('-') {
        text.replace('-', " ")
    } else if text.contains(' ') {
        text.replacen(' ', "-", 1)
    } else {
        text.to_lowercase()
    }
}

fn plural(text: &str) -> String {
    if text.ends_with(|c: char| c.is_alphabetic() && c != 's') { format!("{text}s") } else { text.to_lowercase() }
}

/// A single slip of the keyboard, never on the first letter: two letters swapped, one dropped or one doubled.
pub fn typo(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let letters: Vec<usize> = (1..chars.len()).filter(|&i| chars[i].is_alphabetic()).collect();
    if letters.is_empty() {
        return text.to_owned();
    }
    let i = letters[rng.below(letters.len())];
    match rng.below(3) {
        0 if i + 1 < chars.len() && chars[i + 1].is_alphabetic() && chars[i] != chars[i + 1] => chars.swap(i, i + 1),
        0 | 1 => {
            chars.remove(i);
        }
        _ => chars.insert(i, chars[i]),
    }
    chars.into_iter().collect()
}
