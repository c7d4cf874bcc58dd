//! A project: an open collaborative project or funding call (national, European, international) that members can
//! join, posted by staff, by a member that leads it, or imported from the EU Funding & Tenders portal.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::member::{Scope, Sector, Size, country, enum_set, timestamp, website};
use super::parse::{ApiEnum, Check, FieldError, ObjectParser, fail, integer, line, text};
use super::term::{self, TermItem};
use crate::api_enum;

api_enum!(
    /// Forthcoming until its opening date, open until its deadline passes or staff close it. Written, only `open`
    /// and `closed` are taken (forthcoming follows from `opens_at`).
    ProjectStatus { Open => "open", Forthcoming => "forthcoming", Closed => "closed" }
);

/// Whether a project open to `countries` and `sizes` (empty: any) admits a member of `country` and `size`: a member
/// that has not stated its size is not known to be ineligible. One rule for rankings, teams and the suggestions
/// already made.
pub fn admits(countries: &[String], sizes: &[Size], country: &str, size: Option<Size>) -> bool {
    (countries.is_empty() || countries.iter().any(|c| c == country))
        && (sizes.is_empty() || size.is_none_or(|s| sizes.contains(&s)))
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectDraft {
    pub title: String,
    pub description: String,
    pub scope: Scope,
    pub programme: Option<String>,
    pub call_id: Option<String>,
    /// When applications open (a call announced before it opens is forthcoming until then).
    pub opens_at: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    pub source_url: Option<String>,
    pub required_skills: Vec<TermItem>,
    pub themes: Vec<TermItem>,
    pub sectors: Vec<Sector>,
    pub eligible_countries: Vec<String>,
    /// Who may apply by size (a grant for individual artists: `one_person`); empty: any size.
    pub eligible_sizes: Vec<Size>,
    pub min_partners: u32,
    pub max_partners: Option<u32>,
    pub min_countries: u32,
    pub lead_member_id: Option<Uuid>,
    /// Closed by staff (a deadline in the past closes it too, see [`Project::status`]).
    pub closed: bool,
}

pub const WRITABLE: &[&str] = &[
    "title",
    "description",
    "scope",
    "programme",
    "call_id",
    "opens_at",
    "deadline",
    "budget_min",
    "budget_max",
    "source_url",
    "required_skills",
    "themes",
    "sectors",
    "eligible_countries",
    "eligible_sizes",
    "min_partners",
    "max_partners",
    "min_countries",
    "lead_member_id",
    "status",
];
pub const READ_ONLY: &[&str] = &["id", "reference", "left_out", "let_in", "edited_fields", "created_at", "updated_at"];

fn datetime(value: &Value) -> Check<DateTime<Utc>> {
    match value.as_str().map(DateTime::parse_from_rfc3339) {
        Some(Ok(t)) => Ok(crate::clock::to_micros(t.to_utc())),
        _ => fail("must be an RFC 3339 date-time with an offset, e.g. 2026-03-31T17:00:00+02:00"),
    }
}

fn euros(value: &Value) -> Check<i64> {
    integer(value, 0, 1_000_000_000_000)
}

fn count(value: &Value) -> Check<u32> {
    integer(value, 0, 1000).map(|n| u32::try_from(n).unwrap_or(0))
}

/// The 27 member states of the European Union, which `EU` stands for in a list of eligible countries.
pub const EU_MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// Eligible countries: any number of ISO 3166-1 alpha-2 codes, each once, and `EU` for the 27 member states (stored
/// as the codes, in the order first named).
fn eligible(value: &Value) -> Check<Vec<String>> {
    let items = value.as_array().map_or_else(|| fail("must be an array of country codes"), Ok)?;
    if items.len() > 300 {
        return fail("must have at most 300 items");
    }
    let mut out: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let codes = match item.as_str().map(str::trim) {
            Some(g) if g.eq_ignore_ascii_case("EU") => Ok(EU_MEMBER_STATES.iter().map(|c| (*c).to_owned()).collect()),
            _ => country(item).map(|c| vec![c]),
        };
        match codes {
            Ok(codes) => out.extend(codes.into_iter().filter(|c| !out.contains(c)).collect::<Vec<_>>()),
            Err(e) => errors.extend(e.into_iter().map(|e| FieldError::new(format!("/{i}{}", e.pointer), e.detail))),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn uuid(value: &Value) -> Check<Uuid> {
    value.as_str().and_then(|s| Uuid::parse_str(s).ok()).map_or_else(|| fail("must be a member id (UUID)"), Ok)
}

impl ProjectDraft {
    pub fn parse(value: &Value) -> Check<Self> {
        let mut p = ObjectParser::new(value)?;
        p.only(WRITABLE, READ_ONLY);
        let title = p.required("title", |v| line(v, 1, 300));
        let description = p.defaulted("description", String::new(), |v| text(v, 0, 50_000));
        let scope = p.required("scope", Scope::parse_value);
        let programme = p.nullable("programme", |v| line(v, 1, 200));
        let call_id = p.nullable("call_id", |v| line(v, 1, 200));
        let opens_at = p.nullable("opens_at", datetime);
        let deadline = p.nullable("deadline", datetime);
        let budget_min = p.nullable("budget_min", euros);
        let budget_max = p.nullable("budget_max", euros);
        let source_url = p.nullable("source_url", website);
        let required_skills = p.defaulted("required_skills", Vec::new(), |v| term::list(v, Some("weight")));
        let themes = p.defaulted("themes", Vec::new(), |v| term::list(v, None));
        let sectors = p.defaulted("sectors", Vec::new(), |v| enum_set::<Sector>(v, 0));
        let eligible_countries = p.defaulted("eligible_countries", Vec::new(), eligible);
        let eligible_sizes = p.defaulted("eligible_sizes", Vec::new(), |v| enum_set::<Size>(v, 0));
        let min_partners = p.defaulted("min_partners", 1, count);
        let max_partners = p.nullable("max_partners", count);
        let min_countries = p.defaulted("min_countries", 1, count);
        let lead_member_id = p.nullable("lead_member_id", uuid);
        let status = p.defaulted("status", ProjectStatus::Open, |v| match ProjectStatus::parse_value(v)? {
            ProjectStatus::Forthcoming => fail("must be open or closed (forthcoming follows from opens_at)"),
            written => Ok(written),
        });
        let mut draft = p.finish(|| {
            Some(Self {
                title: title?,
                description: description?,
                scope: scope?,
                programme: programme?,
                call_id: call_id?,
                opens_at: opens_at?,
                deadline: deadline?,
                budget_min: budget_min?,
                budget_max: budget_max?,
                source_url: source_url?,
                required_skills: required_skills?,
                themes: themes?,
                sectors: sectors?,
                eligible_countries: eligible_countries?,
                eligible_sizes: eligible_sizes?,
                min_partners: min_partners?,
                max_partners: max_partners?,
                min_countries: min_countries?,
                lead_member_id: lead_member_id?,
                closed: status? == ProjectStatus::Closed,
            })
        })?;
        if draft.min_partners == 0 {
            draft.min_partners = 1;
        }
        let errors = draft.rule_errors();
        if errors.is_empty() { Ok(draft) } else { Err(errors) }
    }

    /// What breaks the rules that tie fields together (the opening before the deadline, the budget's bounds, the
    /// partner and country counts): what [`Self::parse`] checks once each field is valid on its own, and what a call
    /// merged from an import and staff's edits must still meet.
    pub fn rule_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let (Some(opens), Some(deadline)) = (self.opens_at, self.deadline)
            && opens >= deadline
        {
            errors.push(FieldError::new("/opens_at", "must be before the deadline"));
        }
        if let (Some(min), Some(max)) = (self.budget_min, self.budget_max)
            && min > max
        {
            errors.push(FieldError::new("/budget_min", "must not exceed budget_max"));
        }
        if let Some(max) = self.max_partners
            && max < self.min_partners
        {
            errors.push(FieldError::new("/max_partners", "must be at least min_partners"));
        }
        if let Some(max) = self.max_partners
            && self.min_countries > max
        {
            errors.push(FieldError::new("/min_countries", "cannot exceed max_partners"));
        }
        if !self.eligible_countries.is_empty() && self.min_countries as usize > self.eligible_countries.len() {
            errors.push(FieldError::new("/min_countries", "cannot exceed the number of eligible countries"));
        }
        errors
    }

    pub fn patched(&self, patch: &Value) -> Check<Self> {
        let Some(obj) = patch.as_object() else { return fail("a merge patch must be a JSON object") };
        let errors: Vec<FieldError> = obj
            .keys()
            .filter_map(|k| {
                if READ_ONLY.contains(&k.as_str()) {
                    Some(FieldError::new(format!("/{k}"), "is read-only"))
                } else if !WRITABLE.contains(&k.as_str()) {
                    Some(FieldError::new(format!("/{k}"), "is not a known field"))
                } else {
                    None
                }
            })
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut doc = Value::Object(self.json(term::input_json, None));
        super::member::merge_patch(&mut doc, patch);
        Self::parse(&doc)
    }

    /// The writable fields (their API names) whose values differ from `before`'s, as a client wrote them: a term
    /// mapped anew to another concept is not a change.
    pub fn changed_fields(&self, before: &ProjectDraft) -> Vec<&'static str> {
        let (now, then) = (self.json(term::input_json, None), before.json(term::input_json, None));
        WRITABLE.iter().copied().filter(|k| now.get(*k) != then.get(*k)).collect()
    }

    /// Take the named fields (API names, as [`Self::changed_fields`] gives them) from `other`.
    pub fn keep_from(&mut self, other: &ProjectDraft, fields: &[String]) {
        for field in fields {
            match field.as_str() {
                "title" => self.title.clone_from(&other.title),
                "description" => self.description.clone_from(&other.description),
                "scope" => self.scope = other.scope,
                "programme" => self.programme.clone_from(&other.programme),
                "call_id" => self.call_id.clone_from(&other.call_id),
                "opens_at" => self.opens_at = other.opens_at,
                "deadline" => self.deadline = other.deadline,
                "budget_min" => self.budget_min = other.budget_min,
                "budget_max" => self.budget_max = other.budget_max,
                "source_url" => self.source_url.clone_from(&other.source_url),
                "required_skills" => self.required_skills.clone_from(&other.required_skills),
                "themes" => self.themes.clone_from(&other.themes),
                "sectors" => self.sectors.clone_from(&other.sectors),
                "eligible_countries" => self.eligible_countries.clone_from(&other.eligible_countries),
                "eligible_sizes" => self.eligible_sizes.clone_from(&other.eligible_sizes),
                "min_partners" => self.min_partners = other.min_partners,
                "max_partners" => self.max_partners = other.max_partners,
                "min_countries" => self.min_countries = other.min_countries,
                "lead_member_id" => self.lead_member_id = other.lead_member_id,
                "status" => self.closed = other.closed,
                _ => {}
            }
        }
    }

    /// Take from `other` (the call as staff left it) each of `fields` that still fits the rest (see
    /// [`Self::rule_errors`]): an edit that would break a rule with what an import brings (staff's `budget_min` above
    /// the new `budget_max`) is not taken. `self` (the import) meets the rules, and so does the result. Returns the
    /// fields not taken, with what each would break.
    pub fn keep_fitting(&mut self, other: &ProjectDraft, fields: &[String]) -> Vec<(String, Vec<FieldError>)> {
        let mut all = self.clone();
        all.keep_from(other, fields);
        if all.rule_errors().is_empty() {
            *self = all;
            return Vec::new();
        }
        // One field at a time, again while any is taken: an edit that fits only beside another one (both budget
        // bounds raised) is taken once the other is.
        let with = |base: &ProjectDraft, field: &String| {
            let mut trial = base.clone();
            trial.keep_from(other, std::slice::from_ref(field));
            trial
        };
        let mut left: Vec<String> = fields.to_vec();
        loop {
            let before = left.len();
            left.retain(|field| {
                let trial = with(self, field);
                let fits = trial.rule_errors().is_empty();
                if fits {
                    *self = trial;
                }
                !fits
            });
            if left.len() == before {
                break;
            }
        }
        left.into_iter()
            .map(|field| {
                let errors = with(self, &field).rule_errors();
                (field, errors)
            })
            .collect()
    }

    /// Fields; `status` is the stored flag here, or the computed status when `now` is given.
    fn json(&self, terms: fn(&[TermItem], Option<&str>) -> Value, now: Option<DateTime<Utc>>) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("title".into(), json!(self.title));
        m.insert("description".into(), json!(self.description));
        m.insert("scope".into(), json!(self.scope));
        m.insert("programme".into(), json!(self.programme));
        m.insert("call_id".into(), json!(self.call_id));
        m.insert("opens_at".into(), json!(self.opens_at.map(timestamp)));
        m.insert("deadline".into(), json!(self.deadline.map(timestamp)));
        m.insert("budget_min".into(), json!(self.budget_min));
        m.insert("budget_max".into(), json!(self.budget_max));
        m.insert("source_url".into(), json!(self.source_url));
        m.insert("required_skills".into(), terms(&self.required_skills, Some("weight")));
        m.insert("themes".into(), terms(&self.themes, None));
        m.insert("sectors".into(), json!(self.sectors));
        m.insert("eligible_countries".into(), json!(self.eligible_countries));
        m.insert("eligible_sizes".into(), json!(self.eligible_sizes));
        m.insert("min_partners".into(), json!(self.min_partners));
        m.insert("max_partners".into(), json!(self.max_partners));
        m.insert("min_countries".into(), json!(self.min_countries));
        m.insert("lead_member_id".into(), json!(self.lead_member_id));
        let status = match now {
            Some(now) => self.status(now),
            None if self.closed => ProjectStatus::Closed,
            None => ProjectStatus::Open,
        };
        m.insert("status".into(), json!(status));
        m
    }

    /// Closed by staff, or past its deadline on the app's clock; else forthcoming before its opening date.
    pub fn status(&self, now: DateTime<Utc>) -> ProjectStatus {
        if self.closed || self.deadline.is_some_and(|d| d <= now) {
            ProjectStatus::Closed
        } else if self.opens_at.is_some_and(|o| o > now) {
            ProjectStatus::Forthcoming
        } else {
            ProjectStatus::Open
        }
    }

    pub fn search_text(&self) -> String {
        super::fold::fold(&format!("{} {} {}", self.title, self.call_id.as_deref().unwrap_or(""), self.description))
    }
}

