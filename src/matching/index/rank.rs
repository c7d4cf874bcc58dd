//! Rankings run term at a time: the querying side's concepts are walked once, and each posting adds its share of a
//! score component into a per-candidate accumulator (dense by slot, reused across queries). Only the page asked for
//! is explained, with the same `score_*` functions that score a single pair, so a ranking and an explanation never
//! disagree. Accumulators add the same terms as the single-pair scoring, in another order; a score whose rounding
//! that could change (one within a hair of a rounding boundary) is recomputed exactly, so rankings return exactly
//! what scoring each candidate would.

use std::cell::RefCell;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::postings::{concepts, topics_of};
use super::score::{Part, combine, level_factor, met, met_inv, raw_score, reciprocal};
use super::{Component, Explanation, MatchIndex, MemberRow, Page, Scored, Slot, Window};
use crate::matching::model::{MemberProfile, ProjectProfile, Term, Weights};
use crate::matching::vocabulary::{ConceptIdx, Lang, Vocabulary};

/// What depends on every member at once (the inverse frequencies, and the weights built from them): computed on the
/// first ranking after a change, then shared by every ranking until the next change.
#[derive(Debug, Clone, Default)]
pub(super) struct Derived {
    /// By concept.
    idf: Vec<f64>,
    /// For a concept no member offers, or no concept.
    idf_none: f64,
    /// By member slot: the summed weight of its needs, and the heaviest.
    need_want: Vec<f64>,
    need_max: Vec<f64>,
    /// Their reciprocals (0 for none): a ranking scores tens of thousands of candidates, and multiplies.
    need_inv_want: Vec<f64>,
    need_inv_max: Vec<f64>,
    /// By project slot: the summed weight of its required skills, and the heaviest.
    required_want: Vec<f64>,
    required_max: Vec<f64>,
    /// `1 / n` for the first [`RECIPROCALS`] counts (`[0]` unused): the shared-interest share of a partner score
    /// divides by the size of a union of interests, which is small.
    inv_count: Vec<f64>,
    /// `100 / (sum of the weights)` of a partner score, without and with its shared-interest part.
    partner_scale: [f64; 2],
}

/// How many small counts [`Derived::inv_count`] holds reciprocals for.
const RECIPROCALS: usize = 256;

/// What a ranking needs of the querying member's own side of a partner score.
#[derive(Debug, Clone, Copy)]
pub(super) struct Side {
    /// The summed weight of its needs, and the heaviest.
    want: f64,
    heaviest: f64,
    /// Their reciprocals (0 for none).
    inv_want: f64,
    inv_heaviest: f64,
    /// Its distinct interests.
    interests: u16,
}

impl Derived {
    fn idf(&self, c: Option<ConceptIdx>) -> f64 {
        c.and_then(|c| self.idf.get(c as usize)).copied().unwrap_or(self.idf_none)
    }
}

/// One candidate's sums, as a ranking's last pass reads them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Acc {
    /// Member → project: skills; project → member: skills; partners: their offers for the querying member's needs.
    x: f64,
    /// Partners: the querying member's offers for their needs; member ↔ project: the project's themes shared, each
    /// at its credit (a theme's concept 1, the same free words less).
    y: f64,
    /// Partners: shared interests.
    z: u16,
}

/// Working memory of a ranking, reused across rankings (one per thread): no ranking allocates anything the size of
/// the index, nor clears more than it touched. The sums are kept a table each (not a struct a candidate), so that
/// each stage of a ranking sweeps only the table it adds to; all are zero between rankings.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<u16>,
    /// The want (need or required skill) a candidate was last credited for (from 1, shifted 8 bits up) and the
    /// credit (the low 8 bits: an index into the ranking's credit table).
    mark: Vec<u32>,
    /// A bit a slot: touched by this ranking. Walked in slot order at the end (memory order for the tables and rows).
    seen: Vec<u64>,
    /// By concept: the best credit the querying member's offers give a want of that concept…
    credit: Vec<f64>,
    in_reach: Vec<bool>,
    /// …and the concepts that have one.
    reach: Vec<ConceptIdx>,
    /// Concepts next to an offer that its credit does not reach (only where the hierarchy is not symmetric): their
    /// projects are candidates all the same, as a concept-by-concept ranking sees them.
    beside: Vec<ConceptIdx>,
    topics: Vec<ConceptIdx>,
    /// (score in tenths, slot) of the results…
    results: Vec<(u32, Slot)>,
    /// …and, if `keep_sums`, their sums (for rankings that return every result with its components).
    sums: Vec<Acc>,
    keep_sums: bool,
    histogram: Vec<u32>,
}

/// A score in tenths, if it is a result: above 0 and at least `min_score`.
fn kept(t: u32, min_score: f64) -> Option<u32> {
    (t > 0 && f64::from(t) / 10.0 >= min_score).then_some(t)
}

/// Scores are in tenths from 0 to 1000 (more only with a related credit above 1): the histogram's last bucket holds
/// everything from there up.
const BUCKETS: usize = 1001;

/// The credit an offer of each level (1..=5) gives a want of its own concept (`[0..5]`), of a neighbour
/// (`[5..10]`), of the same free words (`[10..15]`), and of a concept directly below it (`[15..20]`), as `credit`
/// computes it.
fn credit_table(w: &Weights) -> Credits {
    std::array::from_fn(|k| {
        let level = level_factor(u8::try_from(k % 5 + 1).unwrap_or(1));
        match k / 5 {
            0 => level,
            1 => w.related_credit * level,
            2 => w.shared_term_credit * level,
            _ => w.narrower_credit * level,
        }
    })
}

type Credits = [f64; 20];

/// Where a want's own-concept credits start in the credit table: a concept's at 0, free words' at 10.
const OWN: usize = 0;
const NEIGHBOUR: usize = 5;
const FREE_WORDS: usize = 10;
const BELOW: usize = 15;

/// Where a want's tag starts: the index of the want, from 1 (0 is "none yet").
fn tag(i: usize) -> u16 {
    u16::try_from(i + 1).unwrap_or(u16::MAX)
}

