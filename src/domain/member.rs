//! A member organisation of the cluster (or one of its partners abroad) and its profile.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::codes;
use super::fold::fold;
use super::parse::{ApiEnum, Check, FieldError, ObjectParser, array, boolean, fail, line, text, unique_by};
use crate::api_enum;

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
pub const URL_MAX: usize = 500;
pub const EMAIL_MAX: usize = 254;
pub const CITY_MAX: usize = 100;
pub const CODES_MAX: usize = 20;

api_enum!(
    /// The cluster's creative-industry sectors.
    Sector {
        Architecture => "architecture",
        CraftsAndArt => "crafts_and_art",
        Cinematography => "cinematography",
        Design => "design",
        Games => "games",
        MarketingAndCommunication => "marketing_and_communication",
        Fashion => "fashion",
        NewMedia => "new_media",
    }
);

api_enum!(
    /// Where a member likes to work: at home, in Europe, beyond.
    Scope { National => "national", European => "european", International => "international" }
);

api_enum!(
    /// Size class of the organisation.
    Size { OnePerson => "one_person", Micro => "micro", Small => "small", Medium => "medium", Large => "large" }
);

api_enum!(
    /// The language we write to the member in.
    PreferredLanguage { En => "en", Fr => "fr", De => "de", Lb => "lb" }
);

api_enum!(
    /// Whether the member receives the weekly digest.
    DigestFrequency { Weekly => "weekly", Off => "off" }
);

api_enum!(
    /// Set by agency staff.
    MemberStatus { Active => "active", Suspended => "suspended" }
);

api_enum!(
    /// Which list a profile term belongs to.
    TermKind { Offer => "offer", Need => "need", Interest => "interest" }
);

use super::term;
pub use super::term::{TERM_MAX, TERMS_MAX, Term, TermItem as ProfileTerm};

fn term_list(value: &Value, strength_key: Option<&str>) -> Check<Vec<ProfileTerm>> {
    term::list(value, strength_key)
}

/// An http(s) URL.
pub fn website(value: &Value) -> Check<String> {
    let s = line(value, 1, URL_MAX)?;
    match url::Url::parse(&s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(s),
        Ok(_) => fail("must be an http or https URL with a host"),
        Err(e) => fail(format!("must be an http or https URL ({e})")),
    }
}

pub fn email(value: &Value) -> Check<String> {
    let s = line(value, 1, EMAIL_MAX)?;
    match super::email::parse_address(&s) {
        Ok(_) => Ok(s),
        Err(_) => fail("must be an e-mail address the mailer can send to, such as studio@example.lu"),
    }
}

pub fn country(value: &Value) -> Check<String> {
    let Some(s) = value.as_str() else {
        return fail("must be a string");
    };
    let code = s.trim().to_ascii_uppercase();
    if code.len() == 2 && codes::is_country(&code) {
        Ok(code)
    } else {
        fail(format!("`{s}` is not an assigned ISO 3166-1 alpha-2 country code (such as LU, FR, DE)"))
    }
}

fn language(value: &Value) -> Check<String> {
    let Some(s) = value.as_str() else {
        return fail("must be a string");
    };
    let code = s.trim().to_ascii_lowercase();
    if code.len() == 2 && codes::is_language(&code) {
        Ok(code)
    } else {
        fail(format!("`{s}` is not an ISO 639-1 language code (such as lb, fr, de, en)"))
    }
}

fn nace_code(value: &Value) -> Check<String> {
    let Some(s) = value.as_str() else {
        return fail("must be a string");
    };
    let code = s.trim();
    if codes::nace_class_name(code).is_some() {
        Ok(code.to_owned())
    } else {
        fail(format!("`{s}` is not a NACE Rev. 2 class code (four digits written like 74.10)"))
    }
}

pub fn codes_list(value: &Value, what: &str, item: impl FnMut(&Value) -> Check<String>) -> Check<Vec<String>> {
    let list = array(value, CODES_MAX, item)?;
    unique_by(list, Clone::clone, what)
}

pub fn enum_set<T: ApiEnum + PartialEq>(value: &Value, min: usize) -> Check<Vec<T>> {
    let list = array(value, T::ALL.len() * 2, T::parse_value)?;
    if list.len() < min {
        return fail(format!("must name at least {min} of {}", T::choices()));
    }
    unique_by(list, |v| *v, "the value")
}

/// Every writable field of a member, valid. Made from a create body, or from the stored member with a merge patch
/// applied, by the same parser, so both paths enforce the same rules.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberDraft {
    pub name: String,
    pub description: String,
    pub website: Option<String>,
    pub contact_email: String,
    pub country: String,
    pub city: Option<String>,
    pub sectors: Vec<Sector>,
    pub nace_codes: Vec<String>,
    pub size: Option<Size>,
    pub languages: Vec<String>,
    pub preferred_language: PreferredLanguage,
    pub offers: Vec<ProfileTerm>,
    pub needs: Vec<ProfileTerm>,
    pub interests: Vec<ProfileTerm>,
    pub scopes: Vec<Scope>,
    pub digest: DigestFrequency,
    pub discoverable: bool,
    pub status: MemberStatus,
}

