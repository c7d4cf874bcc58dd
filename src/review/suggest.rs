//! A matching run: from the live rankings, the suggestions staff will review. Above a configurable score, the top N
//! of each kind per member, each keeping its score and explanation as they were; never a second live suggestion for
//! a pair, and a pair rejected or marked not relevant only after a while or with a clearly better score.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Counts, Reaction, RunStatus, Suggestion, SuggestionKind, SuggestionStatus};
use crate::config::ReviewSettings;
use crate::db::suggestions::{self, SuggestionRow};
use crate::db::{DbConnection, DbError, QueryError, members, runs};
use crate::matching::index::{Scored, Window};
use crate::matching::vocabulary::Lang;
use crate::matching::{MatchIndex, Matcher, Vocabulary};

/// One suggestion a run would make.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub kind: SuggestionKind,
    pub member: Uuid,
    pub target: String,
    pub project: Option<Uuid>,
    pub partner: Option<Uuid>,
    pub score: f64,
    pub explanation: Value,
    pub rationale: String,
}

/// What a run does with a proposal, given the pair's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Create,
    /// A pending, approved or delivered suggestion for the pair exists.
    Live,
    /// Rejected or not relevant not long ago, and the score did not rise enough.
    HeldBack,
}

/// Decide on a proposal scoring `score` for a pair whose earlier suggestions (newest first) are `history`.
pub fn admit(history: &[Suggestion], score: f64, s: &ReviewSettings, now: DateTime<Utc>) -> Admission {
    if history.iter().any(|r| matches!(r.status, SuggestionStatus::Pending | SuggestionStatus::Approved)) {
        return Admission::Live;
    }
    let Some(latest) = history.first() else { return Admission::Create };
    let objected_at = if latest.reaction == Some(Reaction::NotRelevant) {
        latest.reacted_at
    } else if latest.status == SuggestionStatus::Rejected {
        latest.decided_at
    } else {
        None
    };
    match (objected_at, latest.status) {
        (Some(at), _) => {
            let waited = now - at >= TimeDelta::weeks(s.resuggest_after_weeks);
            let rose = score >= latest.score + s.resuggest_score_rise;
            if waited || rose { Admission::Create } else { Admission::HeldBack }
        }
        (None, SuggestionStatus::Delivered) => Admission::Live,
        (None, _) => Admission::Create,
    }
}

/// What each member objected to: the concepts of suggestions it marked not relevant (for a reason about content).
pub fn objections(conn: &mut DbConnection) -> Result<HashMap<Uuid, HashSet<String>>, QueryError> {
    let mut out: HashMap<Uuid, HashSet<String>> = HashMap::new();
    for objected in suggestions::objections(conn)? {
        let explanation: Value = serde_json::from_str(&objected.explanation).unwrap_or(Value::Null);
        let concepts = explanation["matched"].as_array().into_iter().flatten().filter_map(|m| m["concept"].as_str());
        out.entry(objected.member).or_default().extend(concepts.map(str::to_owned));
    }
    Ok(out)
}

/// The sentence a member reads under a suggestion (staff may rewrite it).
pub fn rationale(lang: Lang, kind: SuggestionKind, labels: &[String]) -> String {
    let list = labels.join(", ");
    match (lang, kind, labels.is_empty()) {
        (_, _, true) => match lang {
            Lang::Fr => "Proposé par l'équipe du cluster.".to_owned(),
            Lang::De | Lang::Lb => "Vom Cluster-Team vorgeschlagen.".to_owned(),
            Lang::En => "Suggested by the cluster team.".to_owned(),
        },
        (Lang::Fr, SuggestionKind::Project, _) => format!("Vos compétences correspondent : {list}."),
        (Lang::Fr, _, _) => format!("Vous vous complétez : {list}."),
        (Lang::De | Lang::Lb, SuggestionKind::Project, _) => format!("Ihre Kompetenzen passen: {list}."),
        (Lang::De | Lang::Lb, _, _) => format!("Sie ergänzen sich: {list}."),
        (Lang::En, SuggestionKind::Project, _) => format!("Your skills match: {list}."),
        (Lang::En, _, _) => format!("You complement each other: {list}."),
    }
}

