//! Digest e-mails and the unsubscribe page, rendered with minijinja from the templates in `assets/mail/` (HTML is
//! auto-escaped: a member's name or a project's title cannot inject markup).

use std::sync::LazyLock;

use minijinja::Environment;
use serde_json::{Value, json};

static STRINGS: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(include_str!("../../assets/mail/strings.json")).unwrap_or(Value::Null));

static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_template("mail.html", include_str!("../../assets/mail/mail.html"))?;
    env.add_template("digest.html", include_str!("../../assets/mail/digest.html"))?;
    env.add_template("digest.txt", include_str!("../../assets/mail/digest.txt"))?;
    env.add_template("page.html", include_str!("../../assets/mail/page.html"))?;
    env.add_template("unsubscribe.html", include_str!("../../assets/mail/unsubscribe.html"))?;
    env.add_template("suggestion.html", include_str!("../../assets/mail/suggestion.html"))?;
    env.add_template("message.html", include_str!("../../assets/mail/message.html"))?;
    env.add_template("message.txt", include_str!("../../assets/mail/message.txt"))?;
    env.add_template("consent.html", include_str!("../../assets/mail/consent.html"))?;
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    Ok(env)
});

/// The strings of a language (`en`, `fr`, `de`; anything else reads English).
fn strings(lang: &str) -> &'static Value {
    let all = &*STRINGS;
    if all.get(lang).is_some() { &all[lang] } else { &all["en"] }
}

fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in pairs {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

fn render(name: &str, ctx: &Value) -> anyhow::Result<String> {
    let env = TEMPLATES.as_ref().map_err(|e| anyhow::anyhow!("the mail templates do not load: {e}"))?;
    let template = env.get_template(name)?;
    Ok(template.render(minijinja::Value::from(minijinja::value::Serde(ctx)))?)
}

/// A rendered digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// What a digest item carries besides the member's view of its suggestion: the project's description, and the
/// address of the suggestion's page (signed for its member; none in a staff preview of a page).
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub description: Option<String>,
    pub page_url: Option<String>,
}

/// Longest description a digest item shows, in characters; a longer one is cut at a word.
const DESCRIPTION_CHARS: usize = 280;

fn short(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= DESCRIPTION_CHARS {
        return text;
    }
    let cut: String = text.chars().take(DESCRIPTION_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head).trim_end_matches([',', ';', ':', '.']);
    format!("{cut} …")
}

/// A deadline (RFC 3339) as members read it: Luxembourg time, stated, in `lang` ("15 December 2026, 17:00
/// (Luxembourg time)").
pub fn deadline(lang: &str, at: &str) -> Option<String> {
    use chrono::{Datelike as _, Timelike as _};
    let t = strings(lang);
    let local = chrono::DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&chrono_tz::Europe::Luxembourg);
    let month = t["months"][local.month0() as usize].as_str()?;
    let (day, year) = (local.day().to_string(), local.year().to_string());
    let time = format!("{:02}:{:02}", local.hour(), local.minute());
    Some(fill(t["deadline_format"].as_str()?, &[("day", &day), ("month", month), ("year", &year), ("time", &time)]))
}

/// Words that mark a sentence's language (a sentence staff wrote in one language and a mail in another).
const MARKERS: [(&str, &[&str]); 3] = [
    ("en", &["the", "and", "for", "with", "your", "you", "are", "this", "our", "of", "to", "is"]),
    ("fr", &["le", "la", "les", "des", "et", "pour", "avec", "vous", "votre", "vos", "est", "une", "du", "au"]),
    ("de", &["der", "die", "das", "und", "für", "mit", "sie", "ihre", "ist", "ein", "eine", "den", "dem", "zu"]),
];

