//! Both backends end their migrations with the same tables and columns, and those are the ones `schema.rs` declares.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::Text;
use matchmaker::db::{self, DbConnection};

use crate::helpers::{Backend, TestDb};

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

fn columns(db: &TestDb) -> BTreeMap<String, Vec<String>> {
    let pool = db::pool(&db.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    db::migrate(&mut conn).unwrap();
    let rows: Vec<Column> = match &mut *conn {
        DbConnection::Pg(pg) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
             ORDER BY table_name, ordinal_position",
        )
        .load(pg)
        .unwrap(),
        DbConnection::Sqlite(sqlite) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
             ORDER BY m.name, p.cid",
        )
        .load(sqlite)
        .unwrap(),
    };
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows {
        out.entry(r.table_name).or_default().push(r.column_name);
    }
    out
}

fn declared() -> BTreeMap<String, Vec<String>> {
    db::schema::TABLES
        .iter()
        .map(|(t, cols)| ((*t).to_owned(), cols.iter().map(|c| (*c).to_owned()).collect()))
        .collect()
}

#[test]
fn sqlite_matches_the_declared_schema() {
    assert_eq!(columns(&TestDb::new(Backend::Sqlite).unwrap()), declared());
}

#[test]
fn postgres_matches_sqlite() {
    let Some(pg) = TestDb::new(Backend::Postgres) else {
        return;
    };
    let sqlite = TestDb::new(Backend::Sqlite).unwrap();
    assert_eq!(columns(&pg), columns(&sqlite));
    assert_eq!(columns(&pg), declared());
}

#[test]
fn migration_folders_mirror_each_other() {
    let names = |backend: &str| -> Vec<String> {
        let dir = format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
    assert!(!names("sqlite").is_empty());
}

#[test]
fn migrations_run_twice_change_nothing() {
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let pool = db::pool(&db.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    assert!(!db::migrate(&mut conn).unwrap().is_empty());
    assert!(db::migrate(&mut conn).unwrap().is_empty());
}
