//! Digest e-mails and the unsubscribe page, rendered with minijinja from the templates in `assets/mail/` (HTML is
//! auto-escaped: a member's name or a project's title cannot inject markup).

use std::sync::LazyLock;

use minijinja::Environment;
use serde_json::{Value, json};

static STRINGS: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(include_str!("../../assets/mail/strings.json")).unwrap_or(Value::Null));

static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_template("digest.html", include_str!("../../assets/mail/digest.html"))?;
    env.add_template("digest.txt", include_str!("../../assets/mail/digest.txt"))?;
    env.add_template("unsubscribe.html", include_str!("../../assets/mail/unsubscribe.html"))?;
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

/// One suggestion of a digest, from its member view (`review::view::for_member`).
fn item(lang: &str, s: &Value) -> Value {
    let t = strings(lang);
    let kind = s["kind"].as_str().unwrap_or("project");
    let (title, place, link, deadline) = match kind {
        "project" => (
            s["project"]["title"].clone(),
            [s["project"]["programme"].as_str(), s["project"]["call_id"].as_str()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / "),
            s["project"]["source_url"].clone(),
            s["project"]["deadline"].as_str().map(|d| d.chars().take(10).collect::<String>()),
        ),
        _ => {
            let card = &s["partner"];
            let place = [card["city"].as_str(), card["country"].as_str()].into_iter().flatten().collect::<Vec<_>>();
            let project = s["project"]["title"].as_str();
            let title = match project {
                Some(p) if kind == "candidate" => json!(format!("{} ({p})", card["name"].as_str().unwrap_or_default())),
                _ => card["name"].clone(),
            };
            (title, place.join(", "), card["website"].clone(), None)
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
    json!({
        "kind_label": t[kind],
        "title": title,
        "place": place,
        "rationale": s["rationale"],
        "score": s["score"].as_f64().map(|x| x.round() as i64),
        "matched": matched,
        "deadline": deadline,
        "link": link,
    })
}

/// Render a digest in `lang` for `name` with its suggestions (member views, best first).
pub fn digest(
    lang: &str,
    name: &str,
    week: &super::IsoWeek,
    suggestions: &[Value],
    unsubscribe_url: &str,
) -> anyhow::Result<Rendered> {
    let t = strings(lang);
    let week_number = week.week.to_string();
    let subject = fill(t["subject"].as_str().unwrap_or_default(), &[("week", &week_number)]);
    let ctx = json!({
        "lang": lang,
        "subject": subject,
        "greeting": fill(t["greeting"].as_str().unwrap_or_default(), &[("name", name)]),
        "t": t,
        "items": suggestions.iter().map(|s| item(lang, s)).collect::<Vec<_>>(),
        "unsubscribe_url": unsubscribe_url,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_string() {
        let en: Vec<&String> = STRINGS["en"].as_object().unwrap().keys().collect();
        for lang in ["fr", "de"] {
            let keys: Vec<&String> = STRINGS[lang].as_object().unwrap().keys().collect();
            assert_eq!(keys, en, "{lang}");
        }
    }

    #[test]
    fn digests_render_escaped_in_each_language() {
        let s = json!({
            "kind": "project", "score": 81.4, "rationale": "Vos compétences <b>correspondent</b>",
            "project": {"title": "Heritage & <script>", "programme": "CREA", "call_id": "CREA-1",
                        "deadline": "2026-12-15T16:00:00Z", "source_url": "https://example.eu/c"},
            "partner": null, "explanation": {"matched": [{"label": "conception graphique"}]},
        });
        let week = super::super::IsoWeek { year: 2026, week: 48 };
        let fr = digest("fr", "Atelier Éclat", &week, std::slice::from_ref(&s), "https://mm.example.lu/u?t=x").unwrap();
        assert_eq!(fr.subject, "Vos suggestions Cluster Matchmaker, semaine 48");
        assert!(fr.html.contains("Heritage &amp; &lt;script&gt;"), "{}", fr.html);
        assert!(fr.text.contains("Heritage & <script>"), "{}", fr.text);
        assert!(fr.text.contains("Date limite: 2026-12-15"));
        assert!(fr.html.contains("https:&#x2f;&#x2f;mm.example.lu&#x2f;u?t=x"), "links are escaped like any text");
        let de = digest("de", "Atelier", &week, &[s], "u").unwrap();
        assert!(de.subject.starts_with("Ihre Cluster-Matchmaker-Vorschläge"));
        assert!(de.text.contains("Gemeinsam: conception graphique"));
    }
}
