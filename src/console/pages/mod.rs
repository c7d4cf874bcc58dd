//! The console's pages, by area; each area's `PAGES` joins the table in `console::PAGES`.

pub mod admin;
pub mod cluster;
pub mod members;
pub mod projects;
pub mod queue;
pub mod signin;
pub mod vocabulary;