/// The language a sentence is written in, when its small words say so clearly (two or more, more than any other
/// language's); `None` when unsure.
fn written_in(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut scores: Vec<(usize, &'static str)> =
        MARKERS.iter().map(|(lang, marks)| (words.iter().filter(|w| marks.contains(w)).count(), *lang)).collect();
    scores.sort_by_key(|s| std::cmp::Reverse(s.0));
    (scores[0].0 >= 2 && scores[0].0 > scores[1].0).then_some(scores[0].1)
}

/// A sentence shown in a mail of `lang`: marked as the team's, in its language, when written in another.
fn rationale(lang: &str, text: &str) -> String {
    let t = strings(lang);
    match written_in(text) {
        Some(other) if other != lang => {
            let language = t["language_names"][other].as_str().unwrap_or(other);
            format!("{} {text}", fill(t["rationale_in"].as_str().unwrap_or_default(), &[("language", language)]))
        }
        _ => text.to_owned(),
    }
}

/// One suggestion of a digest, from its member view (`review::view::for_member`).
fn item(lang: &str, s: &Value, extras: &Extras) -> Value {
    let t = strings(lang);
    let kind = s["kind"].as_str().unwrap_or("project");
    // A forthcoming call says when it opens (members can prepare meanwhile).
    let opens = Some(&s["project"])
        .filter(|p| kind == "project" && p["status"] == "forthcoming")
        .and_then(|p| p["opens_at"].as_str())
        .and_then(|o| self::deadline(lang, o));
    let (title, place, source, deadline) = match kind {
        "project" => (
            s["project"]["title"].clone(),
            [s["project"]["programme"].as_str(), s["project"]["call_id"].as_str()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / "),
            s["project"]["source_url"].as_str().map(str::to_owned),
            s["project"]["deadline"].as_str().and_then(|d| self::deadline(lang, d)),
        ),
        _ => {
            let card = &s["partner"];
            let place = [card["city"].as_str(), card["country"].as_str()].into_iter().flatten().collect::<Vec<_>>();
            let project = s["project"]["title"].as_str();
            let name = card["name"].as_str().map_or_else(|| former_member(lang), str::to_owned);
            let title = match project {
                Some(p) if kind == "candidate" => json!(format!("{name} ({p})")),
                _ => json!(name),
            };
            (title, place.join(", "), card["website"].as_str().map(str::to_owned), None)
        }
    };
    let mut matched: Vec<String> = Vec::new();
    for m in s["explanation"]["matched"].as_array().into_iter().flatten() {
        if let Some(label) = m["label"].as_str()
            && !matched.iter().any(|x| x == label)
        {
            matched.push(label.to_owned());
        }
    }
    matched.truncate(6);
    let with_choice = |choice: &str| extras.page_url.as_ref().map(|u| format!("{u}&choice={choice}"));
    // The call's page where there is one, else ours.
    let link = match &source {
        Some(url) if kind == "project" => Some(url.clone()),
        _ => extras.page_url.clone(),
    };
    json!({
        "kind_label": t[kind],
        "title": title,
        "place": place,
        "description": extras.description.as_deref().map(short),
        "rationale": s["rationale"].as_str().map(|r| rationale(lang, r)),
        "score": s["score"].as_f64().map(|x| x.round() as i64),
        "matched": matched,
        "opens": opens,
        "deadline": deadline,
        "source": source,
        "link": link,
        "interested_url": with_choice("interested"),
        "not_relevant_url": with_choice("not_relevant"),
    })
}

/// What a digest holds: the suggestions (member views, best first) with their extras, the questions about earlier
/// ones (what came of them), and the member's unsubscribe address.
#[derive(Debug, Clone, Copy)]
pub struct DigestContent<'a> {
    pub suggestions: &'a [Value],
    pub extras: &'a [Extras],
    pub questions: &'a [(Value, Extras)],
    pub unsubscribe_url: &'a str,
}

/// Render a digest in `lang` for `name`.
pub fn digest(lang: &str, name: &str, week: &super::IsoWeek, content: &DigestContent<'_>) -> anyhow::Result<Rendered> {
    let t = strings(lang);
    let week_number = week.week.to_string();
    let subject = fill(t["subject"].as_str().unwrap_or_default(), &[("week", &week_number)]);
    let items: Vec<Value> = content
        .suggestions
        .iter()
        .enumerate()
        .map(|(i, s)| item(lang, s, content.extras.get(i).unwrap_or(&Extras::default())))
        .collect();
    let questions: Vec<Value> = content
        .questions
        .iter()
        .map(|(s, extras)| {
            let shown = item(lang, s, extras);
            json!({"title": shown["title"], "link": extras.page_url})
        })
        .collect();
    let ctx = json!({
        "lang": lang,
        "subject": subject,
        "greeting": fill(t["greeting"].as_str().unwrap_or_default(), &[("name", name)]),
        "t": t,
        "items": items,
        "questions": questions,
        "unsubscribe_url": content.unsubscribe_url,
    });
    Ok(Rendered { subject, html: render("digest.html", &ctx)?, text: render("digest.txt", &ctx)? })
}

/// What the unsubscribe page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageState {
    Confirm,
    Done,
    Invalid,
}

