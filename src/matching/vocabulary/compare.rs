//! The string similarity of the fuzzy lookup without allocating: strsim's algorithms, step for step, over reused
//! buffers.

/// A character of a compared string: bytes when both strings are ASCII (most folded labels are), else `char`s.
trait Sym: Copy + Eq {
    fn code(self) -> u32;
    /// The character as a byte, if it is one (always, for bytes).
    fn small(self) -> Option<u8>;
}

impl Sym for u8 {
    fn code(self) -> u32 {
        u32::from(self)
    }

    fn small(self) -> Option<u8> {
        Some(self)
    }
}

impl Sym for char {
    fn code(self) -> u32 {
        self as u32
    }

    fn small(self) -> Option<u8> {
        u8::try_from(self as u32).ok()
    }
}

/// [`similarity`] without allocating: strsim's Jaro-Winkler and Damerau-Levenshtein (the same algorithms, step for
/// step, so the same figures) over reused buffers.
#[derive(Debug)]
pub(super) struct Compare {
    a: Vec<char>,
    b: Vec<char>,
    flags: Vec<bool>,
    fr: Vec<isize>,
    r1: Vec<isize>,
    r: Vec<isize>,
    /// Last row in which each character (below 256) was seen; -1 for none.
    last_row: Box<[isize; 256]>,
    /// The same for the other characters.
    last_row_wide: Vec<(u32, isize)>,
    /// Jaro on strings of at most 64 characters: the positions of each character (below 256) in the second string,
    /// as bits (zero between comparisons).
    positions: Box<[u64; 256]>,
    /// Character counts of one string less the other's, by character below 256 (zero between comparisons).
    bag: Vec<isize>,
}

impl Default for Compare {
    fn default() -> Self {
        Self {
            a: Vec::new(),
            b: Vec::new(),
            flags: Vec::new(),
            fr: Vec::new(),
            r1: Vec::new(),
            r: Vec::new(),
            last_row: Box::new([-1; 256]),
            positions: Box::new([0; 256]),
            last_row_wide: Vec::new(),
            bag: vec![0; 256],
        }
    }
}

impl Compare {
    /// `similarity(a, b)`, or `None` when it is certainly below `cut` (the edit distance is then not computed).
    pub(super) fn similarity_above(&mut self, a: &str, b: &str, cut: f64) -> Option<f64> {
        if a.is_ascii() && b.is_ascii() {
            return self.similarity_of(a.as_bytes(), b.as_bytes(), cut);
        }
        let (mut ca, mut cb) = (std::mem::take(&mut self.a), std::mem::take(&mut self.b));
        ca.clear();
        ca.extend(a.chars());
        cb.clear();
        cb.extend(b.chars());
        let sim = self.similarity_of(&ca, &cb, cut);
        (self.a, self.b) = (ca, cb);
        sim
    }

    fn similarity_of<T: Sym>(&mut self, a: &[T], b: &[T], cut: f64) -> Option<f64> {
        if a.is_empty() && b.is_empty() {
            return Some(1.0);
        }
        let long = a.len().max(b.len());
        let (common, surplus) = self.bags(a, b).unwrap_or((a.len().min(b.len()), long - a.len().min(b.len())));
        // An edit changes at most one character's surplus on either side: the distance is at least the larger surplus.
        let levenshtein_bound = 1.0 - surplus as f64 / long as f64;
        // Jaro matches pairs of equal characters: at best all the common ones, in order. Winkler adds at most 0.4 of
        // the rest.
        let common = common as f64;
        let jaro_bound = (common / a.len() as f64 + common / b.len() as f64 + 1.0) / 3.0;
        if (jaro_bound + 0.4 * (1.0 - jaro_bound) + levenshtein_bound) / 2.0 < cut {
            return None;
        }
        let jw = self.jaro_winkler(a, b);
        if (jw + levenshtein_bound) / 2.0 < cut {
            return None;
        }
        let distance = self.damerau_levenshtein(a, b);
        let ndl = 1.0 - (distance as f64) / (a.len().max(b.len()) as f64);
        Some((jw + ndl) / 2.0)
    }

    /// The characters `a` and `b` have in common (as multisets), and the larger of what either has over the other;
    /// `None` if a character is beyond the table.
    fn bags<T: Sym>(&mut self, a: &[T], b: &[T]) -> Option<(usize, usize)> {
        if !a.iter().chain(b).all(|x| (x.code() as usize) < self.bag.len()) {
            return None;
        }
        for x in a {
            self.bag[x.code() as usize] += 1;
        }
        for x in b {
            self.bag[x.code() as usize] -= 1;
        }
        let (mut over_a, mut over_b) = (0_usize, 0_usize);
        for x in a.iter().chain(b) {
            let d = std::mem::take(&mut self.bag[x.code() as usize]);
            over_a += usize::try_from(d).unwrap_or(0);
            over_b += usize::try_from(-d).unwrap_or(0);
        }
        Some((a.len() - over_a, over_a.max(over_b)))
    }

