//! Import of open funding calls from the EU Funding & Tenders portal export (CSV): each row becomes a `european`
//! project keyed by its `reference`; HTML is stripped; deadlines, given without an offset, are Brussels time; required
//! skills and themes are read from the text against the vocabulary. Re-importing the same file changes nothing.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Brussels;
use serde::Serialize;

use crate::db::WriteError;
use crate::db::changes::{self, Entity};
use crate::db::imports::{self, ImportRow};
use crate::db::{DbConnection, projects};
use crate::domain::member::{Scope, Sector};
use crate::domain::parse::ApiEnum as _;
use crate::domain::project::{CallFilter, ProjectDraft, ProjectStatus};
use crate::domain::term::{Resolution, Term, TermItem};
use crate::matching::Vocabulary;
use crate::matching::vocabulary::{ConceptKind, MatchKind};
use serde_json::json;

/// What an import did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Of the calls imported (created, updated or unchanged), those left out of the cluster's.
    pub left_out: usize,
    /// Of the calls imported, those open on the service's clock (opened, deadline to come), forthcoming (their
    /// opening date, the export's `start_date`, to come), and closed (deadline passed).
    pub open: usize,
    pub forthcoming: usize,
    pub closed: usize,
    /// Of the calls the portal's search returned before (syncs only; 0 for a file), those this sync did not return:
    /// still open after one such sync (`missing`), closed as withdrawn after the second (`withdrawn`).
    pub missing: usize,
    pub withdrawn: usize,
    /// What staff should know: that no imported call is open, say.
    pub warnings: Vec<String>,
    pub skipped: Vec<Skipped>,
}

/// Where an import's calls came from and who asked, for its entry in the log.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// `upload` (the API), `file` (the command line) or `portal` (the sync).
    pub source: &'a str,
    pub requested_by: &'a str,
    pub started: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line of the record in the file (after the header); for a sync, the record's place in the search's
    /// results.
    pub row: usize,
    pub reference: Option<String>,
    pub reason: String,
}

/// At most this many required skills are read from a call's text.
const MAX_SKILLS: usize = 8;
const MAX_THEMES: usize = 6;

/// The most HTML read from one field of a call: far beyond any real call's text (the stored description is cut at
/// [`DESCRIPTION_MAX`] characters anyway), and a bound on the work a hostile file can ask for.
pub const HTML_MAX_BYTES: usize = 512 * 1024;

/// The longest description stored (the limit of `POST /v1/projects`).
const DESCRIPTION_MAX: usize = 50_000;