/// The unsubscribe page: a confirmation with a form that POSTs to `action`, the outcome, or a refusal.
pub fn unsubscribe_page(lang: &str, state: PageState, name: &str, action: &str) -> anyhow::Result<String> {
    let t = strings(lang);
    let ctx = json!({
        "lang": lang,
        "t": t,
        "state": match state { PageState::Confirm => "confirm", PageState::Done => "done", PageState::Invalid => "invalid" },
        "question": fill(t["confirm_question"].as_str().unwrap_or_default(), &[("name", name)]),
        "done": fill(t["done"].as_str().unwrap_or_default(), &[("name", name)]),
        "action": action,
    });
    render("unsubscribe.html", &ctx)
}

/// What a suggestion's page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionPage {
    /// The suggestion, with the answer given so far or the buttons to give one.
    Shown,
    Invalid,
    Expired,
    /// Genuine link, but the suggestion is gone or no longer shown to members.
    Unavailable,
}

/// The page a digest's suggestion link opens (`state` other than `Shown` shows only why not).
#[derive(Debug, Clone, Default)]
pub struct PageContent<'a> {
    pub view: Option<&'a Value>,
    pub extras: Extras,
    /// The form's target (the link itself).
    pub action: String,
    /// What was just done: `recorded`, `undone`, or `conflict` (it could not be).
    pub notice: Option<&'static str>,
    /// The choice the member's link came with (`interested`, `not_relevant`), to put first.
    pub choice: Option<String>,
    /// Until when the current answer can be taken back (RFC 3339), if it still can.
    pub undo_until: Option<String>,
    /// The page asks what came of the suggestion instead of offering the reaction's buttons.
    pub asks_outcome: bool,
    /// Today in Luxembourg (the outcome's default date), `YYYY-MM-DD`.
    pub today: String,
    /// Where the member's request to be introduced stands (an `IntroductionStatus` name), if it asked.
    pub introduction: Option<&'static str>,
}

