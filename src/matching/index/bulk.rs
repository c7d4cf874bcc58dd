//! Bulk recomputes: every member's (or some members') best projects and best partners at once, on several threads.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rank::{Derived, Scratch};
use super::{MatchIndex, MemberTops, Ranked, Slot};
use crate::matching::model::MemberProfile;
use crate::matching::vocabulary::Vocabulary;

/// Each member's best `k` partners so far in a bulk recompute, as keys (score in tenths above, the inverted id rank
/// below: a larger key is better, and no two are equal), with the key a newcomer must beat: most offers are turned
/// down by one look at it.
#[derive(Debug)]
struct Tops {
    k: usize,
    keys: Vec<u64>,
    len: Vec<u8>,
    floor: Vec<u64>,
}

impl Tops {
    fn new(members: usize, k: usize) -> Self {
        let k = k.min(255);
        Self { k, keys: vec![0; members * k], len: vec![0; members], floor: vec![0; members] }
    }

    fn key(t: u32, rank: u32) -> u64 {
        (u64::from(t) << 32) | u64::from(u32::MAX - rank)
    }

    fn split(key: u64) -> (u32, u32) {
        let low = u32::try_from(key & 0xFFFF_FFFF).unwrap_or(0);
        (u32::try_from(key >> 32).unwrap_or(0), u32::MAX - low)
    }

    fn offer(&mut self, slot: Slot, t: u32, rank: u32) {
        let key = Self::key(t, rank);
        let i = slot as usize;
        if self.k == 0 || key <= self.floor[i] {
            return;
        }
        let keys = &mut self.keys[i * self.k..(i + 1) * self.k];
        let len = usize::from(self.len[i]);
        if len < self.k {
            keys[len] = key;
            self.len[i] += 1;
            if len + 1 == self.k {
                self.floor[i] = keys.iter().copied().min().unwrap_or(0);
            }
        } else {
            if let Some(worst) = keys.iter_mut().min() {
                *worst = key;
            }
            self.floor[i] = keys.iter().copied().min().unwrap_or(0);
        }
    }

    fn of(&self, slot: Slot) -> &[u64] {
        let i = slot as usize;
        &self.keys[i * self.k..i * self.k + usize::from(self.len[i])]
    }
}

impl MatchIndex {
    /// Every member's best `k` open projects and best `k` partners (ids and scores, as the top of
    /// [`Self::projects_for_member`] and [`Self::partners_for_member`]), in member slot order, on `threads` threads
    /// (0: one per available CPU).
    pub fn recompute_all(&self, vocab: &Vocabulary, now: DateTime<Utc>, k: usize, threads: usize) -> Vec<MemberTops> {
        let slots: Vec<Slot> = (0..self.members.len())
            .filter(|&s| self.members[s].is_some())
            .filter_map(|s| Slot::try_from(s).ok())
            .collect();
        self.recompute_slots(vocab, now, k, threads, &slots)
    }

    /// The same for some members (say, those whose profiles or candidates changed), in the order given; unknown ids
    /// are skipped.
    pub fn recompute(
        &self,
        vocab: &Vocabulary,
        now: DateTime<Utc>,
        members: &[Uuid],
        k: usize,
        threads: usize,
    ) -> Vec<MemberTops> {
        let mut seen = HashSet::new();
        let slots: Vec<Slot> =
            members.iter().filter_map(|id| self.member_slots.get(id).copied()).filter(|s| seen.insert(*s)).collect();
        self.recompute_slots(vocab, now, k, threads, &slots)
    }

