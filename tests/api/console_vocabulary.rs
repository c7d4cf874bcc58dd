//! The console's vocabulary worklist, on both backends: a member's unexplained word is listed, its synonym previewed
//! (which stored terms of whom it re-maps, and to what), added, seen to map the member's word, and undone; a merge
//! previewed, made and undone; the autocomplete answers JSON; bad input changes nothing.

use matchmaker::matching::Vocabulary;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::console::{Console, attrs, texts};
use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::review::{create, member_body};

on_both_backends!(
    a_word_from_the_worklist_becomes_a_synonym_and_is_taken_back,
    a_merge_is_previewed_made_and_undone,
    the_autocomplete_answers_concepts_as_json,
    bad_vocabulary_forms_change_nothing,
);

/// A made-up trade word (Luxembourgish for poster printing) the vocabulary does not know.
const WORD: &str = "Plakatdréckerei";

fn concept_of(label: &str) -> String {
    let v = Vocabulary::shipped().unwrap();
    let c = v.normalise(label).concept.unwrap_or_else(|| panic!("the vocabulary names “{label}”"));
    v.concept(c).id.clone()
}

/// How the member's offer `term` maps now: (concept, match), through the API.
async fn offer(app: &TestApp, member: Uuid, term: &str) -> (Option<String>, String) {
    let m = app.get(&format!("/v1/members/{member}")).await.json();
    let o = m["offers"].as_array().unwrap().iter().find(|o| o["term"] == term).cloned().unwrap();
    (o["concept"].as_str().map(str::to_owned), o["match"].as_str().unwrap().to_owned())
}

fn selector_for(term: &str) -> String {
    format!("ol.terms > li[data-term=\"{term}\"]")
}

async fn synonyms(app: &TestApp) -> Vec<Value> {
    app.get("/v1/vocabulary/synonyms").await.json()["items"].as_array().unwrap().clone()
}

async fn a_word_from_the_worklist_becomes_a_synonym_and_is_taken_back(app: TestApp) {
    let graphic = concept_of("graphic design");
    let member = create(&app, &member_body("Atelier Plakat", &[WORD, "3D modelling"], &["game development"])).await;
    let before = offer(&app, member, WORD).await;
    assert!(["free", "partial", "fuzzy"].contains(&before.1.as_str()), "not explained yet: {before:?}");

    // The worklist lists the word, used by one member, with a labelled concept field.
    let (mut browser, staff) = Console::staff(&app).await;
    let page = browser.get("/console/vocabulary").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    let row = selector_for(WORD);
    assert_eq!(texts(&html, &format!("{row} h3")), [WORD]);
    assert!(texts(&html, &row)[0].contains("Used by 1 member(s) and 0 project(s)."), "{}", texts(&html, &row)[0]);
    let field = attrs(&html, &format!("{row} form input[name=concept]"), "id");
    assert_eq!(field.len(), 1);
    assert_eq!(texts(&html, &format!("{row} label[for=\"{}\"]", field[0])), ["Concept"]);
    assert_eq!(attrs(&html, &format!("{row} form"), "action"), ["/console/vocabulary/preview"]);
    assert_eq!(texts(&html, &format!("{row} form button[type=submit]")), ["Preview adding it as a synonym"]);
    assert!(texts(&html, "footer").concat().contains("Luxembourg time"));

    // The preview names the member, its word, and the concept it will map to; nothing is stored yet.
    let preview = browser
        .post(
            "/console/vocabulary/preview",
            &[("action", "synonym"), ("label", WORD), ("lang", "lb"), ("concept", "graphic design")],
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text());
    let html = preview.text();
    let rows = texts(&html, "table.remapped tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("Member: Atelier Plakat") && rows[0].contains(WORD), "{}", rows[0]);
    assert!(rows[0].contains("synonym: graphic design"), "{}", rows[0]);
    assert_eq!(attrs(&html, "table.remapped tbody tr", "data-holder"), [member.to_string()]);
    assert_eq!(attrs(&html, "form.confirm input[name=concept]", "value"), [graphic.as_str()]);
    assert_eq!(texts(&html, "form.confirm button"), ["Add the synonym"]);
    assert!(synonyms(&app).await.is_empty(), "a preview stores nothing");
    assert_eq!(offer(&app, member, WORD).await, before);

    // Confirmed: the synonym is stored, the member's word maps to the concept, and it leaves the worklist.
    let added =
        browser.post("/console/vocabulary/synonyms", &[("concept", &graphic), ("lang", "lb"), ("label", WORD)]).await;
    assert_eq!(added.status, 303, "{}", added.text());
    assert_eq!(added.header("location").unwrap(), "/console/vocabulary?done=synonym_added&n=1");
    let stored = synonyms(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0]["concept"].as_str(), stored[0]["label"].as_str()), (Some(graphic.as_str()), Some(WORD)));
    assert_eq!(stored[0]["created_by"], format!("user:{}", staff.id));
    assert_eq!(offer(&app, member, WORD).await, (Some(graphic.clone()), "synonym".to_owned()));
    let page = browser.get(&added.header("location").unwrap()).await;
    let html = page.text();
    assert_eq!(texts(&html, "p.notice"), ["The synonym was added; 1 stored term(s) were mapped anew."]);
    assert!(texts(&html, &selector_for(WORD)).is_empty(), "the word left the worklist");
    let id = stored[0]["id"].as_str().unwrap();
    assert_eq!(texts(&html, &format!("table.synonyms tr[data-synonym=\"{id}\"] th")), [WORD]);

    // Undone: the synonym is gone, and the member's word is as it was, back on the worklist.
    let action = format!("/console/vocabulary/synonyms/{id}/remove");
    assert_eq!(attrs(&html, &format!("table.synonyms tr[data-synonym=\"{id}\"] form"), "action"), [action.as_str()]);
    let removed = browser.post(&action, &[]).await;
    assert_eq!(removed.status, 303, "{}", removed.text());
    assert_eq!(removed.header("location").unwrap(), "/console/vocabulary?done=synonym_removed&n=1");
    assert!(synonyms(&app).await.is_empty());
    assert_eq!(offer(&app, member, WORD).await, before);
    let page = browser.get("/console/vocabulary").await;
    assert_eq!(texts(&page.text(), &format!("{} h3", selector_for(WORD))), [WORD]);
    let again = browser.post(&action, &[]).await;
    assert_eq!(again.status, 404, "taken back once: {}", again.text());

    // Every step is in the audit log.
    let audit = app.get("/v1/audit?action=vocabulary.synonym_added").await.json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