/// Text of an HTML fragment: tags dropped, entities decoded, scripts and styles left out, white space folded; at most
/// [`HTML_MAX_BYTES`] of input are read.
///
/// It runs html5ever's tokenizer alone, which is linear in its input; its tree builder is not, on deeply nested
/// markup (every start tag searches the stack of open elements), and a text needs no tree.
pub fn strip_html(html: &str) -> String {
    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};

    /// Collects character data; a tag separates words.
    struct Text {
        out: std::cell::RefCell<String>,
        skipping: std::cell::Cell<bool>,
    }

    impl TokenSink for Text {
        type Handle = ();

        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            match token {
                Token::CharacterTokens(t) if !self.skipping.get() => self.out.borrow_mut().push_str(&t),
                Token::TagToken(tag) => {
                    self.out.borrow_mut().push(' ');
                    let raw = matches!(&*tag.name, "script" | "style");
                    if raw && tag.kind == TagKind::StartTag {
                        // As the tree builder would: what follows is raw text up to the end tag, and not shown.
                        self.skipping.set(true);
                        return TokenSinkResult::RawData(html5ever::tokenizer::states::RawKind::Rawtext);
                    }
                    if raw {
                        self.skipping.set(false);
                    }
                }
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }

    let mut end = html.len().min(HTML_MAX_BYTES);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    if end < html.len()
        && let Some(open) = html[..end].rfind('<')
        && !html[open..end].contains('>')
    {
        // Cut before a tag the bound would split, not inside it.
        end = open;
    }
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(&html[..end]));
    let tokenizer = Tokenizer::new(
        Text { out: std::cell::RefCell::new(String::new()), skipping: std::cell::Cell::new(false) },
        Default::default(),
    );
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let text = tokenizer.sink.out.take();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A deadline as the export writes it (`2025-03-04T17:00:00`, Brussels time), in UTC. A time with an offset, as the
/// portal's search API writes them (`2025-04-23T00:00:00.000+0000`, or RFC 3339), is read with its offset.
pub fn brussels(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Some(t) = DateTime::parse_from_rfc3339(t)
        .ok()
        .or_else(|| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
        .or_else(|| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%z").ok())
    {
        return Some(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S"))
        .ok()?;
    // `earliest` resolves the autumn hour that happens twice; a time that doesn't exist (spring) has no answer.
    Brussels.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc))
}

/// The next cut-off after `now`, or the last one if all have passed.
pub fn next_cutoff(cutoffs: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut sorted = cutoffs.to_vec();
    sorted.sort();
    sorted.iter().copied().find(|d| *d > now).or_else(|| sorted.last().copied())
}

fn money(text: &str) -> Option<i64> {
    let v: f64 = text.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| v.round() as i64)
}

/// Consortium rules the export does not state but the action type implies: research and innovation, innovation
/// and coordination actions of Horizon Europe, and Creative Europe cooperation projects, need three partners from
/// three countries; other calls are open to single applicants.
fn partner_rules(identifier: &str, action_type: &str) -> (u32, u32) {
    let a = action_type.to_uppercase();
    let consortium = ["-RIA", "-IA ", "-IA-", "-CSA", " RIA", " IA ", " CSA"].iter().any(|k| a.contains(k))
        || a.ends_with("-IA")
        || identifier.contains("-COOP")
        || identifier.contains("INNOVLAB");
    if consortium { (3, 3) } else { (1, 1) }
}

/// The sectors a call's programme strand is about, by a part of its identifier (the first part that matches).
/// Creative Europe's strands (MEDIA, Culture, Cross-sectoral) and the programme parts whose name says what they
/// fund: the European Collaborative Cloud for Cultural Heritage (ECCCH), Horizon's cultural-heritage topics, the New
/// European Bauhaus, and the information measures for the EU's cohesion policy (INFOME: media and communication).
fn strand_sectors(identifier: &str) -> Vec<Sector> {
    const STRANDS: &[(&str, &[Sector])] = &[
        ("DEVVGIM", &[Sector::Games, Sector::NewMedia]),
        ("CREA-MEDIA", &[Sector::Cinematography]),
        ("CREA-CULT", &[Sector::CraftsAndArt]),
        ("INNOVLAB", &[Sector::Design, Sector::NewMedia]),
        ("CREA-CROSS", &[Sector::NewMedia, Sector::MarketingAndCommunication]),
        ("ECCCH", &[Sector::NewMedia, Sector::Architecture, Sector::CraftsAndArt]),
        ("HERITAGE", &[Sector::Architecture, Sector::CraftsAndArt]),
        ("NEB", &[Sector::Architecture, Sector::Design]),
        ("INFOME", &[Sector::MarketingAndCommunication, Sector::NewMedia]),
    ];
    STRANDS.iter().find(|(key, _)| identifier.contains(key)).map_or_else(Vec::new, |(_, s)| s.to_vec())
}

/// A call's sectors: those of its programme strand, and those of the skills and themes read from its text.
fn call_sectors(identifier: &str, vocab: &Vocabulary, terms: &[&TermItem]) -> Vec<Sector> {
    let mut out = strand_sectors(identifier);
    for t in terms {
        let Some(c) = t.resolution.concept.as_deref().and_then(|c| vocab.find(c)) else { continue };
        for s in &vocab.concept(c).sectors {
            if !out.contains(s) {
                out.push(*s);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Skills a Creative Europe strand is about, for calls whose text names none: only strands whose name says what
/// they fund (Circulation of literary works, the Collaborative Cloud for cultural heritage's digitisation, Films
/// on the move, Video games and immersive content, journalism partnerships, media freedom, media literacy).
fn strand_skills(identifier: &str) -> &'static [&'static str] {
    const STRANDS: &[(&str, &[&str])] = &[
        ("-LIT", &["publishing industry"]),
        ("ECCCH", &["digitisation of cultural heritage"]),
        ("FILMOVE", &["film distribution"]),
        ("DEVVGIM", &["video game development"]),
        ("JOURPART", &["journalism"]),
        ("-MFP", &["journalism"]),
        ("MEDIALITERACY", &["journalism"]),
    ];
    STRANDS.iter().find(|(key, _)| identifier.contains(key)).map_or(&[], |(_, skills)| skills)
}

fn term(text: &str, concept: &str, strength: Option<u8>) -> TermItem {
    TermItem {
        term: Term::from_stored(text.chars().take(crate::domain::term::TERM_MAX).collect()),
        strength,
        chosen: None,
        resolution: Resolution { concept: Some(concept.to_owned()), kind: "synonym", similarity: None },
    }
}

/// The page of a call on the Funding & Tenders portal, the identifier percent-encoded as one path segment.
pub fn topic_url(identifier: &str) -> Option<String> {
    let mut url = url::Url::parse(
        "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details",
    )
    .ok()?;
    url.path_segments_mut().ok()?.push(&identifier.to_lowercase());
    Some(url.to_string())
}

/// Longest `reference` kept: the export's are some fifty characters.
pub const REFERENCE_MAX: usize = 200;

/// The problems of a row as one line of the import's report: `title: must be a single line; …`.
fn describe(errors: &[crate::domain::FieldError]) -> String {
    errors
        .iter()
        .map(|e| match e.pointer.trim_start_matches('/') {
            "" => e.detail.clone(),
            field => format!("{}: {}", field.replace('/', "."), e.detail),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One export row as a project, or why not. The row is checked by the rules of `POST /v1/projects` (the same
/// parser reads it), so an imported call is one that staff can later edit.
pub fn row_to_draft(
    row: &HashMap<String, String>,
    vocab: &Vocabulary,
    now: DateTime<Utc>,
) -> Result<(String, ProjectDraft), String> {
    let get = |k: &str| row.get(k).map(|s| s.trim()).unwrap_or_default();
    let reference = crate::domain::parse::line(&json!(get("reference")), 1, REFERENCE_MAX)
        .map_err(|e| format!("reference: {}", describe(&e)))?;
    let title = get("title");
    let identifier = get("identifier");
    let mut cutoffs = Vec::new();
    for k in ["deadline", "deadline2"] {
        let raw = get(k);
        if !raw.is_empty() {
            cutoffs.push(brussels(raw).ok_or_else(|| format!("{k}: `{raw}` is not a date-time"))?);
        }
    }
    let description = strip_html(get("description"));
    let details = [get("mission_details"), get("destination_details")].map(strip_html).join(" ");
    let text = format!("{title}. {identifier}. {description} {details}");
    // A call names in passing many things it is not about ("video games" among a heritage call's examples, "social
    // media" in a cybersecurity call): a skill or theme is the call's when its title names it or its text names it
    // at least twice, and a skill only when it belongs to one of the cluster's sectors.
    let in_title: Vec<_> = vocab.scan(title, 4).into_iter().map(|(idx, ..)| idx).collect();
    let mut skills = Vec::new();
    let mut themes = Vec::new();
    for (idx, count, surface) in vocab.scan(&text, 4) {
        let c = vocab.concept(idx);
        if count < 2 && !in_title.contains(&idx) {
            continue;
        }
        match c.kind {
            ConceptKind::Skill if skills.len() < MAX_SKILLS && !c.sectors.is_empty() => {
                let weight = u8::try_from(count.clamp(1, 5)).unwrap_or(1);
                skills.push(term(&surface, &c.id, Some(weight)));
            }
            ConceptKind::Theme if themes.len() < MAX_THEMES => themes.push(term(&surface, &c.id, None)),
            _ => {}
        }
    }
    if skills.is_empty() {
        // Some calls are a title and nothing else: fall back on what their programme strand is about.
        for label in strand_skills(identifier) {
            let found = vocab.normalise(label);
            if let (Some(idx), MatchKind::Exact | MatchKind::Synonym) = (found.concept, found.kind) {
                let c = vocab.concept(idx);
                skills.push(term(label, &c.id, Some(3)));
            }
        }
    }
    let (min_partners, min_countries) = partner_rules(identifier, get("action_type"));
    let deadline = next_cutoff(&cutoffs, now);
    // The export's `start_date` is when applications open; one not before the deadline is read as none.
    let opens_at = Some(get("start_date"))
        .filter(|s| !s.is_empty())
        .and_then(brussels)
        .filter(|o| deadline.is_none_or(|d| *o < d));
    let mut budget_min = money(get("budget_min"));
    let budget_max = money(get("budget_max"));
    if let (Some(min), Some(max)) = (budget_min, budget_max)
        && min > max
    {
        budget_min = None;
    }
    let terms = |list: &[TermItem], key: &str| -> Vec<serde_json::Value> {
        list.iter()
            .map(|t| match t.strength {
                Some(s) => json!({"term": t.term.as_str(), key: s}),
                None => json!({"term": t.term.as_str()}),
            })
            .collect()
    };
    if skills.is_empty() && themes.len() < 2 && strand_sectors(identifier).is_empty() {
        // A call outside the creative strands that names no skill of the cluster's trades is the cluster's only if
        // its text names two of its themes: one theme word ("co-production" of biofuels, "smart cities") is too
        // little to carry it to members.
        themes.clear();
    }
    let sectors = call_sectors(identifier, vocab, &skills.iter().chain(&themes).collect::<Vec<_>>());
    if sectors.is_empty() {
        // A call in none of the cluster's sectors (no creative strand, no skill of one) is outside the cluster: a
        // theme it shares in passing ("cross-border" SOC platforms) must not carry it to members.
        themes.clear();
    }
    let body = json!({
        "sectors": sectors,
        "title": title,
        "description": description.chars().take(DESCRIPTION_MAX).collect::<String>(),
        "scope": Scope::European.as_str(),
        "programme": identifier.split('-').next().filter(|p| !p.is_empty()),
        "call_id": (!identifier.is_empty()).then_some(identifier),
        "opens_at": opens_at.map(|d| d.to_rfc3339()),
        "deadline": deadline.map(|d| d.to_rfc3339()),
        "budget_min": budget_min,
        "budget_max": budget_max,
        "source_url": (!identifier.is_empty()).then(|| topic_url(identifier)).flatten(),
        "required_skills": terms(&skills, "weight"),
        "themes": terms(&themes, "weight"),
        "min_partners": min_partners,
        "min_countries": min_countries,
    });
    let mut draft = ProjectDraft::parse(&body).map_err(|e| describe(&e))?;
    // The terms were read against the vocabulary already: keep the concepts the scan found.
    draft.required_skills = skills;
    draft.themes = themes;
    Ok((reference, draft))
}

/// Import one parsed row inside a write transaction: create, update, or leave alone; left out as the filter says,
/// unless staff let the call in. The fields staff changed since the call was first imported stay as staff left
/// them (a skill they added, a lead, the call closed); the others take the import's values. A staff edit that no
/// longer fits what the import brings (a deadline now before the call opens) gives way to the import's value and is
/// no longer kept, with a warning in `warnings`. Returns what happened, the project's id, and whether it is left out.
pub fn upsert(
    conn: &mut DbConnection,
    reference: &str,
    mut draft: ProjectDraft,
    left_out: Option<String>,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Result<(Outcome, uuid::Uuid, bool), WriteError> {
    let Some(existing) = projects::find_by_reference(conn, reference)? else {
        let p = projects::insert(conn, draft, Some(reference), left_out, now)?;
        changes::record(conn, Entity::Project, &p.id.to_string(), now)?;
        return Ok((Outcome::Created, p.id, p.left_out.is_some()));
    };
    let left_out = left_out.filter(|_| !existing.let_in);
    let given_way = draft.keep_fitting(&existing.draft, &existing.edited);
    if existing.draft == draft && existing.left_out == left_out && given_way.is_empty() {
        return Ok((Outcome::Unchanged, existing.id, left_out.is_some()));
    }
    let mut p = existing;
    if !given_way.is_empty() {
        let reasons: Vec<String> = given_way
            .iter()
            .flat_map(|(_, errors)| {
                errors.iter().map(|e| format!("{} {}", e.pointer.trim_start_matches('/'), e.detail))
            })
            .collect();
        let fields: Vec<&str> = given_way.iter().map(|(f, _)| f.as_str()).collect();
        warnings.push(format!(
            "call {reference}: the staff edit of {} no longer fits the call as imported ({}); the imported value \
             was taken and is followed from now on",
            fields.join(", "),
            reasons.join("; ")
        ));
        p.edited.retain(|f| !fields.contains(&f.as_str()));
    }
    if p.draft != draft || !given_way.is_empty() {
        p = projects::replace(conn, &p, draft, now)?;
    }
    if p.left_out != left_out {
        p = projects::set_left_out(conn, &p, left_out, p.let_in, now)?;
    }
    changes::record(conn, Entity::Project, &p.id.to_string(), now)?;
    Ok((Outcome::Updated, p.id, p.left_out.is_some()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// A record of the export: its line number and its fields by column name.
pub type Row = (usize, HashMap<String, String>);

/// Parse an export: its records as maps by header, each with its line number.
pub fn read_rows(data: &[u8]) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
    let headers = reader.headers().map_err(|e| format!("the header row cannot be read: {e}"))?.clone();
    for needed in ["identifier", "title", "reference", "deadline", "description"] {
        if !headers.iter().any(|h| h == needed) {
            return Err(format!("this is not a Funding & Tenders export: the column `{needed}` is missing"));
        }
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("record {} cannot be read: {e}", i + 1))?;
        let map = headers.iter().zip(record.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect();
        rows.push((i + 1, map));
    }
    Ok(rows)
}

/// The rows of an export that passed the checks, ready to store, and the summary so far (with the skipped ones).
#[derive(Debug)]
pub struct Prepared {
    /// Each call's reference, fields, and why it is left out (if it is).
    pub rows: Vec<(String, ProjectDraft, Option<String>)>,
    pub summary: Summary,
}

/// Read an export and check every row: no database needed, so none is held (on SQLite, no writer waits) while the
/// HTML is stripped and the texts are read. `progress` is called after each row.
pub fn prepare(
    data: &[u8],
    vocab: &Vocabulary,
    filter: &CallFilter,
    now: DateTime<Utc>,
    progress: impl FnMut(usize, usize),
) -> Result<Prepared, ImportError> {
    let rows = read_rows(data).map_err(ImportError::Format)?;
    Ok(prepare_rows(rows, vocab, filter, now, progress))
}

/// Read and check rows (of an export, or made from the portal's records) as [`prepare`] does.
pub fn prepare_rows(
    rows: Vec<Row>,
    vocab: &Vocabulary,
    filter: &CallFilter,
    now: DateTime<Utc>,
    mut progress: impl FnMut(usize, usize),
) -> Prepared {
    let total = rows.len();
    let mut prepared =
        Prepared { rows: Vec::with_capacity(total), summary: Summary { rows: total, ..Summary::default() } };
    for (n, (line, row)) in rows.into_iter().enumerate() {
        match row_to_draft(&row, vocab, now) {
            Ok((reference, draft)) => {
                match draft.status(now) {
                    ProjectStatus::Open => prepared.summary.open += 1,
                    ProjectStatus::Forthcoming => prepared.summary.forthcoming += 1,
                    ProjectStatus::Closed => prepared.summary.closed += 1,
                }
                let left_out = filter.left_out(&draft, row.get("action_type").map_or("", String::as_str));
                prepared.rows.push((reference, draft, left_out));
            }
            Err(reason) => prepared.summary.skipped.push(Skipped {
                row: line,
                reference: row.get("reference").map(|r| r.chars().take(REFERENCE_MAX).collect()),
                reason,
            }),
        }
        progress(n + 1, total);
    }
    let s = &mut prepared.summary;
    if s.closed > 0 && s.open + s.forthcoming == 0 {
        s.warnings.push(format!(
            "none of the {} calls imported is open on the service's clock ({}): every deadline has passed, so members \
             get none of them; import a recent export",
            s.closed,
            now.format("%Y-%m-%d")
        ));
    }
    prepared
}

/// Store the prepared rows in one write transaction: every row, or none when storage fails, with the import's entry
/// in the log. Returns the summary and the projects that changed (for the caller to refresh its index once
/// committed).
pub fn store(
    conn: &mut DbConnection,
    prepared: Prepared,
    origin: Origin<'_>,
    now: DateTime<Utc>,
) -> Result<(Summary, Vec<uuid::Uuid>), ImportError> {
    let Prepared { rows, mut summary } = prepared;
    let changed = crate::db::write(conn, |conn| {
        let changed = upsert_all(conn, rows, &mut summary, now, |_, _| Ok(()))?;
        let logged = serde_json::to_string(&summary).map_err(|e| WriteError::Db(anyhow::anyhow!(e).into()))?;
        let entry = ImportRow::new(origin.source, origin.requested_by, (origin.started, now), Ok(logged));
        imports::insert(conn, &entry)?;
        Ok::<_, WriteError>(changed)
    })?;
    Ok((summary, changed))
}

/// Upsert prepared rows inside the caller's write transaction, counting in `summary`; `each` is told every stored
/// call's id. Returns the projects that changed.
pub fn upsert_all(
    conn: &mut DbConnection,
    rows: Vec<(String, ProjectDraft, Option<String>)>,
    summary: &mut Summary,
    now: DateTime<Utc>,
    mut each: impl FnMut(&mut DbConnection, uuid::Uuid) -> Result<(), WriteError>,
) -> Result<Vec<uuid::Uuid>, WriteError> {
    let mut changed = Vec::new();
    for (reference, draft, left_out) in rows {
        let (outcome, id, left_out) = upsert(conn, &reference, draft, left_out, now, &mut summary.warnings)?;
        summary.left_out += usize::from(left_out);
        match outcome {
            Outcome::Created => summary.created += 1,
            Outcome::Updated => summary.updated += 1,
            Outcome::Unchanged => summary.unchanged += 1,
        }
        each(conn, id)?;
        if outcome != Outcome::Unchanged {
            changed.push(id);
        }
    }
    Ok(changed)
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Format(String),
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl From<crate::db::DbError> for ImportError {
    fn from(e: crate::db::DbError) -> Self {
        Self::Write(WriteError::Db(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deep nesting made the tree builder quadratic (100,000 nested `<div>`s took 27 s); the tokenizer reads it in
    /// one pass, and input past the bound is not read at all.
    #[test]
    fn html_is_read_in_one_pass_up_to_a_bound() {
        let depth = 100_000;
        let nested = format!("{}deep{}", "<div>".repeat(depth), "</div>".repeat(depth));
        assert_eq!(strip_html(&nested), "deep");
        let huge = format!("<p>{}</p><p>after the bound</p>", "word ".repeat(HTML_MAX_BYTES / 5));
        let text = strip_html(&huge);
        assert!(!text.contains("after the bound"));
        assert!(text.len() <= HTML_MAX_BYTES);
        let multibyte = "é".repeat(HTML_MAX_BYTES);
        assert!(strip_html(&multibyte).chars().all(|c| c == 'é'), "cut on a character boundary");
    }

    #[test]
    fn html_and_brussels_time() {
        assert_eq!(
            strip_html("<span>Objective</span>:<p>The aim &amp; <strong>scope</strong></p>"),
            "Objective : The aim & scope"
        );
        assert_eq!(strip_html("<p>a</p><script>var x = '<p>no</p>';</script><style>p{}</style>b"), "a b");
        assert_eq!(strip_html("caf&eacute; &lt;3&gt; &#x41;"), "café <3> A");
        assert_eq!(brussels("2025-03-04T17:00:00").unwrap().to_rfc3339(), "2025-03-04T16:00:00+00:00", "CET");
        assert_eq!(brussels("2025-09-04T17:00:00").unwrap().to_rfc3339(), "2025-09-04T15:00:00+00:00", "CEST");
        assert!(brussels("soon").is_none());
        assert_eq!(brussels("2025-04-23T00:00:00.000+0000").unwrap().to_rfc3339(), "2025-04-23T00:00:00+00:00");
        assert_eq!(brussels("2025-04-23T17:00:00+02:00").unwrap().to_rfc3339(), "2025-04-23T15:00:00+00:00");
        let a = brussels("2024-11-06T17:00:00").unwrap();
        let b = brussels("2025-04-08T17:00:00").unwrap();
        let now = brussels("2024-12-01T00:00:00").unwrap();
        assert_eq!(next_cutoff(&[a, b], now), Some(b));
        assert_eq!(next_cutoff(&[b, a], brussels("2026-01-01T00:00:00").unwrap()), Some(b), "all past: the last");
        assert_eq!(
            partner_rules(
                "HORIZON-CL2-2024-HERITAGE-ECCCH-01-01",
                "HORIZON-RIA HORIZON Research and Innovation Actions"
            ),
            (3, 3)
        );
        assert_eq!(partner_rules("ERC-2025-SyG", "HORIZON-ERC-SYG HORIZON ERC Synergy Grants"), (1, 1));
    }

    fn call(identifier: &str, title: &str, description: &str) -> ProjectDraft {
        let row: HashMap<String, String> = [
            ("reference", format!("ref-{identifier}")),
            ("identifier", identifier.to_owned()),
            ("title", title.to_owned()),
            ("description", description.to_owned()),
            ("deadline", "2025-02-03T17:00:00".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let vocab = Vocabulary::shipped().unwrap();
        row_to_draft(&row, &vocab, brussels("2024-10-15T09:00:00").unwrap()).unwrap().1
    }

    /// One theme word in a call of another field does not bring it to the cluster's members: the "co-production" of
    /// biofuels is not a film co-production. Two of the cluster's themes do, skills or not.
    #[test]
    fn one_theme_word_does_not_make_a_call_the_clusters() {
        let energy = call(
            "HORIZON-CL5-2024-D3-02-03",
            "Integrated bio-refineries for co-production of advanced biofuels and biomaterials",
            "<p>Refinery concepts for the co-production of advanced biofuels and bio-based products.</p>",
        );
        assert!(energy.themes.is_empty() && energy.sectors.is_empty(), "{:?} {:?}", energy.themes, energy.sectors);
        let buildings = call(
            "HORIZON-CL5-2024-D4-02-04",
            "Design for re-use and deconstruction of buildings, in line with the circular economy",
            "<p>The built environment in a circular economy perspective; the built environment is its subject.</p>",
        );
        assert_eq!(buildings.themes.len(), 2, "{:?}", buildings.themes);
        assert!(buildings.sectors.contains(&Sector::Architecture));
    }
}