/// The explanation as stored, with what the member's earlier objections took off.
fn explained(scored: &Scored, objected: Option<&HashSet<String>>, penalty_per: f64) -> (f64, Value, Vec<String>) {
    let mut labels: Vec<String> = Vec::new();
    let mut shared: Vec<String> = Vec::new();
    for m in &scored.explanation.matched {
        if !labels.contains(&m.label) {
            labels.push(m.label.clone());
        }
        if let Some(concept) = &m.concept
            && objected.is_some_and(|o| o.contains(concept))
            && !shared.contains(concept)
        {
            shared.push(concept.clone());
        }
    }
    let penalty = penalty_per * shared.len() as f64;
    let score = ((scored.score - penalty).max(0.0) * 10.0).round() / 10.0;
    let mut value = serde_json::to_value(&scored.explanation).unwrap_or(Value::Null);
    if penalty > 0.0
        && let Some(obj) = value.as_object_mut()
    {
        obj.insert(
            "feedback".to_owned(),
            json!({"score_before": scored.score, "penalty": penalty, "concepts": shared}),
        );
    }
    labels.truncate(5);
    (score, value, labels)
}

/// How much of a ranking a run explains: a few more than it keeps, as the feedback penalty can reorder them.
fn window(s: &ReviewSettings) -> Window {
    Window { offset: 0, limit: s.top_n.saturating_mul(3), min_score: s.min_score }
}

/// The best `top_n` of an explained ranking above the minimum, after feedback.
fn best(
    explained_page: Vec<Scored>,
    objected: Option<&HashSet<String>>,
    s: &ReviewSettings,
) -> Vec<(Uuid, f64, Value, Vec<String>)> {
    let mut out: Vec<(Uuid, f64, Value, Vec<String>)> = explained_page
        .into_iter()
        .filter(|r| r.score >= s.min_score)
        .map(|full| {
            let (score, value, labels) = explained(&full, objected, s.feedback_penalty);
            (full.id, score, value, labels)
        })
        .filter(|(_, score, _, _)| *score >= s.min_score)
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out.truncate(s.top_n);
    out
}

/// Everything a run proposes for one member: projects, partners, and candidates for the projects it leads.
#[allow(clippy::too_many_arguments, reason = "the member's inputs, each needed once")]
pub fn propose(
    index: &MatchIndex,
    vocab: &Vocabulary,
    s: &ReviewSettings,
    member: Uuid,
    lang: Lang,
    led: &[Uuid],
    objected: Option<&HashSet<String>>,
    now: DateTime<Utc>,
) -> Vec<Proposal> {
    let mut out = Vec::new();
    let mut push = |kind, target: String, project, partner, (score, explanation, labels): (f64, Value, Vec<String>)| {
        out.push(Proposal {
            kind,
            member,
            target,
            project,
            partner,
            score,
            explanation,
            rationale: rationale(lang, kind, &labels),
        });
    };
    let projects = index.top_projects_for_member(vocab, lang, member, now, |_| true, window(s)).items;
    for (id, score, value, labels) in best(projects, objected, s) {
        push(SuggestionKind::Project, id.to_string(), Some(id), None, (score, value, labels));
    }
    let partners = index.top_partners_for_member(vocab, lang, member, window(s)).items;
    for (id, score, value, labels) in best(partners, objected, s) {
        push(SuggestionKind::Partner, id.to_string(), None, Some(id), (score, value, labels));
    }
    for project in led {
        let Some(p) = index.project(*project) else { continue };
        if !p.is_open(now) {
            continue;
        }
        // One more than the window: the lead itself may be among them.
        let wider = Window { limit: window(s).limit + 1, ..window(s) };
        let ranked: Vec<Scored> = index
            .top_members_for_project(vocab, lang, *project, now, wider)
            .items
            .into_iter()
            .filter(|c| c.id != member && index.member(c.id).is_some_and(|m| m.discoverable && m.active))
            .collect();
        for (id, score, value, labels) in best(ranked, None, s) {
            push(
                SuggestionKind::Candidate,
                format!("{project}/{id}"),
                Some(*project),
                Some(id),
                (score, value, labels),
            );
        }
    }
    out
}

/// How a run's turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every member done: the run is `done`, with these counts.
    Finished(Counts),
    /// Stopped between members because this instance lost its lease: whoever holds it now resumes the run.
    Interrupted,
}