async fn a_merge_is_previewed_made_and_undone(app: TestApp) {
    let (visual, graphic) = (concept_of("visual identity"), concept_of("graphic design"));
    let member = create(&app, &member_body("Identity Atelier", &["visual identity"], &["game development"])).await;
    assert_eq!(offer(&app, member, "visual identity").await.0, Some(visual.clone()));
    let (mut browser, _) = Console::staff(&app).await;
    let page = browser.get("/console/vocabulary").await;
    let html = page.text();
    for (id, label) in [("merge-from", "Concept to merge away"), ("merge-into", "Concept it joins")] {
        assert_eq!(texts(&html, &format!("label[for={id}]")), [label]);
    }

    // Previewed with the concepts' labels: the member's term is listed, moving from one concept to the other.
    let preview = browser
        .post("/console/vocabulary/preview", &[("action", "merge"), ("from", "visual identity"), ("into", &graphic)])
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text());
    let html = preview.text();
    assert!(texts(&html, "h1")[0].contains("merge visual identity into graphic design"), "{:?}", texts(&html, "h1"));
    let rows = texts(&html, "table.remapped tbody tr");
    assert!(
        rows.iter().any(|r| r.contains("Identity Atelier")
            && r.contains("exact label: visual identity")
            && r.contains("graphic design")),
        "{rows:?}"
    );
    assert_eq!(attrs(&html, "form.confirm input[name=from]", "value"), [visual.as_str()]);
    assert_eq!(attrs(&html, "form.confirm input[name=into]", "value"), [graphic.as_str()]);
    assert!(app.get("/v1/vocabulary/merges").await.json()["items"].as_array().unwrap().is_empty());

    // Made: the term follows; the merge is listed with its undo.
    let merged = browser.post("/console/vocabulary/merges", &[("from", &visual), ("into", &graphic)]).await;
    assert_eq!(merged.status, 303, "{}", merged.text());
    assert!(merged.header("location").unwrap().starts_with("/console/vocabulary?done=merged&n="));
    let merges = app.get("/v1/vocabulary/merges").await.json();
    assert_eq!(merges["items"][0]["from"], visual.as_str(), "{merges}");
    assert_eq!(offer(&app, member, "visual identity").await.0, Some(graphic.clone()));
    let page = browser.get("/console/vocabulary").await;
    let html = page.text();
    let row = format!("table.merges tr[data-merge=\"{visual}\"]");
    assert!(texts(&html, &row)[0].contains("visual identity") && texts(&html, &row)[0].contains("graphic design"));

    // Undone: the concept is its own again, and so is the member's term.
    let undo = browser.post("/console/vocabulary/merges/remove", &[("from", &visual)]).await;
    assert_eq!(undo.status, 303, "{}", undo.text());
    assert!(undo.header("location").unwrap().starts_with("/console/vocabulary?done=unmerged"));
    assert!(app.get("/v1/vocabulary/merges").await.json()["items"].as_array().unwrap().is_empty());
    assert_eq!(offer(&app, member, "visual identity").await.0, Some(visual.clone()));
    let audit = app.get("/v1/audit?action=vocabulary.unmerged").await.json();
    assert_eq!(audit["items"][0]["target"], visual.as_str(), "{audit}");
}