    /// strsim's `generic_jaro`.
    fn jaro<T: Sym>(&mut self, a: &[T], b: &[T]) -> f64 {
        let (a_len, b_len) = (a.len(), b.len());
        if a_len == 0 && b_len == 0 {
            return 1.0;
        } else if a_len == 0 || b_len == 0 {
            return 0.0;
        }
        let search_range = (a_len.max(b_len) / 2).saturating_sub(1);
        if a_len <= 64 && b_len <= 64 && a.iter().chain(b).all(|x| x.small().is_some()) {
            return self.jaro_bits(a, b, search_range);
        }
        let mut flags = std::mem::take(&mut self.flags);
        flags.clear();
        flags.resize(a_len + b_len, false);
        let (a_flags, b_flags) = flags.split_at_mut(a_len);
        let mut matches = 0_usize;
        for (i, x) in a.iter().enumerate() {
            let lo = i.saturating_sub(search_range);
            let hi = b_len.min(i + search_range + 1);
            for j in lo..hi {
                if *x == b[j] && !b_flags[j] {
                    a_flags[i] = true;
                    b_flags[j] = true;
                    matches += 1;
                    break;
                }
            }
        }
        if matches == 0 {
            self.flags = flags;
            return 0.0;
        }
        let mut transpositions = 0_usize;
        let mut k = 0;
        for (i, x) in a.iter().enumerate() {
            if a_flags[i] {
                while !b_flags[k] {
                    k += 1;
                }
                if *x != b[k] {
                    transpositions += 1;
                }
                k += 1;
            }
        }
        transpositions /= 2;
        self.flags = flags;
        ((matches as f64 / a_len as f64)
            + (matches as f64 / b_len as f64)
            + ((matches - transpositions) as f64 / matches as f64))
            / 3.0
    }

    /// [`Self::jaro`] on short strings of bytes, with the same matches: each character of `a` in turn takes the
    /// first unmatched equal character of `b` within the window (the lowest set bit of a mask, not a scan).
    fn jaro_bits<T: Sym>(&mut self, a: &[T], b: &[T], search_range: usize) -> f64 {
        let (a_len, b_len) = (a.len(), b.len());
        let byte = |x: &T| usize::from(x.small().unwrap_or(0));
        for (j, y) in b.iter().enumerate() {
            self.positions[byte(y)] |= 1 << j;
        }
        let below = |n: usize| if n >= 64 { u64::MAX } else { (1_u64 << n) - 1 };
        let (mut a_matched, mut b_matched, mut matches) = (0_u64, 0_u64, 0_usize);
        for (i, x) in a.iter().enumerate() {
            let lo = i.saturating_sub(search_range);
            let hi = b_len.min(i + search_range + 1);
            if lo >= hi {
                continue;
            }
            let free = self.positions[byte(x)] & below(hi) & !below(lo) & !b_matched;
            if free != 0 {
                b_matched |= free & free.wrapping_neg();
                a_matched |= 1 << i;
                matches += 1;
            }
        }
        for y in b {
            self.positions[byte(y)] = 0;
        }
        if matches == 0 {
            return 0.0;
        }
        let mut transpositions = 0_usize;
        let (mut am, mut bm) = (a_matched, b_matched);
        while am != 0 {
            let (i, j) = (am.trailing_zeros() as usize, bm.trailing_zeros() as usize);
            if a[i] != b[j] {
                transpositions += 1;
            }
            am &= am - 1;
            bm &= bm - 1;
        }
        transpositions /= 2;
        ((matches as f64 / a_len as f64)
            + (matches as f64 / b_len as f64)
            + ((matches - transpositions) as f64 / matches as f64))
            / 3.0
    }

    /// strsim's `generic_jaro_winkler`.
    fn jaro_winkler<T: Sym>(&mut self, a: &[T], b: &[T]) -> f64 {
        let sim = self.jaro(a, b);
        if sim > 0.7 {
            let prefix_length = a.iter().take(4).zip(b).take_while(|(x, y)| x == y).count();
            sim + 0.1 * prefix_length as f64 * (1.0 - sim)
        } else {
            sim
        }
    }