/// Which imported calls are the cluster's: a call is left out (kept with why, matched to no one, listed for staff on
/// request) when its programme is one the cluster has no part in, or when the vocabulary reads nothing of the
/// cluster's from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFilter {
    /// Programmes (the identifier's first part, `EDF` of `EDF-2024-DA-NAVAL-FNP`) whose calls are left out.
    pub programmes: Vec<String>,
    /// Types of action (the code that opens the export's `action_type`, `HORIZON-COFUND` of `HORIZON-COFUND HORIZON
    /// Programme Cofund Actions`) whose calls no firm of the cluster applies to.
    pub action_types: Vec<String>,
    /// Leave out a call from whose text the import read no skill, theme or sector of the cluster's (and whose
    /// programme strand is none of the creative ones, which give sectors of their own).
    pub unread: bool,
}

impl Default for CallFilter {
    /// Defence (the European Defence Fund), internal security, border management, nuclear research and coal and
    /// steel research: programmes whose calls name "virtual reality" or "visualisation" as tools of another trade.
    /// Cofund actions (for national funding bodies), ERC grants (to researchers at a host institution), doctoral
    /// networks (of universities), and quality labels and charters (no funding): types of action whose texts may
    /// name a trade of the cluster ("communication strategies" in a pandemic-preparedness partnership) although no
    /// member could apply.
    fn default() -> Self {
        Self {
            programmes: ["EDF", "ISF", "BMVI", "EURATOM", "RFCS"].map(str::to_owned).to_vec(),
            action_types: [
                "HORIZON-COFUND",
                "HORIZON-ERC",
                "HORIZON-ERC-SYG",
                "HORIZON-TMA-MSCA-DN",
                "ESC-CERT",
                "ERASMUS-CERT",
            ]
            .map(str::to_owned)
            .to_vec(),
            unread: true,
        }
    }
}