    /// Projects a member at a time. Partners a pair at a time when every member is recomputed: a partner score is the
    /// same both ways round, so each pair is scored once, by the member at the lower slot, which walks only postings
    /// of later slots and offers the score to both members' tops (a thread's own, merged at the end).
    fn recompute_slots(
        &self,
        vocab: &Vocabulary,
        now: DateTime<Utc>,
        k: usize,
        threads: usize,
        slots: &[Slot],
    ) -> Vec<MemberTops> {
        /// Members a thread takes at a time.
        const CHUNK: usize = 16;
        let d = self.derived();
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
        .clamp(1, slots.len().div_ceil(CHUNK).max(1));
        // Ranks of member ids: ties at equal scores go to the smaller id.
        let mut by_id: Vec<Slot> = (0..self.members.len())
            .filter(|&s| self.members[s].is_some())
            .filter_map(|s| Slot::try_from(s).ok())
            .collect();
        by_id.sort_unstable_by_key(|&s| self.member_ids[s as usize]);
        let mut rank = vec![u32::MAX; self.members.len()];
        for (r, &s) in by_id.iter().enumerate() {
            rank[s as usize] = u32::try_from(r).unwrap_or(u32::MAX);
        }
        // Every member: each pair once, by its lower slot. Some: each wanted member scores all its pairs.
        let every = slots.len() == self.member_count;
        let next = AtomicUsize::new(0);
        type Part = (Vec<(usize, Vec<Ranked>)>, Tops);
        let parts: Vec<Part> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut sc = Scratch::default();
                        let mut tops = Tops::new(self.members.len(), k);
                        let mut projects = Vec::new();
                        loop {
                            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                            if start >= slots.len() {
                                break;
                            }
                            for (i, &slot) in slots.iter().enumerate().skip(start).take(CHUNK) {
                                let Some(m) = self.members[slot as usize].as_ref() else { continue };
                                self.rank_projects(vocab, slot, m, now, &|_| true, 0.0, &mut sc);
                                let best = sc
                                    .best(k, |s| self.project_id(s))
                                    .into_iter()
                                    .map(|(t, s)| Ranked { id: self.project_id(s), score: f64::from(t) / 10.0 })
                                    .collect();
                                projects.push((i, best));
                                let after = every.then_some(slot);
                                self.pair_partners(d, vocab, slot, m, after, &rank, &mut tops, &mut sc);
                            }
                        }
                        (projects, tops)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        });
        let mut all: Vec<(usize, Vec<Ranked>)> = Vec::with_capacity(slots.len());
        for (projects, _) in &parts {
            all.extend(projects.iter().cloned());
        }
        all.sort_unstable_by_key(|(i, _)| *i);
        let mut merged: Vec<u64> = Vec::new();
        all.into_iter()
            .map(|(i, projects)| {
                let slot = slots[i];
                merged.clear();
                for (_, t) in &parts {
                    merged.extend_from_slice(t.of(slot));
                }
                merged.sort_unstable_by(|a, b| b.cmp(a));
                let partners = merged
                    .iter()
                    .take(k)
                    .map(|&key| {
                        let (t, r) = Tops::split(key);
                        Ranked { id: self.member_id(by_id[r as usize]), score: f64::from(t) / 10.0 }
                    })
                    .collect();
                MemberTops { member: self.member_id(slot), projects, partners }
            })
            .collect()
    }

    /// Score member `a` (at `a_slot`) against every possible partner (with `after`: at later slots only, offering
    /// each score back to that member's tops too, if `a` may be proposed).
    #[expect(clippy::too_many_arguments, reason = "the querying side, the bulk tables, and the scratch")]
    fn pair_partners(
        &self,
        d: &Derived,
        vocab: &Vocabulary,
        a_slot: Slot,
        a: &MemberProfile,
        after: Option<Slot>,
        rank: &[u32],
        tops: &mut Tops,
        sc: &mut Scratch,
    ) {
        let side = self.accumulate_partners(d, vocab, a, after, sc);
        let back_to = after.is_some() && self.member_rows[a_slot as usize].visible;
        let a_rank = rank[a_slot as usize];
        sc.drain(|slot, acc| {
            let b_visible = self.member_rows[slot as usize].visible;
            if slot == a_slot || !(b_visible || back_to) {
                return None;
            }
            let t = self.partner_tenths(vocab, d, a, &side, slot, acc);
            if t > 0 {
                if b_visible {
                    tops.offer(a_slot, t, rank[slot as usize]);
                }
                if back_to {
                    tops.offer(slot, t, a_rank);
                }
            }
            None
        });
    }
}