/// Render a suggestion's page in `lang`.
pub fn suggestion_page(lang: &str, state: SuggestionPage, page: &PageContent<'_>) -> anyhow::Result<String> {
    let t = strings(lang);
    let item = page.view.map(|v| item(lang, v, &page.extras));
    let reaction =
        page.view.and_then(|v| v["reaction"].as_str()).and_then(|r| t[format!("reaction_{r}").as_str()].as_str());
    let undo_until = page.undo_until.as_deref().and_then(|d| {
        let date = deadline(lang, d)?;
        Some(fill(t["undo_until"].as_str().unwrap_or_default(), &[("date", &date)]))
    });
    let reasons: Vec<(String, String)> = t["reasons"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    let notice = page.notice.map(|n| t[n].as_str().unwrap_or_default());
    let outcome_choices: Vec<(String, String)> = t["outcomes"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    let told: Vec<String> = page
        .view
        .and_then(|v| v["outcomes"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|o| {
            let label = t["outcomes"][o["outcome"].as_str()?].as_str()?;
            let call = o["call"].as_str().map(|c| format!(" ({c})")).unwrap_or_default();
            Some(format!("{}{call}: {}", label, o["date"].as_str()?))
        })
        .collect();
    let ctx = json!({
        "lang": lang,
        "t": t,
        "state": page_state(state),
        "item": item,
        "reaction": reaction,
        "undo_until": undo_until,
        "reasons": reasons,
        "notice": notice,
        "choice": page.choice,
        "action": page.action,
        "asks_outcome": page.asks_outcome,
        "outcome_choices": outcome_choices,
        "told": told,
        "today": page.today,
        "introduction": page.introduction.map(|i| t["introduction_status"][i].clone()),
    });
    render("suggestion.html", &ctx)
}

/// What an introduction is about, in `lang`: working together (`partner`), the reader's project (`project`),
/// joining a project (`candidate`), or a project (`call`, `title` given).
pub fn about(lang: &str, kind: &str, title: Option<&str>) -> String {
    let t = strings(lang);
    let key = format!("about_{kind}");
    fill(t[key.as_str()].as_str().unwrap_or_default(), &[("title", title.unwrap_or_default())])
}

/// A member as a message or page shows it: its name, then a line each for its place, its words about itself
/// (shortened), and, once both sides agreed, its e-mail and website. `card` is `review::view::card`'s.
fn member_card(lang: &str, card: &Value, description: Option<&str>, contact: Option<&str>) -> Value {
    let t = strings(lang);
    let place = [card["city"].as_str(), card["country"].as_str()].into_iter().flatten().collect::<Vec<_>>();
    let mut lines = Vec::new();
    if !place.is_empty() {
        lines.push(place.join(", "));
    }
    if let Some(d) = description.filter(|d| !d.trim().is_empty()) {
        lines.push(short(d));
    }
    if let Some(email) = contact {
        lines.push(format!("{}: {email}", t["email_label"].as_str().unwrap_or("E-mail")));
        if let Some(w) = card["website"].as_str() {
            lines.push(format!("{}: {w}", t["website"].as_str().unwrap_or("Website")));
        }
    }
    json!({"title": card["name"], "lines": lines})
}

/// A message of ours other than the digest: greeting, paragraphs, cards, one button, signature.
fn message(
    lang: &str,
    subject: String,
    greeting: &str,
    paragraphs: &[String],
    cards: &[Value],
    button: Option<&Value>,
) -> anyhow::Result<Rendered> {
    let t = strings(lang);
    let ctx = json!({
        "lang": lang,
        "subject": subject,
        "greeting": greeting,
        "paragraphs": paragraphs,
        "cards": cards,
        "button": button,
        "closing": t["signature"],
    });
    Ok(Rendered { html: render("message.html", &ctx)?, text: render("message.txt", &ctx)?, subject })
}

/// How a member who has since been erased is named to readers of `lang`.
pub fn former_member(lang: &str) -> String {
    strings(lang)["former_member"].as_str().unwrap_or("a former member").to_owned()
}

/// Someone's words, in `lang`'s quotation marks.
fn quoted(lang: &str, text: &str) -> String {
    fill(strings(lang)["quote"].as_str().unwrap_or("“{text}”"), &[("text", text)])
}

/// Who asks to be introduced, as the member asked sees them: no contact details.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    /// `review::view::card` of the member who asks.
    pub card: &'a Value,
    pub description: Option<&'a str>,
    /// The asking member's words to the other side.
    pub note: Option<&'a str>,
}

/// The e-mail asking `to_name` whether it agrees to be introduced to the asker about `about`; `url` is the consent
/// page, working until `until` (RFC 3339).
pub fn consent_request(
    lang: &str,
    to_name: &str,
    asker: &Asker<'_>,
    about: &str,
    url: &str,
    until: &str,
) -> anyhow::Result<Rendered> {
    let t = strings(lang);
    let name = asker.card["name"].as_str().unwrap_or_default();
    let subject = fill(t["consent_subject"].as_str().unwrap_or_default(), &[("name", name)]);
    let mut paragraphs =
        vec![fill(t["consent_lead"].as_str().unwrap_or_default(), &[("name", name), ("about", about)])];
    if let Some(note) = asker.note {
        paragraphs.push(format!("{} {}", t["their_note"].as_str().unwrap_or_default(), quoted(lang, note)));
    }
    paragraphs.push(t["consent_privacy"].as_str().unwrap_or_default().to_owned());
    let until = deadline(lang, until).unwrap_or_default();
    let button = json!({
        "url": url,
        "label": t["consent_button"],
        "note": fill(t["consent_until"].as_str().unwrap_or_default(), &[("date", &until)]),
    });
    let greeting = fill(t["greeting"].as_str().unwrap_or_default(), &[("name", to_name)]);
    message(
        lang,
        subject,
        &greeting,
        &paragraphs,
        &[member_card(lang, asker.card, asker.description, None)],
        Some(&button),
    )
}

/// One side of an introduction: its card, its words about itself, and its contact e-mail.
#[derive(Debug, Clone, Copy)]
pub struct Party<'a> {
    pub card: &'a Value,
    pub description: Option<&'a str>,
    pub email: &'a str,
}

/// The introduction: one e-mail to both sides (or, for a project with no member to ask, to the one who asked), with
/// each side's contact details and the cluster team's words.
pub fn introduction(
    lang: &str,
    parties: &[Party<'_>],
    about: &str,
    team_note: Option<&str>,
) -> anyhow::Result<Rendered> {
    let t = strings(lang);
    let names: Vec<&str> = parties.iter().map(|p| p.card["name"].as_str().unwrap_or_default()).collect();
    let text = |key: &str, pairs: &[(&str, &str)]| fill(t[key].as_str().unwrap_or_default(), pairs);
    let (subject, greeting, lead) = match names.as_slice() {
        [first, second, ..] => (
            text("intro_subject", &[("first", first), ("second", second)]),
            text("intro_greeting", &[("first", first), ("second", second)]),
            text("intro_lead", &[("about", about)]),
        ),
        _ => (
            text("intro_subject_one", &[("about", about)]),
            text("greeting", &[("name", names.first().copied().unwrap_or_default())]),
            text("intro_lead_one", &[("about", about)]),
        ),
    };
    let mut paragraphs = vec![lead];
    if let Some(note) = team_note {
        paragraphs.push(format!("{} {note}", t["intro_team_note"].as_str().unwrap_or_default()));
    }
    paragraphs.push(t["intro_next"].as_str().unwrap_or_default().to_owned());
    let cards: Vec<Value> = parties.iter().map(|p| member_card(lang, p.card, p.description, Some(p.email))).collect();
    message(lang, subject, &greeting, &paragraphs, &cards, None)
}

/// What a consent page shows (`state` other than `Shown` shows only why not).
#[derive(Debug, Clone, Default)]
pub struct ConsentContent<'a> {
    pub asker: Option<Asker<'a>>,
    pub about: String,
    /// The form's target (the link itself).
    pub action: String,
    /// The answer given (`accepted`, `declined`), if any.
    pub answered: Option<&'static str>,
    /// What was just done: `conflict` when the answer could not be given (it was given already).
    pub notice: Option<&'static str>,
}

/// Render a consent page in `lang`.
pub fn consent_page(lang: &str, state: SuggestionPage, page: &ConsentContent<'_>) -> anyhow::Result<String> {
    let t = strings(lang);
    let name = page.asker.as_ref().and_then(|a| a.card["name"].as_str()).unwrap_or_default();
    let card = page.asker.as_ref().map(|a| member_card(lang, a.card, a.description, None));
    let mut lead = fill(t["consent_lead"].as_str().unwrap_or_default(), &[("name", name), ("about", &page.about)]);
    if let Some(note) = page.asker.as_ref().and_then(|a| a.note) {
        lead = format!("{lead} {} {}", t["their_note"].as_str().unwrap_or_default(), quoted(lang, note));
    }
    let ctx = json!({
        "lang": lang,
        "t": t,
        "state": page_state(state),
        "lead": lead,
        "card": card,
        "question": fill(t["consent_question"].as_str().unwrap_or_default(), &[("name", name)]),
        "answered": page.answered.map(|a| t[format!("consent_{a}").as_str()].clone()),
        "notice": page.notice.map(|n| t[n].clone()),
        "action": page.action,
    });
    render("consent.html", &ctx)
}

fn page_state(state: SuggestionPage) -> &'static str {
    match state {
        SuggestionPage::Shown => "shown",
        SuggestionPage::Invalid => "invalid",
        SuggestionPage::Expired => "expired",
        SuggestionPage::Unavailable => "unavailable",
    }
}

