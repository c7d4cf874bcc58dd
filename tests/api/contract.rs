//! The published contract (`api-spec/openapi.yaml`) and the code must agree: the same routes, and every response
//! body valid against the schema the spec gives for its path, method, status and content type.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use matchmaker::http::ROUTES;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::Reply;

pub static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/openapi.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).expect("openapi.yaml is valid YAML")
});

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn spec_operations() -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in SPEC["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                let id = op["operationId"].as_str().unwrap_or_default().to_owned();
                out.insert((method.to_uppercase(), path.clone(), id));
            }
        }
    }
    out
}

#[test]
fn route_table_and_spec_list_the_same_operations() {
    let code: BTreeSet<_> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned(), r.operation.to_owned())).collect();
    let spec = spec_operations();
    let only_code: Vec<_> = code.difference(&spec).collect();
    let only_spec: Vec<_> = spec.difference(&code).collect();
    assert!(only_code.is_empty(), "routes served but not in api-spec/openapi.yaml: {only_code:?}");
    assert!(only_spec.is_empty(), "operations in api-spec/openapi.yaml that no route serves: {only_spec:?}");
}

#[test]
fn spec_is_openapi_3_1_and_every_schema_compiles() {
    assert_eq!(SPEC["openapi"].as_str().unwrap().get(..3), Some("3.1"));
    for name in SPEC["components"]["schemas"].as_object().unwrap().keys() {
        validator_for(&json!({"$ref": format!("#/components/schemas/{name}")}));
    }
}

/// Follow a local `$ref` (`#/a/b`) in the spec.
fn resolve(value: &Value) -> &Value {
    let mut current = value;
    while let Some(r) = current.get("$ref").and_then(Value::as_str) {
        current = SPEC.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    current
}

fn validator_for(schema: &Value) -> jsonschema::Validator {
    // The whole document is the root, so `#/components/...` references resolve; its other keys are ignored.
    let mut root = SPEC.clone();
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    root["allOf"] = json!([schema]);
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

/// The spec path template matching a concrete path, if any.
fn template_for(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    SPEC["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|template| {
            let t: Vec<&str> = template.split('/').collect();
            t.len() == segments.len()
                && t.iter()
                    .zip(&segments)
                    .all(|(a, b)| (a.starts_with('{') && a.ends_with('}') && !b.is_empty()) || a == b)
        })
        .cloned()
}

fn validate(schema: &Value, body: &Value, what: &str) {
    let validator = validator_for(schema);
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{what}: body does not match the spec:\n{}\nbody: {body:#}", errors.join("\n"));
}

/// Check one response against the contract. Called for every request the tests make.
pub fn check_response(method: &Method, path: &str, reply: &Reply) {
    let content_type = reply.header("content-type").unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim().to_owned();
    let what = format!("{method} {path} → {}", reply.status);
    let problem = json!({"$ref": "#/components/schemas/Problem"});

    let Some(template) = template_for(path) else {
        assert_eq!(reply.status, 404, "{what}: unknown paths answer 404");
        assert_eq!(media, "application/problem+json", "{what}");
        validate(&problem, &reply_json(reply, &what), &what);
        return;
    };
    let item = &SPEC["paths"][&template];
    let Some(operation) = item.get(method.as_str().to_lowercase()) else {
        if *method == Method::HEAD {
            return;
        }
        assert_eq!(reply.status, 405, "{what}: methods not in the spec answer 405");
        assert!(reply.header("allow").is_some(), "{what}: 405 without Allow");
        validate(&problem, &reply_json(reply, &what), &what);
        return;
    };
    let status = reply.status.to_string();
    let Some(response) = operation["responses"].get(&status) else {
        panic!("{what}: status {status} is not documented for {method} {template}; body: {}", reply.text());
    };
    let response = resolve(response);
    for (name, header) in response.get("headers").and_then(Value::as_object).into_iter().flatten() {
        let header = resolve(header);
        if header.get("required").and_then(Value::as_bool) == Some(true) {
            assert!(reply.header(name).is_some(), "{what}: required header {name} is missing");
        }
    }
    match response.get("content").and_then(Value::as_object) {
        None => assert!(reply.body.is_empty(), "{what}: the spec documents no body, got {}", reply.text()),
        Some(content) => {
            let Some(media_entry) = content.get(&media) else {
                panic!("{what}: content type `{media}` is not documented (documented: {:?})", content.keys());
            };
            // HTML pages are checked as strings; everything else must be the JSON its schema describes.
            let body = if media.starts_with("text/") { Value::String(reply.text()) } else { reply_json(reply, &what) };
            validate(&media_entry["schema"], &body, &what);
        }
    }
}

fn reply_json(reply: &Reply, what: &str) -> Value {
    serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {}", reply.text()))
}
