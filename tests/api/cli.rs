//! The `matchmaker` command itself.

use std::process::Command;

fn matchmaker() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_matchmaker"));
    cmd.env_remove("DATABASE_URL").env_remove("RUST_LOG");
    cmd
}

#[test]
fn unknown_database_scheme_is_refused_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        matchmaker().current_dir(dir.path()).arg("migrate").env("DATABASE_URL", "postgress://db/x").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("postgress://") && stderr.contains("not supported"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file was created");
}

#[test]
fn migrate_defaults_to_a_sqlite_file_under_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = matchmaker().current_dir(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("data/matchmaker.db").is_file());
}

#[test]
fn unreachable_postgres_fails_with_its_own_message() {
    let out = matchmaker()
        .arg("migrate")
        .env("DATABASE_URL", "postgres://nobody:secret-pw@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1") || stderr.to_lowercase().contains("connect"), "{stderr}");
    assert!(!stderr.contains("secret-pw"), "the password is not logged: {stderr}");
}
