//! Matching: vocabulary and normalisation, the index, scores with explanations, consortia. No I/O: profiles and
//! projects come in as values, scored and explained results go out.

pub mod consortium;
#[cfg(test)]
mod fixtures;
pub mod index;
pub mod model;
pub mod resolve;
pub mod vocabulary;

use std::sync::{Arc, RwLock};

pub use index::MatchIndex;
pub use vocabulary::Vocabulary;

/// The live vocabulary and index an instance matches with. Readers take a snapshot of the vocabulary (an `Arc`), so a
/// staff edit swaps it without blocking queries.
#[derive(Debug)]
pub struct Matcher {
    vocabulary: RwLock<Arc<Vocabulary>>,
    pub index: RwLock<MatchIndex>,
}

impl Matcher {
    pub fn new(vocabulary: Arc<Vocabulary>, index: MatchIndex) -> Self {
        Self { vocabulary: RwLock::new(vocabulary), index: RwLock::new(index) }
    }

    pub fn vocabulary(&self) -> Arc<Vocabulary> {
        self.vocabulary.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub fn set_vocabulary(&self, v: Arc<Vocabulary>) {
        *self.vocabulary.write().unwrap_or_else(std::sync::PoisonError::into_inner) = v;
    }

    pub fn read_index(&self) -> std::sync::RwLockReadGuard<'_, MatchIndex> {
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, MatchIndex> {
        self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