/// Carry out (or resume) run `run_id`: every active member from where the run got to. `keep_going` is asked between
/// members (false once the lease is lost).
pub fn execute(
    conn: &mut DbConnection,
    matcher: &Matcher,
    s: &ReviewSettings,
    run_id: &str,
    now: DateTime<Utc>,
    keep_going: &dyn Fn() -> bool,
) -> Result<RunOutcome, DbError> {
    let run = runs::find(conn, run_id)?.ok_or_else(|| DbError::Other(anyhow::anyhow!("no run {run_id}")))?;
    let mut counts = run.counts;
    suggestions::expire_due(conn, now)?;
    let objected = objections(conn)?;
    // The sentence under a suggestion and its explanation's labels are in the language the member is written to
    // in: a Luxembourgish reader's German (or French) digest carries no Luxembourgish labels in a German sentence.
    let languages = members::mail_languages(conn)?;
    let vocab = matcher.vocabulary();
    let (ids, led) = {
        let index = matcher.read_index();
        let mut ids: Vec<Uuid> =
            index.member_ids().into_iter().filter(|id| index.member(*id).is_some_and(|m| m.active)).collect();
        ids.sort_unstable();
        let mut led: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for p in index.project_ids() {
            if let Some(lead) = index.project(p).and_then(|p| p.lead) {
                led.entry(lead).or_default().push(p);
            }
        }
        (ids, led)
    };
    counts.members_total = i32::try_from(ids.len()).unwrap_or(i32::MAX);
    runs::update(conn, run_id, RunStatus::Running, counts, None)?;
    let start = usize::try_from(counts.members_done).unwrap_or(0).min(ids.len());
    for (i, member) in ids.iter().enumerate().skip(start) {
        if !keep_going() {
            return Ok(RunOutcome::Interrupted);
        }
        let key = member.to_string();
        let lang = languages.get(&key).and_then(|l| Lang::parse(l)).unwrap_or(Lang::En);
        let proposals = {
            let index = matcher.read_index();
            let none = Vec::new();
            propose(&index, &vocab, s, *member, lang, led.get(member).unwrap_or(&none), objected.get(member), now)
        };
        crate::db::write(conn, |conn| {
            let pairs: Vec<(SuggestionKind, &str)> = proposals.iter().map(|p| (p.kind, p.target.as_str())).collect();
            let histories = suggestions::pair_histories(conn, *member, &pairs)?;
            for p in &proposals {
                let history = histories.get(&(p.kind, p.target.clone())).map_or(&[][..], Vec::as_slice);
                match admit(history, p.score, s, now) {
                    Admission::Live => counts.kept += 1,
                    Admission::HeldBack => counts.held_back += 1,
                    Admission::Create => {
                        let row = SuggestionRow::new_pending(
                            p.kind,
                            p.member,
                            p.target.clone(),
                            p.project,
                            p.partner,
                            run_id,
                            p.score,
                            p.explanation.to_string(),
                            p.rationale.clone(),
                            now,
                        );
                        if suggestions::insert(conn, &row, &format!("run:{run_id}"))? {
                            counts.created += 1;
                        } else {
                            counts.kept += 1;
                        }
                    }
                }
            }
            Ok::<_, QueryError>(())
        })?;
        counts.members_done = i32::try_from(i + 1).unwrap_or(i32::MAX);
        if (i + 1) % 25 == 0 {
            runs::update(conn, run_id, RunStatus::Running, counts, None)?;
        }
    }
    runs::update(conn, run_id, RunStatus::Done, counts, Some(now))?;
    Ok(RunOutcome::Finished(counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: SuggestionStatus, score: f64, at: DateTime<Utc>) -> Suggestion {
        let pending = SuggestionRow::new_pending(
            SuggestionKind::Partner,
            Uuid::nil(),
            "t".into(),
            None,
            None,
            "r",
            score,
            "{}".into(),
            String::new(),
            at,
        );
        let mut r = Suggestion::try_from(pending).unwrap();
        r.status = status;
        r.decided_at = Some(at);
        r
    }

    #[test]
    fn pairs_come_back_only_after_the_wait_or_a_clear_rise() {
        let s = ReviewSettings::default();
        let now = DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().to_utc();
        assert_eq!(admit(&[], 50.0, &s, now), Admission::Create);
        for live in [SuggestionStatus::Pending, SuggestionStatus::Approved, SuggestionStatus::Delivered] {
            assert_eq!(admit(&[row(live, 50.0, now)], 99.0, &s, now), Admission::Live);
        }
        let rejected = row(SuggestionStatus::Rejected, 50.0, now - TimeDelta::weeks(10));
        assert_eq!(admit(std::slice::from_ref(&rejected), 64.9, &s, now), Admission::HeldBack);
        assert_eq!(admit(std::slice::from_ref(&rejected), 65.0, &s, now), Admission::Create);
        let old = row(SuggestionStatus::Rejected, 50.0, now - TimeDelta::weeks(26));
        assert_eq!(admit(&[old], 40.0, &s, now), Admission::Create);
        let mut not_relevant = row(SuggestionStatus::Delivered, 50.0, now - TimeDelta::weeks(1));
        not_relevant.reaction = Some(Reaction::NotRelevant);
        not_relevant.reacted_at = Some(now - TimeDelta::weeks(1));
        assert_eq!(admit(std::slice::from_ref(&not_relevant), 60.0, &s, now), Admission::HeldBack);
        assert_eq!(admit(&[not_relevant], 70.0, &s, now), Admission::Create);
        assert_eq!(admit(&[row(SuggestionStatus::Expired, 50.0, now)], 10.0, &s, now), Admission::Create);
    }
}
