//! Cluster Matchmaker: member profiles, explained matches, staff review and weekly digests for a creative-industries
//! cluster.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod db;
pub mod digest;
pub mod domain;
pub mod fsutil;
pub mod http;
pub mod import;
pub mod indexer;
pub mod matching;
pub mod metrics;
pub mod outbound;
pub mod portal;
pub mod review;
pub mod scheduler;
pub mod startup;
pub mod telemetry;
pub mod webhook;