async fn the_autocomplete_answers_concepts_as_json(app: TestApp) {
    let graphic = concept_of("graphic design");
    let (mut browser, _) = Console::staff(&app).await;
    let found = browser.get("/console/vocabulary/suggest?q=graphic%20des").await;
    assert_eq!(found.status, 200, "{}", found.text());
    assert!(found.header("content-type").unwrap().starts_with("application/json"));
    let items = found.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty() && items.len() <= 10, "{items:?}");
    assert_eq!(items[0], json!({"concept": graphic, "label": "graphic design"}));
    let many = browser.get("/console/vocabulary/suggest?q=de").await.json();
    assert_eq!(many["items"].as_array().unwrap().len(), 10, "at most ten: {many}");
    assert_eq!(browser.get("/console/vocabulary/suggest?q=").await.json(), json!({"items": []}));
    assert_eq!(browser.get(&format!("/console/vocabulary/suggest?q={}", "x".repeat(101))).await.status, 400);

    // The page's concept fields are wired to it: each names its own datalist, which holds the server's candidates.
    create(&app, &member_body("Atelier Plakat", &["graphic desgin"], &["game development"])).await;
    let page = browser.get("/console/vocabulary").await;
    let html = page.text();
    let row = selector_for("graphic desgin");
    let list = attrs(&html, &format!("{row} input[name=concept][data-suggest]"), "list");
    assert_eq!(list.len(), 1, "{html}");
    let options = attrs(&html, &format!("{row} datalist#{} option", list[0]), "value");
    assert!(options.contains(&"graphic design".to_owned()), "{options:?}");
    // A near spelling offers the concept it was guessed to.
    assert_eq!(attrs(&html, &format!("{row} input[name=concept]"), "value"), ["graphic design"]);
    let script = browser.get("/console/static/console.js").await.text();
    assert!(script.contains("/console/vocabulary/suggest?q=") && script.contains("input[data-suggest]"));
}

async fn bad_vocabulary_forms_change_nothing(app: TestApp) {
    let graphic = concept_of("graphic design");
    let member = create(&app, &member_body("Atelier Plakat", &[WORD], &["game development"])).await;
    let before = offer(&app, member, WORD).await;
    let (mut browser, _) = Console::staff(&app).await;
    browser.get("/console/vocabulary").await;
    let preview =
        |concept: &'static str| [("action", "synonym"), ("label", WORD), ("lang", "lb"), ("concept", concept)];

    // A label no concept has: said so.
    let none = browser.post("/console/vocabulary/preview", &preview("zzqx qqzv")).await;
    assert_eq!(none.status, 422, "{}", none.text());
    assert!(texts(&none.text(), "p.error")[0].contains("No concept of the vocabulary fits “zzqx qqzv”"));

    // A label several could be: the choices, each a labelled radio button; choosing one leads to the preview.
    let several = browser.post("/console/vocabulary/preview", &preview("graphic")).await;
    assert_eq!(several.status, 422, "{}", several.text());
    let html = several.text();
    assert!(texts(&html, "p.error")[0].contains("Several concepts fit “graphic”"));
    let choices = attrs(&html, "input[type=radio][name=concept]", "value");
    assert!(choices.len() > 1 && choices.contains(&graphic), "{choices:?}");
    for id in attrs(&html, "input[type=radio][name=concept]", "id") {
        assert_eq!(texts(&html, &format!("label[for={id}]")).len(), 1);
    }
    assert_eq!(attrs(&html, "input[type=hidden][name=label]", "value"), [WORD]);
    let chosen = browser
        .post(
            "/console/vocabulary/preview",
            &[("action", "synonym"), ("label", WORD), ("lang", "lb"), ("concept", &graphic)],
        )
        .await;
    assert_eq!(chosen.status, 200, "{}", chosen.text());

    // No language, no such change, no term: 400.
    for fields in [
        vec![("action", "synonym"), ("label", WORD), ("lang", "xx"), ("concept", "graphic design")],
        vec![("action", "rename"), ("label", WORD), ("lang", "lb"), ("concept", "graphic design")],
        vec![("action", "synonym"), ("lang", "lb"), ("concept", "graphic design")],
        vec![("action", "merge"), ("from", "graphic design")],
    ] {
        let reply = browser.post("/console/vocabulary/preview", &fields).await;
        assert_eq!(reply.status, 400, "{fields:?}: {}", reply.text());
    }
    // The confirm button takes a concept's id only (chosen on the preview), and a merge of a concept into itself
    // is refused.
    let typed = browser
        .post("/console/vocabulary/synonyms", &[("concept", "graphic design"), ("lang", "lb"), ("label", WORD)])
        .await;
    assert_eq!(typed.status, 400, "{}", typed.text());
    assert!(typed.text().contains("Preview the change first"));
    let itself = browser.post("/console/vocabulary/merges", &[("from", &graphic), ("into", &graphic)]).await;
    assert_eq!(itself.status, 400, "{}", itself.text());
    assert_eq!(browser.post("/console/vocabulary/merges/remove", &[("from", &graphic)]).await.status, 404);
    assert_eq!(browser.get("/console/vocabulary?offset=-3").await.status, 400);

    assert!(synonyms(&app).await.is_empty());
    assert!(app.get("/v1/vocabulary/merges").await.json()["items"].as_array().unwrap().is_empty());
    assert_eq!(offer(&app, member, WORD).await, before);
}
