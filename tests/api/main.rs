//! One integration binary: the real application on port 0, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly by design")]

mod architecture;
mod auth;
mod calls;
mod cli;
mod compose;
mod concurrency;
mod console;
mod console_admin;
mod console_cluster;
mod console_members;
mod console_projects;
mod console_vocabulary;
mod contract;
mod errors;
mod fake_portal;
mod hardening;
mod health;
mod helpers;
mod matching;
mod matrix;
mod members;
mod portal_sync;
mod quality;
mod realistic;
mod review;
mod scheduler;
mod schema;
mod smtp_sink;
mod token_attacks;
mod vocabulary;
mod webhooks;
