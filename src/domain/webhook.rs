//! Webhooks: the events a partner portal can be told of, and the endpoints it registers for them.

use crate::api_enum;
use crate::domain::account::ClientScope;
use crate::domain::parse::ApiEnum;

api_enum!(
    /// What happened to a member linked to a portal.
    EventType {
        MemberUpdated => "member.updated",
        SuggestionDelivered => "suggestion.delivered",
        SuggestionReaction => "suggestion.reaction",
        IntroductionRequested => "introduction.requested",
        IntroductionDone => "introduction.done",
        SuggestionOutcome => "suggestion.outcome",
    }
);

impl EventType {
    /// The read scope a portal needs to be told of this event: the scope its data would need on the API.
    pub fn needs(self) -> ClientScope {
        match self {
            Self::MemberUpdated => ClientScope::MembersRead,
            _ => ClientScope::SuggestionsRead,
        }
    }
}

/// Events as stored on an endpoint: their names, space-separated.
pub fn events_text(events: &[EventType]) -> String {
    events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" ")
}

/// Stored events read back; a name this release does not know is left out.
pub fn events_from_text(text: &str) -> Vec<EventType> {
    let mut out: Vec<EventType> = text.split(' ').filter_map(EventType::from_name).collect();
    out.sort();
    out.dedup();
    out
}

/// The longest endpoint URL taken.
pub const MAX_URL_LEN: usize = 2000;

/// An endpoint's URL: `https://` (or `http://`, which only an allowed address may use: see `webhook::target`), with
/// a host, without credentials or a fragment.
pub fn parse_url(raw: &str) -> Result<url::Url, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an https:// URL".to_owned());
    }
    if url.host().is_none() {
        return Err("must name a host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials: the signature proves who sends".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".to_owned());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_need_their_read_scope() {
        let all = EventType::ALL.to_vec();
        assert_eq!(events_from_text(&events_text(&all)), all);
        assert_eq!(events_from_text("member.updated nonsense member.updated"), vec![EventType::MemberUpdated]);
        assert_eq!(EventType::MemberUpdated.needs(), ClientScope::MembersRead);
        assert_eq!(EventType::IntroductionDone.needs(), ClientScope::SuggestionsRead);
    }

    #[test]
    fn urls_are_checked() {
        assert!(parse_url("https://portal.example.lu/hooks").is_ok());
        assert!(parse_url("ftp://portal.example.lu/").is_err());
        assert!(parse_url("https://user:pw@portal.example.lu/").is_err());
        assert!(parse_url("https://portal.example.lu/#x").is_err());
        assert!(parse_url("not a url").is_err());
    }
}
