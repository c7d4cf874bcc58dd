//! docker-compose.yml is for people who deploy; no Docker engine runs here, so it is checked by reading it.

use serde_json::Value;

fn compose() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn env_var(service: &Value, name: &str) -> Option<String> {
    match &service["environment"] {
        Value::Object(map) => map.get(name).and_then(Value::as_str).map(str::to_owned),
        Value::Array(list) => {
            list.iter().filter_map(Value::as_str).find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_owned))
        }
        _ => None,
    }
}

#[test]
fn compose_runs_the_service_against_postgres() {
    let doc = compose();
    let services = doc["services"].as_object().expect("services");
    let db = &services["db"];
    assert!(db["image"].as_str().unwrap().starts_with("postgres:"), "db runs PostgreSQL");
    assert!(db["healthcheck"]["test"].to_string().contains("pg_isready"), "db has a health check");

    let volumes = doc["volumes"].as_object().expect("top-level volumes");
    let mounts = db["volumes"].as_array().expect("db mounts a volume");
    let data_mount =
        mounts.iter().filter_map(Value::as_str).find(|m| m.ends_with(":/var/lib/postgresql/data")).unwrap();
    let volume = data_mount.split(':').next().unwrap();
    assert!(volumes.contains_key(volume), "{volume} is a named volume");

    let app = &services["app"];
    assert!(app.get("build").is_some(), "the app is built from the repository's Dockerfile");
    let url = env_var(app, "DATABASE_URL").expect("the app gets DATABASE_URL");
    assert!(url.starts_with("postgres://") && url.contains("@db:5432/"), "{url}");
    let user = env_var(db, "POSTGRES_USER").unwrap();
    let password = env_var(db, "POSTGRES_PASSWORD").unwrap();
    let database = env_var(db, "POSTGRES_DB").unwrap();
    assert_eq!(url, format!("postgres://{user}:{password}@db:5432/{database}"));
    assert_eq!(app["depends_on"]["db"]["condition"], "service_healthy");
    assert!(app["healthcheck"]["test"].to_string().contains("healthcheck"), "the app has a health check");
    assert_eq!(env_var(app, "MATCHMAKER_ADDR").as_deref(), Some("0.0.0.0:8080"));

    // Instances sharing the database share a signing key, given as a secret file.
    let key_file = env_var(app, "MATCHMAKER_JWT_KEY_FILE").expect("the app gets its signing key");
    let secret = key_file.strip_prefix("/run/secrets/").expect("a compose secret");
    assert!(app["secrets"].as_array().unwrap().iter().any(|s| s == secret));
    assert!(doc["secrets"][secret]["file"].as_str().is_some());

    // Unsubscribe links are made with one key too, and digests go to a local mail catcher.
    let key_file = env_var(app, "MATCHMAKER_UNSUBSCRIBE_KEY_FILE").expect("the app gets its unsubscribe key");
    let secret = key_file.strip_prefix("/run/secrets/").expect("a compose secret");
    assert!(app["secrets"].as_array().unwrap().iter().any(|s| s == secret));
    assert!(doc["secrets"][secret]["file"].as_str().is_some());
    let smtp = env_var(app, "MATCHMAKER_SMTP_URL").expect("the app gets an SMTP server");
    let host = smtp.strip_prefix("smtp://").and_then(|h| h.split(':').next()).unwrap();
    let catcher = &services[host];
    assert!(catcher["image"].as_str().unwrap().contains("mailpit"), "{host} is a mail catcher");
    assert!(app["depends_on"].get(host).is_some());
    assert!(env_var(app, "MATCHMAKER_PUBLIC_URL").unwrap().starts_with("http"));
    // Every other setting parses (the secret files exist only inside the container).
    let settings = matchmaker::config::Settings::from_lookup(|k| match k {
        "DATABASE_URL" => Some("sqlite://x.db".to_owned()),
        k if k.ends_with("_FILE") => None,
        k => env_var(app, k),
    });
    assert!(settings.is_ok(), "the compose environment is valid configuration: {settings:?}");
}

#[test]
fn dockerfile_builds_with_make_and_perl() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    assert!(text.matches("FROM ").count() >= 2, "multi-stage");
    assert!(text.contains("make") && text.contains("perl"), "the build stage installs make and perl");
    assert!(text.contains("cargo build --release"));
}
