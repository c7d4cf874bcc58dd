//! Domain types: parsed, valid values and the entities made of them. No I/O.

pub mod account;
pub mod codes;
pub mod digest;
pub mod email;
pub mod fold;
pub mod introduction;
pub mod member;
pub mod parse;
pub mod project;
pub mod suggestion;
pub mod term;
pub mod version;
pub mod webhook;

pub use parse::FieldError;