impl CallFilter {
    /// Why the imported call `draft` (of the export's `action_type`) is left out, if it is: its programme, its type
    /// of action, else (with `unread`) nothing of the cluster's read from its text. Such a call can match no member
    /// anyway (no skill, theme or sector to share): leaving it out keeps it off the default list.
    pub fn left_out(&self, draft: &ProjectDraft, action_type: &str) -> Option<String> {
        if let Some(programme) = draft.programme.as_deref()
            && self.programmes.iter().any(|p| p.eq_ignore_ascii_case(programme))
        {
            return Some(format!(
                "the {programme} programme is outside the creative industries (MATCHMAKER_CALLS_LEFT_OUT_PROGRAMMES)"
            ));
        }
        if let Some(code) = action_type.split_whitespace().next()
            && self.action_types.iter().any(|t| t.eq_ignore_ascii_case(code))
        {
            return Some(format!(
                "no member of the cluster applies to a call of the type {code} (MATCHMAKER_CALLS_LEFT_OUT_ACTION_TYPES)"
            ));
        }
        (self.unread && draft.sectors.is_empty() && draft.required_skills.is_empty() && draft.themes.is_empty()).then(
            || {
                "nothing of the cluster's trades, themes or sectors is read from its text \
                 (MATCHMAKER_CALLS_LEAVE_OUT_UNREAD)"
                    .to_owned()
            },
        )
    }
}

