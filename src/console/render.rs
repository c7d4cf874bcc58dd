//! Pages rendered with minijinja from `assets/console/templates/` (HTML auto-escaped: a member's name or a note
//! cannot inject markup), in the reader's language with the strings of `assets/console/i18n/<lang>/`.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use minijinja::{Environment, State};
use serde_json::{Value, json};

use super::error::ConsoleError;
use crate::app::sessions::Current;
use crate::domain::parse::ApiEnum as _;

/// The console's languages; the first is the fallback.
pub const LANGS: &[&str] = &["en", "fr"];

/// The string files: one per language and area, so that a language is added by translating the files of `en/`.
const STRING_FILES: &[(&str, &str)] = &[
    ("en", include_str!("../../assets/console/i18n/en/common.json")),
    ("en", include_str!("../../assets/console/i18n/en/queue.json")),
    ("en", include_str!("../../assets/console/i18n/en/members.json")),
    ("en", include_str!("../../assets/console/i18n/en/projects.json")),
    ("en", include_str!("../../assets/console/i18n/en/vocabulary.json")),
    ("en", include_str!("../../assets/console/i18n/en/cluster.json")),
    ("en", include_str!("../../assets/console/i18n/en/admin.json")),
    ("fr", include_str!("../../assets/console/i18n/fr/common.json")),
    ("fr", include_str!("../../assets/console/i18n/fr/queue.json")),
    ("fr", include_str!("../../assets/console/i18n/fr/members.json")),
    ("fr", include_str!("../../assets/console/i18n/fr/projects.json")),
    ("fr", include_str!("../../assets/console/i18n/fr/vocabulary.json")),
    ("fr", include_str!("../../assets/console/i18n/fr/cluster.json")),
    ("fr", include_str!("../../assets/console/i18n/fr/admin.json")),
];

/// The templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../assets/console/templates/base.html")),
    ("macros.html", include_str!("../../assets/console/templates/macros.html")),
    ("error.html", include_str!("../../assets/console/templates/error.html")),
    ("sign_in.html", include_str!("../../assets/console/templates/sign_in.html")),
    ("password.html", include_str!("../../assets/console/templates/password.html")),
    ("queue.html", include_str!("../../assets/console/templates/queue.html")),
    ("suggestion.html", include_str!("../../assets/console/templates/suggestion.html")),
    ("members.html", include_str!("../../assets/console/templates/members.html")),
    ("member.html", include_str!("../../assets/console/templates/member.html")),
    ("member_digest.html", include_str!("../../assets/console/templates/member_digest.html")),
    ("projects.html", include_str!("../../assets/console/templates/projects.html")),
    ("project.html", include_str!("../../assets/console/templates/project.html")),
    ("project_form.html", include_str!("../../assets/console/templates/project_form.html")),
    ("vocabulary.html", include_str!("../../assets/console/templates/vocabulary.html")),
    ("vocabulary_preview.html", include_str!("../../assets/console/templates/vocabulary_preview.html")),
    ("cluster.html", include_str!("../../assets/console/templates/cluster.html")),
    ("cluster_macros.html", include_str!("../../assets/console/templates/cluster_macros.html")),
    ("cluster_run.html", include_str!("../../assets/console/templates/cluster_run.html")),
    ("cluster_digests.html", include_str!("../../assets/console/templates/cluster_digests.html")),
    ("cluster_introductions.html", include_str!("../../assets/console/templates/cluster_introductions.html")),
    ("cluster_imports.html", include_str!("../../assets/console/templates/cluster_imports.html")),
    ("cluster_import.html", include_str!("../../assets/console/templates/cluster_import.html")),
    ("cluster_audit.html", include_str!("../../assets/console/templates/cluster_audit.html")),
    ("admin.html", include_str!("../../assets/console/templates/admin.html")),
    ("admin_macros.html", include_str!("../../assets/console/templates/admin_macros.html")),
    ("admin_user_new.html", include_str!("../../assets/console/templates/admin_user_new.html")),
    ("admin_user.html", include_str!("../../assets/console/templates/admin_user.html")),
    ("admin_client_new.html", include_str!("../../assets/console/templates/admin_client_new.html")),
    ("admin_client.html", include_str!("../../assets/console/templates/admin_client.html")),
    ("admin_secret.html", include_str!("../../assets/console/templates/admin_secret.html")),
];