/// Fields a client may write.
pub const WRITABLE: &[&str] = &[
    "name",
    "description",
    "website",
    "contact_email",
    "country",
    "city",
    "sectors",
    "nace_codes",
    "size",
    "languages",
    "preferred_language",
    "offers",
    "needs",
    "interests",
    "scopes",
    "digest",
    "discoverable",
    "status",
];

/// Fields the server owns.
pub const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

impl MemberDraft {
    /// Parse a full set of fields (a create body, or a patched document).
    pub fn parse(value: &Value) -> Check<Self> {
        let mut p = ObjectParser::new(value)?;
        p.only(WRITABLE, READ_ONLY);
        let name = p.required("name", |v| line(v, 1, NAME_MAX));
        let description = p.defaulted("description", String::new(), |v| text(v, 0, DESCRIPTION_MAX));
        let website = p.nullable("website", website);
        let contact_email = p.required("contact_email", email);
        let country = p.required("country", country);
        let city = p.nullable("city", |v| line(v, 1, CITY_MAX));
        let sectors = p.required("sectors", |v| enum_set::<Sector>(v, 1));
        let nace_codes = p.defaulted("nace_codes", Vec::new(), |v| codes_list(v, "the code", nace_code));
        let size = p.nullable("size", Size::parse_value);
        let languages = p.defaulted("languages", Vec::new(), |v| codes_list(v, "the language", language));
        let preferred_language =
            p.defaulted("preferred_language", PreferredLanguage::En, PreferredLanguage::parse_value);
        let offers = p.defaulted("offers", Vec::new(), |v| term_list(v, Some("level")));
        let needs = p.defaulted("needs", Vec::new(), |v| term_list(v, Some("priority")));
        let interests = p.defaulted("interests", Vec::new(), |v| term_list(v, None));
        let scopes = p.defaulted("scopes", Vec::new(), |v| enum_set::<Scope>(v, 0));
        let digest = p.defaulted("digest", DigestFrequency::Weekly, DigestFrequency::parse_value);
        let discoverable = p.defaulted("discoverable", true, boolean);
        let status = p.defaulted("status", MemberStatus::Active, MemberStatus::parse_value);
        p.finish(|| {
            Some(Self {
                name: name?,
                description: description?,
                website: website?,
                contact_email: contact_email?,
                country: country?,
                city: city?,
                sectors: sectors?,
                nace_codes: nace_codes?,
                size: size?,
                languages: languages?,
                preferred_language: preferred_language?,
                offers: offers?,
                needs: needs?,
                interests: interests?,
                scopes: scopes?,
                digest: digest?,
                discoverable: discoverable?,
                status: status?,
            })
        })
    }