/// A stored project.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: Uuid,
    pub reference: Option<String>,
    pub draft: ProjectDraft,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why the import left this call out of the cluster's (hidden from matching and from the default list), if it
    /// did.
    pub left_out: Option<String>,
    /// Staff let this call in: imports never leave it out again.
    pub let_in: bool,
    /// The fields of an imported call that staff changed (API names): a later import keeps them as staff left them
    /// and updates the others.
    pub edited: Vec<String>,
}

impl Project {
    pub fn etag(&self) -> String {
        super::member::etag_for(self.version)
    }

    /// The project as the API shows it. The lead is named only to those allowed to know it (staff, the lead
    /// itself, its portals): other members learn of one another only through reviewed suggestions.
    pub fn to_json(&self, now: DateTime<Utc>, show_lead: bool) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("reference".into(), json!(self.reference));
        m.extend(self.draft.json(term::output_json, Some(now)));
        if !show_lead {
            m.insert("lead_member_id".into(), Value::Null);
        }
        m.insert("left_out".into(), json!(self.left_out));
        m.insert("let_in".into(), json!(self.let_in));
        m.insert("edited_fields".into(), json!(self.edited));
        m.insert("created_at".into(), json!(timestamp(self.created_at)));
        m.insert("updated_at".into(), json!(timestamp(self.updated_at)));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_rules() {
        let d = ProjectDraft::parse(&json!({
            "title": "Heritage in VR", "scope": "european", "deadline": "2026-03-31T17:00:00+02:00",
            "required_skills": [{"term": "3D modelling", "weight": 5}], "eligible_countries": ["lu", "FR", "DE"],
            "min_partners": 3, "max_partners": 5, "min_countries": 3
        }))
        .unwrap();
        assert_eq!(d.deadline.unwrap().to_rfc3339(), "2026-03-31T15:00:00+00:00");
        assert_eq!(d.eligible_countries, ["LU", "FR", "DE"]);
        let now = DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z").unwrap().to_utc();
        assert_eq!(d.status(now), ProjectStatus::Closed);
        // Announced before it opens: forthcoming until its opening date, then open.
        let announced = ProjectDraft { opens_at: Some(now), deadline: Some(now + chrono::TimeDelta::days(60)), ..d };
        assert_eq!(announced.status(now - chrono::TimeDelta::seconds(1)), ProjectStatus::Forthcoming);
        assert_eq!(announced.status(now), ProjectStatus::Open);
        let written = |extra: Value| {
            let mut body = json!({"title": "x", "scope": "national"});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            ProjectDraft::parse(&body).map_err(|e| e[0].pointer.clone())
        };
        assert_eq!(written(json!({"status": "forthcoming"})).unwrap_err(), "/status");
        let late = json!({"opens_at": "2026-05-01T00:00:00Z", "deadline": "2026-04-01T00:00:00Z"});
        assert_eq!(written(late).unwrap_err(), "/opens_at");
        // Who may apply by size: any member size, each once; none named is anyone.
        let sized =
            ProjectDraft::parse(&json!({"title": "x", "scope": "national", "eligible_sizes": ["one_person", "micro"]}));
        assert_eq!(sized.unwrap().eligible_sizes, [Size::OnePerson, Size::Micro]);
        assert_eq!(written(json!({"eligible_sizes": ["solo"]})).unwrap_err(), "/eligible_sizes/0");
        assert_eq!(written(json!({"eligible_sizes": ["micro", "micro"]})).unwrap_err(), "/eligible_sizes/1");
        assert!(ProjectDraft::parse(&json!({"title": "x", "scope": "national"})).unwrap().eligible_sizes.is_empty());
        let bad = ProjectDraft::parse(&json!({
            "title": "x", "scope": "galactic", "budget_min": 10, "budget_max": 5, "min_partners": 4, "max_partners": 2,
            "deadline": "tomorrow"
        }))
        .unwrap_err();
        let pointers: Vec<_> = bad.iter().map(|e| e.pointer.as_str()).collect();
        assert!(pointers.contains(&"/scope") && pointers.contains(&"/deadline"), "{pointers:?}");
    }