    fn last_row<T: Sym>(&self, c: T) -> isize {
        match c.small() {
            Some(b) => self.last_row[usize::from(b)],
            None => self.last_row_wide.iter().find(|(x, _)| *x == c.code()).map_or(-1, |(_, row)| *row),
        }
    }

    fn set_last_row<T: Sym>(&mut self, c: T, row: isize) {
        match c.small() {
            Some(b) => self.last_row[usize::from(b)] = row,
            None => match self.last_row_wide.iter_mut().find(|(x, _)| *x == c.code()) {
                Some(entry) => entry.1 = row,
                None => self.last_row_wide.push((c.code(), row)),
            },
        }
    }

    /// strsim's `damerau_levenshtein` (Zhao and Sahni's linear-space algorithm), step for step.
    fn damerau_levenshtein<T: Sym>(&mut self, s1: &[T], s2: &[T]) -> usize {
        let (len1, len2) = (s1.len(), s2.len());
        let max_val = len1.max(len2) as isize + 1;
        let size = len2 + 2;
        // Out of `self` while in use: the loop then keeps its pointers in registers.
        let (mut fr, mut r1, mut r) =
            (std::mem::take(&mut self.fr), std::mem::take(&mut self.r1), std::mem::take(&mut self.r));
        fr.clear();
        fr.resize(size, max_val);
        r1.clear();
        r1.resize(size, max_val);
        r.clear();
        r.push(max_val);
        r.extend(0..(size - 1) as isize);
        for (i, &ch1) in s1.iter().enumerate() {
            let i = i as isize + 1;
            std::mem::swap(&mut r, &mut r1);
            let (r, r1, fr) = (&mut r[..size], &r1[..size], &mut fr[..size]);
            let mut last_col_id: isize = -1;
            let mut last_i2l1 = r[1];
            r[1] = i;
            let mut t = max_val;
            for (j, &ch2) in s2.iter().enumerate() {
                let j = j + 1;
                let diag = r1[j] + isize::from(ch1 != ch2);
                let left = r[j] + 1;
                let up = r1[j + 1] + 1;
                let mut temp = diag.min(left.min(up));
                if ch1 == ch2 {
                    last_col_id = j as isize;
                    fr[j + 1] = r1[j - 1];
                    t = last_i2l1;
                } else {
                    let k = self.last_row(ch2);
                    let l = last_col_id;
                    if j as isize - l == 1 {
                        temp = temp.min(fr[j + 1] + (i - k));
                    } else if i - k == 1 {
                        temp = temp.min(t + (j as isize - l));
                    }
                }
                last_i2l1 = r[j + 1];
                r[j + 1] = temp;
            }
            self.set_last_row(ch1, i);
        }
        for &ch in s1 {
            self.set_last_row(ch, -1);
        }
        self.last_row_wide.clear();
        let distance = r[len2 + 1] as usize;
        (self.fr, self.r1, self.r) = (fr, r1, r);
        distance
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::vocabulary::fuzzy::{chars_u16, length_reach};
    use crate::matching::vocabulary::tests::slips;
    use crate::matching::vocabulary::{Vocabulary, similarity};

    #[test]
    fn fast_similarity_is_strsims() {
        let v = Vocabulary::shipped().unwrap();
        let mut compare = Compare::default();
        let terms = slips(&v, 97);
        let labels: Vec<&str> = v.labels.iter().step_by(13).map(|l| l.folded.as_str()).collect();
        let (mut pairs, mut reached) = (0, 0);
        for (i, t) in terms.iter().enumerate() {
            for label in labels.iter().skip(i % 7).step_by(40) {
                let exact = similarity(t, label);
                assert_eq!(compare.similarity_above(t, label, f64::NEG_INFINITY), Some(exact), "{t} / {label}");
                // A pair turned down for a cut is below it.
                if compare.similarity_above(t, label, 0.8).is_none() {
                    assert!(exact < 0.8, "{t} / {label}: {exact}");
                }
                // Nor can a label whose length is out of reach.
                let (lo, hi) = length_reach(t.chars().count(), 0.8);
                if !(lo..=hi).contains(&chars_u16(label)) {
                    assert!(exact < 0.8, "{t} / {label}: {exact} out of reach");
                    reached += 1;
                }
                pairs += 1;
            }
        }
        for (a, b) in [("évènement", "evenement"), ("straße", "strasse"), ("ab", "bca"), ("", "x"), ("été", "ete")]
        {
            assert_eq!(compare.similarity_above(a, b, f64::NEG_INFINITY), Some(similarity(a, b)), "{a} / {b}");
        }
        assert!(pairs > 10_000, "{pairs}");
        assert!(reached > 1_000, "{reached} pairs out of reach by length");
    }
}