    /// Apply a JSON Merge Patch (RFC 7396) to these fields and parse the result. Read-only and unknown fields in the
    /// patch are refused, as in a create body.
    pub fn patched(&self, patch: &Value) -> Check<Self> {
        let Some(patch_obj) = patch.as_object() else {
            return fail("a merge patch must be a JSON object");
        };
        let mut errors = Vec::new();
        for key in patch_obj.keys() {
            if READ_ONLY.contains(&key.as_str()) {
                errors.push(FieldError::new(format!("/{key}"), "is read-only"));
            } else if !WRITABLE.contains(&key.as_str()) {
                errors.push(FieldError::new(format!("/{key}"), "is not a known field"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut doc = Value::Object(self.to_json());
        merge_patch(&mut doc, patch);
        Self::parse(&doc)
    }

    /// The writable fields as JSON, the shape clients send.
    pub fn to_json(&self) -> Map<String, Value> {
        self.json(term::input_json)
    }

    /// The fields as the API shows them: terms with their concepts and how they matched.
    pub fn to_output_json(&self) -> Map<String, Value> {
        self.json(term::output_json)
    }

    fn json(&self, terms: fn(&[ProfileTerm], Option<&str>) -> Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("description".into(), json!(self.description));
        m.insert("website".into(), json!(self.website));
        m.insert("contact_email".into(), json!(self.contact_email));
        m.insert("country".into(), json!(self.country));
        m.insert("city".into(), json!(self.city));
        m.insert("sectors".into(), json!(self.sectors));
        m.insert("nace_codes".into(), json!(self.nace_codes));
        m.insert("size".into(), json!(self.size));
        m.insert("languages".into(), json!(self.languages));
        m.insert("preferred_language".into(), json!(self.preferred_language));
        m.insert("offers".into(), terms(&self.offers, Some("level")));
        m.insert("needs".into(), terms(&self.needs, Some("priority")));
        m.insert("interests".into(), terms(&self.interests, None));
        m.insert("scopes".into(), json!(self.scopes));
        m.insert("digest".into(), json!(self.digest));
        m.insert("discoverable".into(), json!(self.discoverable));
        m.insert("status".into(), json!(self.status));
        m
    }

    /// Folded name and description, searched by `q`.
    pub fn search_text(&self) -> String {
        fold(&format!("{} {}", self.name, self.description))
    }

    /// All profile terms with their kind, in order.
    pub fn terms(&self) -> impl Iterator<Item = (TermKind, usize, &ProfileTerm)> {
        let kinds =
            [(TermKind::Offer, &self.offers), (TermKind::Need, &self.needs), (TermKind::Interest, &self.interests)];
        kinds.into_iter().flat_map(|(kind, list)| list.iter().enumerate().map(move |(i, t)| (kind, i, t)))
    }
}

/// RFC 7396: objects merge recursively, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_obj) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target_obj) = target {
        for (key, value) in patch_obj {
            if value.is_null() {
                target_obj.remove(key);
            } else {
                merge_patch(target_obj.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// A stored member.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: Uuid,
    pub profile: MemberDraft,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Member {
    /// The strong entity tag of this version.
    pub fn etag(&self) -> String {
        etag_for(self.version)
    }

    /// The member as the API shows it.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.extend(self.profile.to_output_json());
        m.insert("created_at".into(), json!(timestamp(self.created_at)));
        m.insert("updated_at".into(), json!(timestamp(self.updated_at)));
        Value::Object(m)
    }
}

pub use super::version::etag_for;

/// RFC 3339 in UTC with microseconds, the one timestamp format of the API.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The language the service writes to a member in (digests, pages, the sentence under a suggestion): the member's, except Luxembourgish, for which we have no templates: German,
/// or French for a member who reads French but not German.
pub fn mail_language(preferred: PreferredLanguage, languages: &[String]) -> &'static str {
    match preferred {
        PreferredLanguage::En => "en",
        PreferredLanguage::Fr => "fr",
        PreferredLanguage::De => "de",
        PreferredLanguage::Lb => {
            let reads = |l: &str| languages.iter().any(|x| x == l);
            if reads("fr") && !reads("de") { "fr" } else { "de" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> Value {
        json!({"name": " Atelier Lumen ", "contact_email": "hello@lumen.lu", "country": "lu", "sectors": ["design"]})
    }

    #[test]
    fn minimal_profile_gets_defaults() {
        let d = MemberDraft::parse(&minimal()).unwrap();
        assert_eq!(d.name, "Atelier Lumen");
        assert_eq!(d.country, "LU");
        assert_eq!(d.preferred_language, PreferredLanguage::En);
        assert_eq!(d.digest, DigestFrequency::Weekly);
        assert!(d.discoverable);
        assert_eq!(d.status, MemberStatus::Active);
        assert!(d.offers.is_empty() && d.scopes.is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let body = json!({
            "name": "", "contact_email": "nope", "country": "XX", "sectors": ["design", "cooking"],
            "website": "ftp://x.lu", "nace_codes": ["74.1", "74.10"], "languages": ["xx"],
            "offers": [{"term": "3D modelling", "level": 6}, {"term": "", "level": 3}],
            "needs": [{"term": "x"}], "size": "huge", "colour": "red", "id": "abc"
        });
        let errors = MemberDraft::parse(&body).unwrap_err();
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        for expected in [
            "/name",
            "/contact_email",
            "/country",
            "/sectors/1",
            "/website",
            "/nace_codes/0",
            "/languages/0",
            "/offers/0/level",
            "/offers/1/term",
            "/needs/0/priority",
            "/size",
            "/colour",
            "/id",
        ] {
            assert!(pointers.contains(&expected), "{expected} missing in {pointers:?}");
        }
    }

    #[test]
    fn terms_are_kept_as_typed_and_deduplicated_by_folded_form() {
        let mut body = minimal();
        body["offers"] = json!([{"term": "  Modélisation 3D ", "level": 4}]);
        let d = MemberDraft::parse(&body).unwrap();
        assert_eq!(d.offers[0].term.as_str(), "Modélisation 3D");
        assert_eq!(d.offers[0].term.folded(), "modelisation 3d");
        body["offers"] = json!([{"term": "UX design", "level": 4}, {"term": "ux-Design", "level": 2}]);
        let errors = MemberDraft::parse(&body).unwrap_err();
        assert_eq!(errors[0].pointer, "/offers/1");
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let d = MemberDraft::parse(&json!({
            "name": "A", "contact_email": "a@b.lu", "country": "LU", "sectors": ["games"], "city": "Esch", "size": "micro"
        }))
        .unwrap();
        let p = d.patched(&json!({"city": null, "sectors": ["design", "fashion"], "name": "B"})).unwrap();
        assert_eq!(p.city, None);
        assert_eq!(p.name, "B");
        assert_eq!(p.sectors, vec![Sector::Design, Sector::Fashion]);
        assert_eq!(p.size, Some(Size::Micro));
        assert!(d.patched(&json!({"name": null})).is_err(), "a required field cannot be removed");
        assert_eq!(d.patched(&json!({"id": "x"})).unwrap_err()[0].detail, "is read-only");
        assert!(d.patched(&json!([1])).is_err());
    }

    #[test]
    fn rfc_7396_examples() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [{"b": "c"}]});
        merge_patch(&mut target, &json!({"a": [1]}));
        assert_eq!(target, json!({"a": [1]}));
    }
}