    /// Staff's edits are kept where they fit the call an import brings, alone or beside each other, and left where
    /// they would break a rule with it; the result always meets the rules.
    #[test]
    fn edits_are_kept_where_they_fit() {
        let draft = |v: Value| ProjectDraft::parse(&v).unwrap();
        let fields = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let staff = draft(json!({
            "title": "Call, as staff put it", "scope": "european", "budget_min": 200, "budget_max": 300,
            "deadline": "2026-06-01T00:00:00Z"
        }));
        // Both bounds raised by staff: taken together, though the lower bound alone would break the import's.
        let mut merged = draft(json!({"title": "Call", "scope": "european", "budget_min": 50, "budget_max": 100}));
        let left = merged.keep_fitting(&staff, &fields(&["budget_min", "budget_max", "title"]));
        assert!(left.is_empty(), "{left:?}");
        assert_eq!(
            (merged.budget_min, merged.budget_max, merged.title.as_str()),
            (Some(200), Some(300), "Call, as staff put it")
        );
        // Only the lower bound was staff's, and the new upper bound is under it: the import's bound stands; the
        // title is kept.
        let mut merged = draft(json!({"title": "Call", "scope": "european", "budget_min": 50, "budget_max": 100}));
        let left = merged.keep_fitting(&staff, &fields(&["budget_min", "title"]));
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].0.as_str(), left[0].1[0].pointer.as_str()), ("budget_min", "/budget_min"));
        assert_eq!((merged.budget_min, merged.title.as_str()), (Some(50), "Call, as staff put it"));
        // The call now opens after the deadline staff set: the import's deadline stands.
        let mut merged = draft(json!({
            "title": "Call", "scope": "european", "opens_at": "2026-07-01T00:00:00Z", "deadline": "2026-09-01T00:00:00Z"
        }));
        let left = merged.keep_fitting(&staff, &fields(&["deadline"]));
        assert_eq!(left[0].0, "deadline");
        assert!(merged.rule_errors().is_empty());
        assert_eq!(
            merged.deadline,
            draft(json!({"title": "x", "scope": "european", "deadline": "2026-09-01T00:00:00Z"})).deadline
        );
    }

    /// Every writable field is told apart as changed, and kept from the other draft by its name alone.
    #[test]
    fn each_field_is_told_apart_and_kept() {
        let imported = ProjectDraft::parse(&json!({"title": "Call", "scope": "european"})).unwrap();
        let edited = ProjectDraft::parse(&json!({
            "title": "Call, as staff put it", "description": "More", "scope": "international", "programme": "CREA",
            "call_id": "CREA-1", "opens_at": "2026-01-01T00:00:00Z", "deadline": "2026-06-01T00:00:00Z",
            "budget_min": 1, "budget_max": 2, "source_url": "https://example.eu/c", "sectors": ["games"],
            "required_skills": [{"term": "3D modelling", "weight": 3}], "themes": [{"term": "heritage"}],
            "eligible_countries": ["LU", "FR"], "eligible_sizes": ["one_person"], "min_partners": 2,
            "max_partners": 4, "min_countries": 2, "lead_member_id": "0193c6e4-6b2a-73d0-9f1e-2b4a8c5d7e10", "status": "closed"
        }))
        .unwrap();
        assert_eq!(edited.changed_fields(&imported), WRITABLE);
        for field in WRITABLE {
            let mut kept = imported.clone();
            kept.keep_from(&edited, &[(*field).to_owned()]);
            assert_eq!(kept.changed_fields(&imported), [*field]);
            assert_eq!(kept.json(term::input_json, None)[*field], edited.json(term::input_json, None)[*field]);
        }
    }
}
