//! Staff edits: synonyms added and concepts merged, applied to a loaded vocabulary.

use super::{ConceptIdx, Hit, Lang, Vocabulary};
use crate::domain::fold::fold;

impl Vocabulary {
    /// Apply stored staff edits in one go (labels, then merges), reindexing once.
    pub fn apply_edits(&mut self, labels: &[(String, Lang, String)], merges: &[(String, String)]) {
        for (id, lang, text) in labels {
            if let Some(idx) = self.find(id) {
                self.push_label(idx, *lang, text, false, true);
            }
        }
        for (from, into) in merges {
            if let (Some(f), Some(i)) = (self.find(from), self.find(into))
                && f != i
            {
                self.merge_unindexed(f, i);
            }
        }
        self.reindex();
    }

    /// Add a label (staff: "add a synonym"). Returns false if the label already names another concept.
    pub fn add_label(&mut self, concept: ConceptIdx, lang: Lang, text: &str) -> bool {
        let folded = fold(text);
        let concept = self.resolve(concept);
        if let Some(Hit::One(i)) = self.exact.get(&folded)
            && self.resolve(self.labels[*i as usize].concept) != concept
        {
            return false;
        }
        self.push_label(concept, lang, text, false, true);
        self.reindex();
        true
    }

    /// Merge `from` into `into` (staff): `from`'s id stays as an alias, its labels now name `into`.
    pub fn merge(&mut self, from: ConceptIdx, into: ConceptIdx) -> bool {
        let (from, into) = (self.resolve(from), self.resolve(into));
        if from == into {
            return false;
        }
        self.merge_unindexed(from, into);
        self.reindex();
        true
    }

    pub(super) fn merge_unindexed(&mut self, from: ConceptIdx, into: ConceptIdx) {
        self.concepts[from as usize].merged_into = Some(into);
        let narrower = std::mem::take(&mut self.concepts[from as usize].narrower);
        let broader = std::mem::take(&mut self.concepts[from as usize].broader);
        let survivor = &mut self.concepts[into as usize];
        survivor.narrower.extend(narrower.into_iter().filter(|c| *c != into));
        survivor.broader.extend(broader.into_iter().filter(|c| *c != into));
        for i in 0..4 {
            if self.concepts[into as usize].preferred[i].is_none() {
                self.concepts[into as usize].preferred[i] = self.concepts[from as usize].preferred[i].clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::vocabulary::tests::vocab;

    #[test]
    fn synonyms_and_merges() {
        let mut v = vocab();
        let gd = v.find("esco:gd").unwrap();
        assert_eq!(v.normalise("infographie").concept, None);
        assert!(v.add_label(gd, Lang::Fr, "infographie"));
        assert_eq!(v.normalise("infographie").concept, Some(gd));
        assert!(!v.add_label(gd, Lang::En, "3D modeling"), "a label names one concept");
        let design = v.find("esco:design").unwrap();
        assert!(v.merge(gd, design));
        assert_eq!(v.find("esco:gd"), Some(design), "the old id stays as an alias");
        assert_eq!(v.normalise("conception graphique").concept, Some(design));
        assert!(v.neighbours(design).all(|n| n != design));
    }
}