/// The first of our languages a browser's `Accept-Language` asks for (quality order), or English.
pub fn page_language(accept_language: Option<&str>) -> &'static str {
    let mut asked: Vec<(f32, &str)> = accept_language
        .unwrap_or_default()
        .split(',')
        .filter_map(|part| {
            let mut bits = part.trim().split(';');
            let tag = bits.next()?.trim();
            let q = bits.find_map(|b| b.trim().strip_prefix("q=")).and_then(|q| q.parse().ok()).unwrap_or(1.0);
            Some((q, tag))
        })
        .collect();
    asked.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, tag) in asked {
        let primary = tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
        match primary.as_str() {
            "en" => return "en",
            "fr" => return "fr",
            "de" | "lb" => return "de",
            _ => {}
        }
    }
    "en"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_in_another_language_is_marked() {
        assert_eq!(written_in("Vous vous complétez pour le patrimoine et la 3D."), Some("fr"));
        assert_eq!(written_in("Sie ergänzen sich: Grafikdesign und die Spieleentwicklung."), Some("de"));
        assert_eq!(written_in("Great fit for your studio and the call."), Some("en"));
        assert_eq!(written_in("Sounddesign, 3D."), None, "unsure: no mark");
        assert_eq!(
            rationale("fr", "Great fit for your studio and the call."),
            "De l'équipe du cluster, en anglais : Great fit for your studio and the call."
        );
        assert_eq!(
            rationale("fr", "Vous vous complétez pour le patrimoine."),
            "Vous vous complétez pour le patrimoine."
        );
    }

    #[test]
    fn pages_follow_the_browser_language() {
        assert_eq!(page_language(Some("fr-LU,fr;q=0.9,en;q=0.8")), "fr");
        assert_eq!(page_language(Some("lb-LU, de;q=0.5")), "de");
        assert_eq!(page_language(Some("pt-PT, en;q=0.3, de;q=0.7")), "de");
        assert_eq!(page_language(Some("it")), "en");
        assert_eq!(page_language(None), "en");
    }

    #[test]
    fn long_descriptions_are_cut_at_a_word() {
        let long = "word ".repeat(100);
        let cut = short(&long);
        assert!(cut.ends_with("word …") && cut.chars().count() <= DESCRIPTION_CHARS + 2, "{cut}");
        assert_eq!(short("  two\n words "), "two words");
    }

    #[test]
    fn every_language_has_every_string() {
        let en: Vec<&String> = STRINGS["en"].as_object().unwrap().keys().collect();
        for lang in ["fr", "de"] {
            let keys: Vec<&String> = STRINGS[lang].as_object().unwrap().keys().collect();
            assert_eq!(keys, en, "{lang}");
        }
    }

    #[test]
    fn consent_requests_name_no_contact_and_introductions_both() {
        let card = json!({"name": "Atelier <Aurore>", "city": "Esch", "country": "LU", "website": "https://aurore.lu"});
        let asker = Asker { card: &card, description: Some("Affiches & patrimoine"), note: Some("Shall we?") };
        let about = about("de", "project", Some("Heritage VR"));
        assert_eq!(about, "Ihr Projekt „Heritage VR“");
        let asked =
            consent_request("de", "Bureau", &asker, &about, "https://mm.example.lu/c?t=x", "2026-12-31T16:00:00Z")
                .unwrap();
        assert_eq!(asked.subject, "Atelier <Aurore> möchte Ihnen vorgestellt werden");
        assert!(asked.text.contains("Guten Tag Bureau,") && asked.text.contains("„Shall we?“"), "{}", asked.text);
        assert!(asked.text.contains("Dieser Link gilt bis 31. Dezember 2026, 17:00 Uhr"), "{}", asked.text);
        assert!(!asked.text.contains("aurore.lu"), "no website or e-mail before consent: {}", asked.text);
        assert!(asked.html.contains("Atelier &lt;Aurore&gt;"), "{}", asked.html);

        let other = json!({"name": "Bureau Boréal", "city": null, "country": "LU", "website": null});
        let parties = [
            Party { card: &card, description: None, email: "a@aurore.lu" },
            Party { card: &other, description: Some(""), email: "b@boreal.lu" },
        ];
        let intro = introduction("fr", &parties, &super::about("fr", "partner", None), Some("Bonne route.")).unwrap();
        assert_eq!(intro.subject, "Mise en relation : Atelier <Aurore> et Bureau Boréal");
        for line in ["Courriel: a@aurore.lu", "Site web: https://aurore.lu", "Courriel: b@boreal.lu"] {
            assert!(intro.text.contains(line), "{line} in {}", intro.text);
        }
        assert!(intro.text.contains("De la part de l'équipe du cluster : Bonne route."), "{}", intro.text);
        let one = introduction("en", &parties[..1], "the project “X”", None).unwrap();
        assert_eq!(one.subject, "Your introduction request: the project “X”");
    }

    #[test]
    fn digests_render_escaped_in_each_language() {
        let s = json!({
            "kind": "project", "score": 81.4, "rationale": "Vos compétences <b>correspondent</b>",
            "project": {"title": "Heritage & <script>", "programme": "CREA", "call_id": "CREA-1",
                        "deadline": "2026-12-15T16:00:00Z", "source_url": "https://example.eu/c"},
            "partner": null, "explanation": {"matched": [{"label": "conception graphique"}]},
        });
        let mut early = s.clone();
        early["project"]["status"] = json!("forthcoming");
        early["project"]["opens_at"] = json!("2026-12-01T08:00:00Z");
        let week = super::super::IsoWeek { year: 2026, week: 48 };
        let content =
            |suggestions, url| DigestContent { suggestions, extras: &[], questions: &[], unsubscribe_url: url };
        let fr =
            digest("fr", "Atelier Éclat", &week, &content(std::slice::from_ref(&s), "https://mm.example.lu/u?t=x"))
                .unwrap();
        assert_eq!(fr.subject, "Vos suggestions Cluster Matchmaker, semaine 48");
        assert!(fr.html.contains("Heritage &amp; &lt;script&gt;"), "{}", fr.html);
        assert!(fr.text.contains("Heritage & <script>"), "{}", fr.text);
        assert!(fr.text.contains("Date limite: 15 décembre 2026, 17:00 (heure de Luxembourg)"), "{}", fr.text);
        assert!(fr.html.contains("https:&#x2f;&#x2f;mm.example.lu&#x2f;u?t=x"), "links are escaped like any text");
        let de = digest("de", "Atelier", &week, &content(std::slice::from_ref(&s), "u")).unwrap();
        assert!(de.text.contains("Frist: 15. Dezember 2026, 17:00 Uhr (Luxemburger Zeit)"), "{}", de.text);
        assert!(de.subject.starts_with("Ihre Cluster-Matchmaker-Vorschläge"));
        assert!(de.text.contains("Gemeinsam: conception graphique"));
        assert!(!fr.text.contains("Ouverture"), "an open call says nothing of its opening");
        // A forthcoming call says when it opens.
        let en = digest("en", "Atelier", &week, &content(std::slice::from_ref(&early), "u")).unwrap();
        assert!(en.text.contains("Opens: 1 December 2026, 09:00 (Luxembourg time)"), "{}", en.text);
        assert!(en.html.contains("Opens: 1 December 2026"), "{}", en.html);
    }
}