impl Scratch {
    fn begin(&mut self, slots: usize) {
        if self.x.len() < slots {
            self.x.resize(slots, 0.0);
            self.y.resize(slots, 0.0);
            self.z.resize(slots, 0);
            self.mark.resize(slots, 0);
            self.seen.resize(slots.div_ceil(64), 0);
        }
        self.results.clear();
        self.sums.clear();
        for &c in self.reach.iter().chain(&self.beside) {
            self.in_reach[c as usize] = false;
        }
        self.reach.clear();
        self.beside.clear();
    }

    #[inline]
    fn touch(&mut self, slot: Slot) {
        self.seen[(slot >> 6) as usize] |= 1_u64 << (slot & 63);
    }

    #[inline]
    fn touched(&self, slot: Slot) -> bool {
        self.seen[(slot >> 6) as usize] & (1_u64 << (slot & 63)) != 0
    }

    /// Every slot touched by the ranking, in slot order, with its sums: those `f` scores (in tenths) are results.
    /// Leaves the tables zero.
    pub(super) fn drain(&mut self, mut f: impl FnMut(Slot, &Acc) -> Option<u32>) {
        for (w, word) in self.seen.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let slot = u32::try_from(w * 64).unwrap_or(u32::MAX) + bits.trailing_zeros();
                bits &= bits - 1;
                let i = slot as usize;
                let acc = Acc {
                    x: std::mem::take(&mut self.x[i]),
                    y: std::mem::take(&mut self.y[i]),
                    z: std::mem::take(&mut self.z[i]),
                };
                self.mark[i] = 0;
                if let Some(t) = f(slot, &acc) {
                    self.results.push((t, slot));
                    if self.keep_sums {
                        self.sums.push(acc);
                    }
                }
            }
        }
    }

    /// Note concept `c` as a neighbour of an offer, if it is not reached already.
    fn beside(&mut self, c: ConceptIdx) {
        let i = c as usize;
        if self.in_reach.len() <= i {
            self.credit.resize(i + 1, 0.0);
            self.in_reach.resize(i + 1, false);
        }
        if !self.in_reach[i] {
            self.in_reach[i] = true;
            self.beside.push(c);
        }
    }

    /// Credit `v` for wants of concept `c` (the best one counts).
    fn raise(&mut self, c: ConceptIdx, v: f64) {
        let i = c as usize;
        if self.credit.len() <= i {
            self.credit.resize(i + 1, 0.0);
            self.in_reach.resize(i + 1, false);
        }
        if !self.in_reach[i] {
            self.in_reach[i] = true;
            self.credit[i] = v;
            self.reach.push(c);
        } else if v > self.credit[i] {
            self.credit[i] = v;
        }
    }

    /// The window's page of the results (ties by id), each explained by `explain`, and how many results there are.
    fn page(&mut self, window: Window, id: impl Fn(Slot) -> Uuid, explain: impl Fn(Slot) -> Option<Scored>) -> Page {
        let best = self.best(window.offset.saturating_add(window.limit), id);
        let items = best.iter().skip(window.offset).filter_map(|&(_, slot)| explain(slot)).collect();
        Page { items, total: self.results.len() }
    }

    /// The `want` best results, best first (ties by id), from `results`.
    pub(super) fn best(&mut self, want: usize, id: impl Fn(Slot) -> Uuid) -> Vec<(u32, Slot)> {
        let order = |a: &(u32, Slot), b: &(u32, Slot)| b.0.cmp(&a.0).then_with(|| id(a.1).cmp(&id(b.1)));
        if want == 0 {
            return Vec::new();
        }
        if self.results.len() <= want {
            let mut out = self.results.clone();
            out.sort_unstable_by(order);
            return out;
        }
        // The lowest score that makes the cut, from a histogram of the scores: only results at or above it are sorted.
        self.histogram.clear();
        self.histogram.resize(BUCKETS, 0);
        for &(s, _) in &self.results {
            self.histogram[(s as usize).min(BUCKETS - 1)] += 1;
        }
        let mut seen = 0;
        let mut cut = 0;
        for bucket in (0..BUCKETS).rev() {
            seen += self.histogram[bucket] as usize;
            if seen >= want {
                cut = u32::try_from(bucket).unwrap_or(0);
                break;
            }
        }
        let mut out: Vec<(u32, Slot)> = self.results.iter().copied().filter(|r| r.0 >= cut).collect();
        out.sort_unstable_by(order);
        out.truncate(want);
        out
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Run `f` with this thread's scratch. Taken out while in use: a ranking started from inside `f` (say, from a
/// caller's filter) gets a fresh one rather than a borrow error.
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut sc = SCRATCH.with(RefCell::take);
    let r = f(&mut sc);
    SCRATCH.with(|s| s.replace(sc));
    r
}

/// How close to a rounding boundary (in units of the rounded digit) a figure summed in another order must not be for
/// its rounding to be certain. Sums of a few dozen terms in f64 differ by far less.
const ROUNDING_GUARD: f64 = 1e-6;

/// (Negative figures, which only negative weights give, count as near: they are computed exactly.) Truncating casts
/// rather than `floor` and `round`, which are library calls on baseline x86-64.
fn near_boundary(x10: f64) -> bool {
    x10.is_nan() || x10 < 0.0 || ((x10 - (x10 as i64) as f64) - 0.5).abs() < ROUNDING_GUARD
}

/// A score (0..100, unrounded) in tenths, as `round1` would round it; `None` if too close to call.
pub(super) fn tenths(raw: f64) -> Option<u32> {
    let x10 = raw * 10.0;
    (!near_boundary(x10)).then(|| u32::try_from((x10 + 0.5) as i64).unwrap_or(u32::MAX))
}

/// [`combine`] on components summed in another order than the single-pair scoring sums them: `None` when a rounded
/// figure is too close to a rounding boundary to be sure it rounds the same.
fn combine_checked(parts: &[Part]) -> Option<(f64, Vec<Component>)> {
    let unsure = parts.iter().any(|(v, _, _)| v.is_some_and(|v| near_boundary(v * 1000.0)))
        || near_boundary(raw_score(parts) * 10.0);
    (!unsure).then(|| combine(parts))
}