/// Every language's strings, keyed `area.name` (the area is the file's).
pub static STRINGS: LazyLock<HashMap<&'static str, HashMap<String, String>>> = LazyLock::new(|| {
    let mut all: HashMap<&'static str, HashMap<String, String>> = HashMap::new();
    for (lang, text) in STRING_FILES {
        let parsed: HashMap<String, String> = serde_json::from_str(text).unwrap_or_default();
        all.entry(lang).or_default().extend(parsed);
    }
    all
});

/// The string `key` in `lang` (English when it has none; the key itself when no language has it).
pub fn text(lang: &str, key: &str) -> String {
    STRINGS
        .get(lang)
        .and_then(|s| s.get(key))
        .or_else(|| STRINGS.get(LANGS[0]).and_then(|s| s.get(key)))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// `t("key")` in a template, `{name}` placeholders filled from the keyword arguments: `t("queue.waiting", n=3)`.
#[allow(clippy::needless_pass_by_value, reason = "minijinja hands keyword arguments over by value")]
fn t(state: &State<'_, '_>, key: &str, args: minijinja::value::Kwargs) -> Result<String, minijinja::Error> {
    let lang = state.lookup("lang").and_then(|l| l.as_str().map(str::to_owned)).unwrap_or_else(|| "en".to_owned());
    let mut out = text(&lang, key);
    for name in args.args() {
        let value: minijinja::Value = args.get(name)?;
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    Ok(out)
}

/// An RFC 3339 instant as Luxembourg time, `2026-12-07 10:42`.
pub fn lux(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&chrono_tz::Europe::Luxembourg).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| at.to_owned())
}

static ENV: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    env.add_function("t", t);
    env.add_filter("lux", |at: Option<String>| at.map(|a| lux(&a)).unwrap_or_default());
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    Ok(env)
});

/// Render `name` with `ctx` (a JSON object).
pub fn render(name: &str, ctx: &Value) -> Result<String, ConsoleError> {
    let env =
        ENV.as_ref().map_err(|e| ConsoleError::Internal(anyhow::anyhow!("the console templates do not load: {e}")))?;
    let template = env.get_template(name).map_err(|e| ConsoleError::Internal(e.into()))?;
    template.render(minijinja::Value::from(minijinja::value::Serde(ctx))).map_err(|e| ConsoleError::Internal(e.into()))
}

/// The request as a page sees it: the reader's language, the session (none on the sign-in form), the client address.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: &'static str,
    pub session: Option<Current>,
    pub ip: Option<String>,
    /// The path and query asked for.
    pub path: String,
}

impl Ctx {
    /// The signed-in session (pages behind the guard always have one).
    pub fn current(&self) -> Result<&Current, ConsoleError> {
        self.session.as_ref().ok_or(ConsoleError::SignedOut)
    }

    /// The audit log's actor.
    pub fn actor(&self) -> Result<crate::app::Actor, ConsoleError> {
        Ok(crate::app::Actor::new(&self.current()?.caller, self.ip.clone()))
    }

    /// What every page's layout reads, with the page's own values in `page`.
    fn base(&self, page: Value) -> Value {
        let session = self.session.as_ref().map(|s| {
            json!({"email": s.user.email, "role": s.user.role.as_str(), "admin": s.caller.is_admin(), "csrf": s.csrf})
        });
        let section = self.path.trim_start_matches("/console/").split(['/', '?']).next().unwrap_or("");
        let section = if section == "suggestions" { "queue" } else { section };
        let mut ctx = json!({
            "lang": self.lang,
            "langs": LANGS,
            "path": self.path,
            "section": section,
            "session": session,
        });
        if let (Some(obj), Value::Object(extra)) = (ctx.as_object_mut(), page) {
            obj.extend(extra);
        }
        ctx
    }

    /// A page: `name` rendered with the page's values.
    pub fn page(&self, name: &str, page: Value) -> Result<HttpResponse, ConsoleError> {
        self.page_with_status(actix_web::http::StatusCode::OK, name, page)
    }