pub(super) fn to_tenths(score: f64) -> u32 {
    (score * 10.0).round() as u32
}

fn unexplained(id: Uuid, score: f64, components: Vec<Component>) -> Scored {
    Scored { id, score, explanation: Explanation { components, matched: Vec::new(), missing: Vec::new() } }
}

/// Best first; ties by id so that pages are stable.
fn sort(v: &mut [Scored]) {
    v.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
}

impl MatchIndex {
    /// The inverse frequencies and the weights built from them, as of the last change.
    pub(super) fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| {
            let n = self.member_count as f64;
            let idf_of = |df: usize| (1.0 + (n + 1.0) / (df as f64 + 1.0)).ln();
            let idf: Vec<f64> = self.offers.0.iter().map(|list| idf_of(list.len())).collect();
            let w = self.weights;
            let complement = w.complement_stronger + w.complement_weaker;
            let mut d = Derived {
                idf,
                idf_none: idf_of(0),
                inv_count: (0..RECIPROCALS).map(|n| reciprocal(n as f64)).collect(),
                partner_scale: [reciprocal(complement) * 100.0, reciprocal(complement + w.shared_interests) * 100.0],
                ..Derived::default()
            };
            let want = |terms: &[Term]| {
                let (mut want, mut heaviest) = (0.0, 0.0_f64);
                for t in terms {
                    let w = f64::from(t.strength.clamp(1, 5)) * d.idf(t.concept);
                    want += w;
                    heaviest = heaviest.max(w);
                }
                (want, heaviest)
            };
            let needs: Vec<(f64, f64)> =
                self.members.iter().map(|m| m.as_ref().map_or((0.0, 0.0), |m| want(&m.needs))).collect();
            let required: Vec<(f64, f64)> =
                self.projects.iter().map(|p| p.as_ref().map_or((0.0, 0.0), |p| want(&p.required))).collect();
            d.need_inv_want = needs.iter().map(|&(w, _)| reciprocal(w)).collect();
            d.need_inv_max = needs.iter().map(|&(_, h)| reciprocal(h)).collect();
            (d.need_want, d.need_max) = needs.into_iter().unzip();
            (d.required_want, d.required_max) = required.into_iter().unzip();
            d
        })
    }

    /// The querying member's offers as the credit they give a want of each concept (`sc.credit`, over `sc.reach`):
    /// the same concept at the offer's level, a concept above it at the narrower credit times it, another neighbour
    /// at the related credit times it; the best offer counts.
    fn offer_reach(&self, vocab: &Vocabulary, offers: &[Term], sc: &mut Scratch) {
        let (rc, nc) = (self.weights.related_credit, self.weights.narrower_credit);
        for o in offers {
            let Some(c) = o.concept else { continue };
            let level = level_factor(o.strength);
            sc.raise(c, level * self.same_credit(c));
            for &x in vocab.neighbour_of(c) {
                sc.raise(x, if vocab.is_below(c, x) { nc } else { rc } * level);
            }
        }
    }

    /// Credit everyone offering concept `c` for one want of weight `w` (told apart from the others by `tag`): the
    /// credit of their level from `credits` (`from` [`OWN`]: the want's own concept, [`NEIGHBOUR`]: a neighbour of it,
    /// [`FREE_WORDS`]: the same free words); their best offer counts, once.
    #[expect(
        clippy::too_many_arguments,
        reason = "one want, its credits, the slots to walk, where it must be met, and the scratch"
    )]
    fn credit_offers(
        &self,
        c: ConceptIdx,
        from: usize,
        w: f64,
        tag: u16,
        credits: &Credits,
        after: Option<Slot>,
        only: Option<u32>,
        sc: &mut Scratch,
    ) {
        let tag = u32::from(tag) << 8;
        for &(slot, s) in self.offers.after(c, after) {
            if only.is_some_and(|code| self.member_rows[slot as usize].country != code) {
                continue;
            }
            let code = from + usize::from(s.clamp(1, 5)) - 1;
            let v = credits[code];
            sc.touch(slot);
            let i = slot as usize;
            let mark = sc.mark[i];
            if mark & !0xFF != tag {
                sc.mark[i] = tag | code as u32;
                sc.x[i] += w * v;
            } else {
                let best = credits[(mark & 0xFF) as usize];
                if v > best {
                    sc.x[i] += w * (v - best);
                    sc.mark[i] = tag | code as u32;
                }
            }
        }
    }

    /// Where a want of concept `c` finds its own credits in the credit table.
    fn own(&self, c: ConceptIdx) -> usize {
        if self.is_free(c) { FREE_WORDS } else { OWN }
    }

    /// Credit everyone offering what a want of concept `c` (of weight `w`, told apart by `tag`) asks for: the concept
    /// itself, or a neighbour of it.
    #[expect(clippy::too_many_arguments, reason = "one want, its credits, the slots to walk, and the scratch")]
    fn credit_want(
        &self,
        vocab: &Vocabulary,
        c: ConceptIdx,
        w: f64,
        tag: u16,
        credits: &Credits,
        after: Option<Slot>,
        only: Option<u32>,
        sc: &mut Scratch,
    ) {
        self.credit_offers(c, self.own(c), w, tag, credits, after, only, sc);
        for n in vocab.neighbours(c) {
            let from = if vocab.is_below(n, c) { BELOW } else { NEIGHBOUR };
            self.credit_offers(n, from, w, tag, credits, after, only, sc);
        }
    }

    /// Every member sharing something with `a`, with the sums behind the partner score. Returns what the partner
    /// score needs of `a`'s own side. With `after`, only members at later slots.
    pub(super) fn accumulate_partners(
        &self,
        d: &Derived,
        vocab: &Vocabulary,
        a: &MemberProfile,
        after: Option<Slot>,
        sc: &mut Scratch,
    ) -> Side {
        sc.begin(self.members.len());
        let credits = credit_table(&self.weights);
        // Their offers for my needs.
        let (mut want, mut heaviest) = (0.0, 0.0_f64);
        for (i, need) in a.needs.iter().enumerate() {
            let w = f64::from(need.strength.clamp(1, 5)) * d.idf(need.concept);
            want += w;
            heaviest = heaviest.max(w);
            let Some(c) = need.concept else { continue };
            // A need that names a country is met only by members there (none, if no member is from there).
            let only = match need.place {
                Some(place) => match self.countries.get(place) {
                    Some(&code) => Some(code),
                    None => continue,
                },
                None => None,
            };
            self.credit_want(vocab, c, w, tag(i), &credits, after, only, sc);
        }
        // My offers for their needs, and those of their needs that name my country.
        self.offer_reach(vocab, &a.offers, sc);
        let placed = self.countries.get(&a.country).and_then(|code| self.placed_needs.get(code));
        for i in 0..sc.reach.len() {
            let c = sc.reach[i];
            let (idf, credit) = (d.idf(Some(c)), sc.credit[c as usize]);
            for &(slot, s) in self.needs.after(c, after).iter().chain(placed.map_or(&[][..], |p| p.after(c, after))) {
                sc.touch(slot);
                sc.y[slot as usize] += f64::from(s) * idf * credit;
            }
        }
        // Shared interests, counted only for members reached above: interests never carry a pair (a score with
        // neither direction met is 0), so a member who shares nothing else is not a candidate. Popular interests
        // would otherwise add thousands of candidates to score and drop.
        sc.topics.clear();
        sc.topics.extend(concepts(&a.interests));
        sc.topics.sort_unstable();
        sc.topics.dedup();
        for i in 0..sc.topics.len() {
            for &(slot, _) in self.interests.after(sc.topics[i], after) {
                if sc.touched(slot) {
                    sc.z[slot as usize] = sc.z[slot as usize].saturating_add(1);
                }
            }
        }
        Side {
            want,
            heaviest,
            inv_want: reciprocal(want),
            inv_heaviest: reciprocal(heaviest),
            interests: u16::try_from(sc.topics.len()).unwrap_or(u16::MAX),
        }
    }

    /// The parts of the partner score of the member at `slot` for the querying member (`a`), from the sums in `acc`.
    pub(super) fn partner_parts(&self, d: &Derived, a: &Side, slot: Slot, acc: &Acc) -> [Part; 3] {
        let i = slot as usize;
        let union =
            (u32::from(a.interests) + u32::from(self.member_rows[i].interests)).saturating_sub(u32::from(acc.z));
        self.partner_parts_of(
            met(acc.x, a.want, a.heaviest),
            met(acc.y, d.need_want[i], d.need_max[i]),
            (union > 0).then(|| f64::from(acc.z) / f64::from(union)),
        )
    }

    /// [`Self::partner_parts`]'s score (unrounded): close to the single-pair score, summed in another order. The
    /// same sums as `raw_score(&self.partner_parts(…))`, with multiplications by reciprocals computed once for every
    /// division: this runs for every candidate of a ranking, tens of thousands a query, where a division's latency
    /// was a fifth of the time (a rounding boundary too close to call is settled by the exact score).
    #[inline]
    pub(super) fn partner_raw(&self, d: &Derived, a: &Side, slot: Slot, acc: &Acc) -> f64 {
        let i = slot as usize;
        let theirs = met_inv(acc.x, a.inv_want, a.inv_heaviest);
        let mine = met_inv(acc.y, d.need_inv_want[i], d.need_inv_max[i]);
        if theirs <= 0.0 && mine <= 0.0 {
            return 0.0;
        }
        let w = self.weights;
        let (wt, wm) = if theirs >= mine {
            (w.complement_stronger, w.complement_weaker)
        } else {
            (w.complement_weaker, w.complement_stronger)
        };
        let total = theirs * wt + mine * wm;
        let union =
            (u32::from(a.interests) + u32::from(self.member_rows[i].interests)).saturating_sub(u32::from(acc.z));
        if union == 0 {
            return total * d.partner_scale[0];
        }
        let share = match d.inv_count.get(union as usize) {
            Some(inv) => f64::from(acc.z) * inv,
            None => f64::from(acc.z) / f64::from(union),
        };
        (total + share * w.shared_interests) * d.partner_scale[1]
    }

    /// The partner score of the member at `slot` for `a`, in tenths: from the sums, or, when a rounding boundary is
    /// too close to call, from the exact single-pair score.
    #[inline]
    pub(super) fn partner_tenths(
        &self,
        vocab: &Vocabulary,
        d: &Derived,
        a: &MemberProfile,
        side: &Side,
        slot: Slot,
        acc: &Acc,
    ) -> u32 {
        match tenths(self.partner_raw(d, side, slot, acc)) {
            Some(t) => t,
            None => self.partner_tenths_exact(vocab, a, slot),
        }
    }

    /// The exact single-pair score, in tenths: rare (a score within a millionth of a rounding boundary), and kept out
    /// of line so that the common path inlines into the rankings' last pass.
    #[cold]
    #[inline(never)]
    fn partner_tenths_exact(&self, vocab: &Vocabulary, a: &MemberProfile, slot: Slot) -> u32 {
        self.members[slot as usize]
            .as_ref()
            .map_or(0, |b| to_tenths(self.partner_score(vocab, Lang::En, a, b, false).score))
    }

    /// Every possible partner of `a` (at `a_slot`) scoring more than 0 and at least `min_score`, into `sc.results`.
    fn rank_partners(
        &self,
        vocab: &Vocabulary,
        a_slot: Slot,
        a: &MemberProfile,
        min_score: f64,
        sc: &mut Scratch,
    ) -> Side {
        let d = self.derived();
        let side = self.accumulate_partners(d, vocab, a, None, sc);
        sc.drain(|slot, acc| {
            if slot == a_slot || !self.member_rows[slot as usize].visible {
                return None;
            }
            let t = self.partner_tenths(vocab, d, a, &side, slot, acc);
            kept(t, min_score)
        });
        side
    }

    /// Every project sharing something with `m`, with the sums behind the project score.
    fn accumulate_projects(&self, d: &Derived, vocab: &Vocabulary, m: &MemberProfile, sc: &mut Scratch) {
        sc.begin(self.projects.len());
        self.offer_reach(vocab, &m.offers, sc);
        for c in concepts(&m.offers) {
            for n in vocab.neighbours(c) {
                sc.beside(n);
            }
        }
        for i in 0..sc.beside.len() {
            for &(slot, _) in self.required.get(sc.beside[i]) {
                sc.touch(slot);
            }
        }
        for i in 0..sc.reach.len() {
            let c = sc.reach[i];
            let (idf, credit) = (d.idf(Some(c)), sc.credit[c as usize]);
            for &(slot, s) in self.required.get(c) {
                sc.touch(slot);
                sc.x[slot as usize] += f64::from(s) * idf * credit;
            }
        }
        sc.topics.clear();
        sc.topics.extend(topics_of(vocab, m));
        sc.topics.sort_unstable();
        sc.topics.dedup();
        for i in 0..sc.topics.len() {
            let credit = self.same_credit(sc.topics[i]);
            for &(slot, _) in self.themes.get(sc.topics[i]) {
                sc.touch(slot);
                sc.y[slot as usize] += credit;
            }
        }
        // Projects that name no skill are matched on sectors too: reach those of the member's sectors.
        let sectors = super::mask(&m.sectors, super::sector_bit);
        for &slot in &self.sector_only {
            if self.project_rows[slot as usize].sectors & sectors != 0 {
                sc.touch(slot);
            }
        }
    }

    /// Every member sharing something with project `p`, with the sums behind the project score.
    fn accumulate_members(&self, d: &Derived, vocab: &Vocabulary, p: &ProjectProfile, sc: &mut Scratch) {
        sc.begin(self.members.len());
        let credits = credit_table(&self.weights);
        for (i, r) in p.required.iter().enumerate() {
            let Some(c) = r.concept else { continue };
            let w = f64::from(r.strength.clamp(1, 5)) * d.idf(Some(c));
            self.credit_want(vocab, c, w, tag(i), &credits, None, None, sc);
        }
        // A project that names no skill is matched on sectors too: reach every member of its sectors.
        if p.required.is_empty() && !p.sectors.is_empty() {
            let sectors = super::mask(&p.sectors, super::sector_bit);
            for (slot, row) in self.member_rows.iter().enumerate() {
                if row.sectors & sectors != 0 && self.members[slot].is_some() {
                    sc.touch(Slot::try_from(slot).unwrap_or(Slot::MAX));
                }
            }
        }
        // A theme is hit once by a member who has its concept, or one directly below it, among interests or offers.
        for (j, t) in p.themes.iter().enumerate() {
            let Some(c) = t.concept else { continue };
            let tag = u32::from(tag(p.required.len() + j)) << 8;
            let credit = self.same_credit(c);
            for k in std::iter::once(c).chain(vocab.narrower(c)) {
                for &(slot, _) in self.interests.get(k).iter().chain(self.offers.get(k)) {
                    sc.touch(slot);
                    let i = slot as usize;
                    if sc.mark[i] != tag {
                        sc.mark[i] = tag;
                        sc.y[i] += credit;
                    }
                }
            }
        }
    }

    /// The parts of member `m`'s score for the project at `slot`, from the sums in `acc`, and whether it is a match.
    fn project_parts(&self, d: &Derived, slot: Slot, acc: &Acc, m: &MemberRow) -> ([Part; 4], bool) {
        let row = &self.project_rows[slot as usize];
        let (want, heaviest) = (d.required_want[slot as usize], d.required_max[slot as usize]);
        self.project_parts_of(
            (want > 0.0).then(|| met(acc.x, want, heaviest)),
            (row.themes > 0).then(|| acc.y / f64::from(row.themes)),
            (row.sectors != 0).then(|| f64::from(u8::from(row.sectors & m.sectors != 0))),
            Some(f64::from(u8::from(m.scopes == 0 || m.scopes & row.scope != 0))),
        )
    }

    /// [`Self::project_parts`]'s score (unrounded; 0 for no match): close to the single-pair score.
    fn project_raw(&self, d: &Derived, slot: Slot, acc: &Acc, m: &MemberRow) -> f64 {
        match self.project_parts(d, slot, acc, m) {
            (parts, true) => raw_score(&parts),
            (_, false) => 0.0,
        }
    }

    /// Every open project for `m` (at `m_slot`) that `keep` keeps, scoring more than 0 and at least `min_score`, into
    /// `sc.results`.
    #[expect(clippy::too_many_arguments, reason = "the query, its filters, and the scratch")]
    pub(super) fn rank_projects(
        &self,
        vocab: &Vocabulary,
        m_slot: Slot,
        m: &MemberProfile,
        now: DateTime<Utc>,
        keep: &dyn Fn(&ProjectProfile) -> bool,
        min_score: f64,
        sc: &mut Scratch,
    ) {
        let d = self.derived();
        self.accumulate_projects(d, vocab, m, sc);
        let mrow = &self.member_rows[m_slot as usize];
        sc.drain(|slot, acc| {
            let p = self.projects[slot as usize].as_ref()?;
            if !self.project_rows[slot as usize].admits(mrow, m.id, now) || !keep(p) {
                return None;
            }
            let t = tenths(self.project_raw(d, slot, acc, mrow))
                .unwrap_or_else(|| to_tenths(self.project_score(vocab, Lang::En, m, p, false).score));
            kept(t, min_score)
        });
    }

    /// Every eligible member for project `p` (at `p_slot`) scoring more than 0 and at least `min_score`, into
    /// `sc.results`.
    fn rank_members(
        &self,
        vocab: &Vocabulary,
        p_slot: Slot,
        p: &ProjectProfile,
        now: DateTime<Utc>,
        min_score: f64,
        sc: &mut Scratch,
    ) {
        let d = self.derived();
        self.accumulate_members(d, vocab, p, sc);
        let prow = &self.project_rows[p_slot as usize];
        sc.drain(|slot, acc| {
            let mrow = &self.member_rows[slot as usize];
            if !prow.admits(mrow, self.member_ids[slot as usize], now) {
                return None;
            }
            let t = match tenths(self.project_raw(d, p_slot, acc, mrow)) {
                Some(t) => t,
                None => self.members[slot as usize]
                    .as_ref()
                    .map_or(0, |m| to_tenths(self.project_score(vocab, Lang::En, m, p, false).score)),
            };
            kept(t, min_score)
        });
    }

    /// The best open projects for a member, best first (scores only: see [`Self::explain_project`]). Every result:
    /// for a page, [`Self::top_projects_for_member`] is much faster.
    pub fn projects_for_member(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        member: Uuid,
        now: DateTime<Utc>,
        keep: impl Fn(&ProjectProfile) -> bool,
    ) -> Vec<Scored> {
        let Some((m_slot, m)) = self.member_at(member) else { return Vec::new() };
        with_scratch(|sc| {
            sc.keep_sums = true;
            self.rank_projects(vocab, m_slot, m, now, &keep, 0.0, sc);
            sc.keep_sums = false;
            let d = self.derived();
            let mrow = &self.member_rows[m_slot as usize];
            let mut out: Vec<Scored> = sc
                .results
                .iter()
                .zip(&sc.sums)
                .filter_map(|(&(_, slot), acc)| {
                    let p = self.projects[slot as usize].as_ref()?;
                    Some(match combine_checked(&self.project_parts(d, slot, acc, mrow).0) {
                        Some((score, components)) => unexplained(p.id, score, components),
                        None => self.project_score(vocab, lang, m, p, false),
                    })
                })
                .collect();
            sort(&mut out);
            out
        })
    }

    /// One page of a member's best open projects (those `keep` keeps), explained, and how many there are in all.
    pub fn top_projects_for_member(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        member: Uuid,
        now: DateTime<Utc>,
        keep: impl Fn(&ProjectProfile) -> bool,
        window: Window,
    ) -> Page {
        let Some((m_slot, m)) = self.member_at(member) else { return Page { items: Vec::new(), total: 0 } };
        with_scratch(|sc| {
            self.rank_projects(vocab, m_slot, m, now, &keep, window.min_score, sc);
            sc.page(
                window,
                |s| self.project_id(s),
                |slot| Some(self.score_project(vocab, lang, m, self.projects[slot as usize].as_ref()?)),
            )
        })
    }

    /// The best partners for a member, best first: never itself, nor anyone not discoverable or not active. Every
    /// result: for a page, [`Self::top_partners_for_member`] is much faster.
    pub fn partners_for_member(&self, vocab: &Vocabulary, lang: Lang, member: Uuid) -> Vec<Scored> {
        let Some((a_slot, a)) = self.member_at(member) else { return Vec::new() };
        with_scratch(|sc| {
            sc.keep_sums = true;
            let side = self.rank_partners(vocab, a_slot, a, 0.0, sc);
            sc.keep_sums = false;
            let d = self.derived();
            let mut out: Vec<Scored> = sc
                .results
                .iter()
                .zip(&sc.sums)
                .filter_map(|(&(_, slot), acc)| {
                    let b = self.members[slot as usize].as_ref()?;
                    let parts = self.partner_parts(d, &side, slot, acc);
                    Some(match combine_checked(&parts) {
                        Some((score, components)) => unexplained(b.id, score, components),
                        None => self.partner_score(vocab, lang, a, b, false),
                    })
                })
                .collect();
            sort(&mut out);
            out
        })
    }

    /// One page of a member's best partners, explained, and how many there are in all.
    pub fn top_partners_for_member(&self, vocab: &Vocabulary, lang: Lang, member: Uuid, window: Window) -> Page {
        let Some((a_slot, a)) = self.member_at(member) else { return Page { items: Vec::new(), total: 0 } };
        with_scratch(|sc| {
            let _ = self.rank_partners(vocab, a_slot, a, window.min_score, sc);
            sc.page(
                window,
                |s| self.member_id(s),
                |slot| Some(self.score_partner(vocab, lang, a, self.members[slot as usize].as_ref()?)),
            )
        })
    }

    /// The best members for a project, best first. Every result: for a page, [`Self::top_members_for_project`] is
    /// much faster.
    pub fn members_for_project(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        project: Uuid,
        now: DateTime<Utc>,
    ) -> Vec<Scored> {
        let Some((p_slot, p)) = self.project_at(project) else { return Vec::new() };
        with_scratch(|sc| {
            sc.keep_sums = true;
            self.rank_members(vocab, p_slot, p, now, 0.0, sc);
            sc.keep_sums = false;
            let d = self.derived();
            let mut out: Vec<Scored> = sc
                .results
                .iter()
                .zip(&sc.sums)
                .filter_map(|(&(_, slot), acc)| {
                    let m = self.members[slot as usize].as_ref()?;
                    let mrow = &self.member_rows[slot as usize];
                    Some(match combine_checked(&self.project_parts(d, p_slot, acc, mrow).0) {
                        Some((score, components)) => unexplained(m.id, score, components),
                        None => Scored { id: m.id, ..self.project_score(vocab, lang, m, p, false) },
                    })
                })
                .collect();
            sort(&mut out);
            out
        })
    }

    /// One page of a project's best members, explained (the member's view of the project), and how many there are.
    pub fn top_members_for_project(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        project: Uuid,
        now: DateTime<Utc>,
        window: Window,
    ) -> Page {
        let Some((p_slot, p)) = self.project_at(project) else { return Page { items: Vec::new(), total: 0 } };
        with_scratch(|sc| {
            self.rank_members(vocab, p_slot, p, now, window.min_score, sc);
            sc.page(
                window,
                |s| self.member_id(s),
                |slot| {
                    let m = self.members[slot as usize].as_ref()?;
                    Some(Scored { id: m.id, ..self.score_project(vocab, lang, m, p) })
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::super::{Ranked, term};
    use super::*;
    use crate::domain::member::{Scope, Sector, Size};
    use crate::matching::vocabulary::MatchKind;

    /// SplitMix64, for reproducible random profiles.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }

        fn uuid(&mut self) -> Uuid {
            Uuid::from_u64_pair(self.next(), self.next())
        }
    }

    /// A small, tangled pool of concepts: some with neighbours in the hierarchy, and those neighbours.
    fn pool(vocab: &Vocabulary) -> Vec<ConceptIdx> {
        let mut pool = Vec::new();
        for (c, _) in vocab.concept_ids() {
            if vocab.neighbours(c).next().is_some() {
                pool.push(c);
                pool.extend(vocab.neighbours(c));
            }
            if pool.len() > 30 {
                break;
            }
        }
        pool.sort_unstable();
        pool.dedup();
        pool
    }

    fn terms(rng: &mut Rng, pool: &[ConceptIdx], most: usize, strength: bool) -> Vec<Term> {
        let n = rng.below(most);
        (0..n)
            .map(|i| {
                let concept = (!rng.chance(8)).then(|| pool[rng.below(pool.len())]);
                let s = if strength { u8::try_from(1 + rng.below(5)).unwrap() } else { 1 };
                term(format!("term {i}"), concept, MatchKind::Exact, s)
            })
            .collect()
    }

    const COUNTRIES: [&str; 4] = ["LU", "FR", "DE", "BE"];

    fn member(rng: &mut Rng, pool: &[ConceptIdx], id: Uuid) -> MemberProfile {
        let sectors = <Sector as crate::domain::parse::ApiEnum>::ALL;
        let scopes = <Scope as crate::domain::parse::ApiEnum>::ALL;
        let sizes = <Size as crate::domain::parse::ApiEnum>::ALL;
        MemberProfile {
            id,
            name: "m".to_owned(),
            country: COUNTRIES[rng.below(COUNTRIES.len())].to_owned(),
            size: rng.chance(80).then(|| sizes[rng.below(sizes.len())]),
            city: None,
            website: None,
            sectors: (0..rng.below(3)).map(|_| sectors[rng.below(sectors.len())]).collect(),
            scopes: (0..rng.below(3)).map(|_| scopes[rng.below(scopes.len())]).collect(),
            offers: terms(rng, pool, 7, true),
            needs: terms(rng, pool, 6, true),
            interests: terms(rng, pool, 4, false),
            discoverable: rng.chance(85),
            active: rng.chance(90),
        }
    }

    fn project(rng: &mut Rng, pool: &[ConceptIdx], members: &[Uuid]) -> ProjectProfile {
        let sectors = <Sector as crate::domain::parse::ApiEnum>::ALL;
        let scopes = <Scope as crate::domain::parse::ApiEnum>::ALL;
        let sizes = <Size as crate::domain::parse::ApiEnum>::ALL;
        ProjectProfile {
            id: rng.uuid(),
            title: "p".to_owned(),
            scope: scopes[rng.below(scopes.len())],
            sectors: (0..rng.below(3)).map(|_| sectors[rng.below(sectors.len())]).collect(),
            required: terms(rng, pool, 6, true),
            themes: terms(rng, pool, 3, false),
            eligible_countries: if rng.chance(30) { vec![COUNTRIES[rng.below(2)].to_owned()] } else { Vec::new() },
            eligible_sizes: (0..rng.below(3)).map(|_| sizes[rng.below(sizes.len())]).collect(),
            deadline: rng.chance(90).then(|| now() + chrono::Duration::days(i64::try_from(rng.below(20)).unwrap() - 5)),
            closed: rng.chance(5),
            min_partners: 1,
            max_partners: 3,
            min_countries: 1,
            lead: rng.chance(30).then(|| members[rng.below(members.len())]),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    /// An index of random profiles, with members replaced and removed along the way (slots get reused).
    fn index(vocab: &Vocabulary, weights: Weights, seed: u64) -> MatchIndex {
        let pool = pool(vocab);
        let mut rng = Rng(seed);
        let mut index = MatchIndex::new(weights, vocab.len());
        let ids: Vec<Uuid> = (0..300).map(|_| rng.uuid()).collect();
        for &id in &ids {
            index.upsert_member(member(&mut rng, &pool, id));
        }
        for _ in 0..120 {
            index.upsert_project(project(&mut rng, &pool, &ids));
        }
        for &id in ids.iter().step_by(7) {
            index.remove_member(id);
        }
        for &id in ids.iter().step_by(5) {
            index.upsert_member(member(&mut rng, &pool, id));
        }
        for id in index.project_ids().into_iter().step_by(9) {
            index.remove_project(id);
        }
        index
    }

    /// Concepts of `terms` and their neighbours.
    fn around(vocab: &Vocabulary, terms: &[Term]) -> HashSet<ConceptIdx> {
        concepts(terms).flat_map(|c| std::iter::once(c).chain(vocab.neighbours(c))).collect()
    }

    /// Candidates are what shares a concept with the query (then they may score on sectors and scope too).
    fn project_shares(vocab: &Vocabulary, m: &MemberProfile, p: &ProjectProfile) -> bool {
        let topics: HashSet<ConceptIdx> = topics_of(vocab, m).collect();
        let reach = around(vocab, &m.offers);
        concepts(&p.required).any(|c| reach.contains(&c))
            || concepts(&p.themes).any(|c| topics.contains(&c))
            || (p.required.is_empty() && p.sectors.iter().any(|s| m.sectors.contains(s)))
    }

    fn partner_shares(vocab: &Vocabulary, a: &MemberProfile, b: &MemberProfile) -> bool {
        let (needs, offers) = (around(vocab, &a.needs), around(vocab, &a.offers));
        let interests: HashSet<ConceptIdx> = concepts(&a.interests).collect();
        concepts(&b.offers).any(|c| needs.contains(&c))
            || concepts(&b.needs).any(|c| offers.contains(&c))
            || concepts(&b.interests).any(|c| interests.contains(&c))
    }

    fn member_shares(vocab: &Vocabulary, p: &ProjectProfile, m: &MemberProfile) -> bool {
        let required = around(vocab, &p.required);
        let themes: HashSet<ConceptIdx> = concepts(&p.themes).collect();
        concepts(&m.offers).any(|c| required.contains(&c))
            || topics_of(vocab, m).any(|c| themes.contains(&c))
            || (p.required.is_empty() && p.sectors.iter().any(|s| m.sectors.contains(s)))
    }

    /// Shared interests come out of a hash set, in no fixed order: compare explanations with their rows sorted.
    fn settled(mut page: Page) -> Page {
        for s in &mut page.items {
            s.explanation.matched.sort_by(|a, b| (a.relation, &a.concept).cmp(&(b.relation, &b.concept)));
        }
        page
    }

    fn ranked(mut v: Vec<Scored>) -> Vec<Scored> {
        v.retain(|s| s.score > 0.0);
        sort(&mut v);
        v
    }

    fn scores_only(v: &[Scored]) -> Vec<Scored> {
        v.iter()
            .map(|s| Scored {
                explanation: Explanation { matched: Vec::new(), missing: Vec::new(), ..s.explanation.clone() },
                ..s.clone()
            })
            .collect()
    }

    /// Rankings equal scoring every pair one by one: the same results, scores, components and order.
    fn rankings_equal_pairwise_scoring(weights: Weights, seed: u64) {
        let vocab = Vocabulary::shipped().unwrap();
        let index = index(&vocab, weights, seed);
        let members: Vec<Arc<MemberProfile>> =
            index.member_ids().into_iter().map(|id| index.member(id).unwrap().clone()).collect();
        let projects: Vec<Arc<ProjectProfile>> =
            index.project_ids().into_iter().map(|id| index.project(id).unwrap().clone()).collect();
        let window = Window { offset: 2, limit: 5, min_score: 10.0 };
        let paged = |all: &[Scored]| -> (Vec<Scored>, usize) {
            let kept: Vec<Scored> = all.iter().filter(|s| s.score >= window.min_score).cloned().collect();
            (kept.iter().skip(window.offset).take(window.limit).cloned().collect(), kept.len())
        };
        let tops = index.recompute_all(&vocab, now(), 7, 2);
        assert_eq!(tops.len(), members.len());
        let mut nonempty = (0, 0, 0);
        for m in &members {
            let keep = |p: &ProjectProfile| p.scope != Scope::International;
            let expected = ranked(
                projects
                    .iter()
                    .filter(|p| MatchIndex::eligible(m, p, now()) && keep(p) && project_shares(&vocab, m, p))
                    .map(|p| index.score_project(&vocab, Lang::Fr, m, p))
                    .collect(),
            );
            nonempty.0 += usize::from(!expected.is_empty());
            let got = index.projects_for_member(&vocab, Lang::Fr, m.id, now(), keep);
            assert_eq!(got, scores_only(&expected));
            let page = index.top_projects_for_member(&vocab, Lang::Fr, m.id, now(), keep, window);
            let (items, total) = paged(&expected);
            assert_eq!(settled(page), settled(Page { items, total }));

            let expected = ranked(
                members
                    .iter()
                    .filter(|b| b.id != m.id && b.active && b.discoverable && partner_shares(&vocab, m, b))
                    .map(|b| index.score_partner(&vocab, Lang::De, m, b))
                    .collect(),
            );
            nonempty.1 += usize::from(!expected.is_empty());
            assert_eq!(index.partners_for_member(&vocab, Lang::De, m.id), scores_only(&expected));
            let page = index.top_partners_for_member(&vocab, Lang::De, m.id, window);
            let (items, total) = paged(&expected);
            assert_eq!(settled(page), settled(Page { items, total }));

            let top = tops.iter().find(|t| t.member == m.id).unwrap();
            let all = index.projects_for_member(&vocab, Lang::En, m.id, now(), |_| true);
            let want: Vec<Ranked> = all.iter().take(7).map(|s| Ranked { id: s.id, score: s.score }).collect();
            assert_eq!(top.projects, want);
            let want: Vec<Ranked> = expected.iter().take(7).map(|s| Ranked { id: s.id, score: s.score }).collect();
            assert_eq!(top.partners, want);
        }
        for p in &projects {
            let expected = ranked(
                members
                    .iter()
                    .filter(|m| MatchIndex::eligible(m, p, now()) && member_shares(&vocab, p, m))
                    .map(|m| Scored { id: m.id, ..index.score_project(&vocab, Lang::En, m, p) })
                    .collect(),
            );
            nonempty.2 += usize::from(!expected.is_empty());
            assert_eq!(index.members_for_project(&vocab, Lang::En, p.id, now()), scores_only(&expected));
            let page = index.top_members_for_project(&vocab, Lang::En, p.id, now(), window);
            let (items, total) = paged(&expected);
            assert_eq!(settled(page), settled(Page { items, total }));
        }
        // The check means something only if most rankings have results.
        assert!(nonempty.0 > members.len() / 2 && nonempty.1 > members.len() / 2 && nonempty.2 > projects.len() / 2);
    }

    #[test]
    fn rankings_equal_pairwise_scoring_default_weights() {
        rankings_equal_pairwise_scoring(Weights::default(), 1);
    }

    #[test]
    fn rankings_equal_pairwise_scoring_other_weights() {
        let weights = Weights { related_credit: 0.0, shared_interests: 0.5, themes: 0.0, ..Weights::default() };
        rankings_equal_pairwise_scoring(weights, 2);
        let weights = Weights { related_credit: 1.0, complement_stronger: 0.5, sectors: 0.25, ..Weights::default() };
        rankings_equal_pairwise_scoring(weights, 3);
    }

    #[test]
    fn unknown_ids_rank_nothing() {
        let vocab = Vocabulary::shipped().unwrap();
        let index = index(&vocab, Weights::default(), 4);
        let nobody = Uuid::nil();
        assert!(index.partners_for_member(&vocab, Lang::En, nobody).is_empty());
        assert_eq!(index.top_partners_for_member(&vocab, Lang::En, nobody, Window::default()).total, 0);
        assert!(index.members_for_project(&vocab, Lang::En, nobody, now()).is_empty());
        assert!(index.recompute(&vocab, now(), &[nobody], 20, 1).is_empty());
    }
}