    pub fn page_with_status(
        &self,
        status: actix_web::http::StatusCode,
        name: &str,
        page: Value,
    ) -> Result<HttpResponse, ConsoleError> {
        let html = render(name, &self.base(page))?;
        Ok(html_response(status, html))
    }
}

/// What every console page is sent with: no caching, no framing, scripts and styles from the console only.
pub fn html_response(status: actix_web::http::StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(html)
}

/// A redirect after a form (303: the browser follows with GET).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The reader's language: the `mm_lang` cookie, else the first of `Accept-Language` the console has, else English.
pub fn lang_of(req: &HttpRequest) -> &'static str {
    if let Some(c) = req.cookie("mm_lang")
        && let Some(l) = LANGS.iter().find(|l| **l == c.value())
    {
        return l;
    }
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    for part in accept.split(',') {
        let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        if let Some(l) = LANGS.iter().find(|l| **l == primary) {
            return l;
        }
    }
    LANGS[0]
}

impl FromRequest for Ctx {
    type Error = ConsoleError;
    type Future = std::future::Ready<Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<Ctx>().cloned().ok_or(ConsoleError::SignedOut))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::{Scope, Sector};
    use crate::domain::parse::ApiEnum;
    use crate::review::{SuggestionKind, SuggestionStatus};

    /// The keys a template names literally: `t("area.key"`.
    fn literal_keys(source: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for quote in ['"', '\''] {
            let opening = format!("t({quote}");
            let mut rest = source;
            while let Some(at) = rest.find(&opening) {
                rest = &rest[at + opening.len()..];
                // A literal followed by `~` is the start of a key built from a value (`t("kind." ~ s.kind)`).
                if let Some(end) = rest.find(quote).filter(|end| !rest[*end + 1..].trim_start().starts_with('~')) {
                    keys.push(rest[..end].to_owned());
                }
            }
        }
        keys
    }

    #[test]
    fn every_language_has_every_string() {
        let english = &STRINGS["en"];
        for lang in LANGS {
            let strings = &STRINGS[lang];
            let missing: Vec<&String> = english.keys().filter(|k| !strings.contains_key(*k)).collect();
            let extra: Vec<&String> = strings.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, unknown {extra:?}");
        }
        for (lang, text) in STRING_FILES {
            let parsed: Result<HashMap<String, String>, _> = serde_json::from_str(text);
            assert!(parsed.is_ok(), "a {lang} strings file is not a JSON object of strings");
        }
    }

    #[test]
    fn templates_name_only_strings_that_exist() {
        for (name, source) in TEMPLATES {
            for key in literal_keys(source) {
                assert!(STRINGS["en"].contains_key(&key), "{name} names `{key}`, which no strings file has");
            }
        }
        // The keys templates build from values.
        let built = SuggestionKind::ALL
            .iter()
            .map(|k| format!("kind.{}", k.as_str()))
            .chain(SuggestionStatus::ALL.iter().map(|s| format!("status.{}", s.as_str())))
            .chain(Sector::ALL.iter().map(|s| format!("sector.{}", s.as_str())))
            .chain(Scope::ALL.iter().map(|s| format!("scope.{}", s.as_str())));
        for key in built {
            assert!(STRINGS["en"].contains_key(&key), "no string for `{key}`");
        }
    }

    #[test]
    fn every_template_loads_and_escapes() {
        assert!(ENV.is_ok(), "{:?}", ENV.as_ref().err());
        let ctx = Ctx { lang: "fr", session: None, ip: None, path: "/console/sign-in".to_owned() };
        let html = render("sign_in.html", &ctx.base(json!({"csrf": "t", "email": "<script>x</script>"}))).unwrap();
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>x"), "{html}");
        assert!(html.contains("<html lang=\"fr\">"));
    }

    #[test]
    fn times_read_in_luxembourg() {
        assert_eq!(lux("2026-12-07T09:30:00Z"), "2026-12-07 10:30");
        assert_eq!(lux("2026-07-01T09:30:00.123456Z"), "2026-07-01 11:30");
    }
}
