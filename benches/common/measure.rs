//! Timed one-off passes (full recomputes), latency percentiles and memory readings.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use matchmaker::matching::MatchIndex;
use matchmaker::matching::index::{MemberTops, Scored, Window};
use matchmaker::matching::model::{MemberProfile, ProjectProfile, Term};
use matchmaker::matching::vocabulary::{Lang, Vocabulary};
use uuid::Uuid;

use super::naive::{self, NaiveCorpus};

/// A field of `/proc/self/status` in KiB (`VmRSS`, `RssAnon`, `VmHWM`…).
pub fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
}

/// Time this thread has spent on a CPU and waiting for one (runnable, not running), in ns, from
/// `/proc/thread-self/schedstat`.
pub fn thread_sched_ns() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let mut it = s.split_whitespace().map(|x| x.parse::<u64>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Sorted latencies in nanoseconds.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<u64>);

impl Latencies {
    pub fn new(mut ns: Vec<u64>) -> Self {
        ns.sort_unstable();
        Self(ns)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Nearest-rank percentile, in milliseconds.
    pub fn pct_ms(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1] as f64 / 1e6
    }

    pub fn mean_ms(&self) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0.iter().map(|&n| n as f64).sum::<f64>() / self.0.len() as f64 / 1e6
    }
}

/// What the index answers for one member: its top-20 projects, explained (with how many it ranked in all).
pub fn top20_projects(index: &MatchIndex, vocab: &Vocabulary, id: Uuid, now: DateTime<Utc>) -> (Vec<Scored>, usize) {
    let page = index.top_projects_for_member(vocab, Lang::En, id, now, |_: &ProjectProfile| true, Window::top(20));
    (page.items, page.total)
}

/// …and its top-20 partners.
pub fn top20_partners(index: &MatchIndex, vocab: &Vocabulary, id: Uuid) -> (Vec<Scored>, usize) {
    let page = index.top_partners_for_member(vocab, Lang::En, id, Window::top(20));
    (page.items, page.total)
}

/// CPU time this process has used (all threads, user and system), from `/proc/self/stat`, in seconds.
pub fn process_cpu_secs() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces), from the state: utime and stime
    // are the 12th and 13th, in clock ticks (100 a second on Linux).
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (field(11) + field(12)) / 100.0
}

/// The library's bulk recompute of every member's top-20 projects and partners, timed as one pass.
pub fn batch_recompute(index: &MatchIndex, vocab: &Vocabulary, threads: usize) -> (Pass, Vec<MemberTops>) {
    let now = super::generator::now();
    let cpu0 = process_cpu_secs();
    let start = Instant::now();
    let tops = index.recompute_all(vocab, now, 20, threads);
    let elapsed = start.elapsed();
    let cpu = process_cpu_secs() - cpu0;
    let n = tops.len();
    let mean = |f: &dyn Fn(&MemberTops) -> usize| tops.iter().map(f).sum::<usize>() as f64 / n.max(1) as f64;
    let pass = Pass {
        threads,
        done: n,
        total: n,
        elapsed,
        projects: Latencies::default(),
        partners: Latencies::default(),
        projects_scored: mean(&|t| t.projects.len()),
        partners_scored: mean(&|t| t.partners.len()),
        cpu_secs: cpu,
        // Waiting for a CPU is not visible process-wide: what the threads did not run of their wall time.
        wait_secs: (elapsed.as_secs_f64() * threads as f64 - cpu).max(0.0),
    };
    (pass, tops)
}

/// One recompute pass over members (each member: top-20 projects, then top-20 partners).
#[derive(Debug, Clone)]
pub struct Pass {
    pub threads: usize,
    pub done: usize,
    pub total: usize,
    pub elapsed: Duration,
    pub projects: Latencies,
    pub partners: Latencies,
    /// Mean number of results scored (before keeping 20).
    pub projects_scored: f64,
    pub partners_scored: f64,
    /// Summed over threads: seconds on a CPU, and seconds runnable but waiting for one (another process had it).
    pub cpu_secs: f64,
    pub wait_secs: f64,
}

impl Pass {
    pub fn complete(&self) -> bool {
        self.done == self.total
    }

    /// Seconds for all `total` members: measured if the pass completed, else extrapolated from the members done.
    pub fn total_secs(&self) -> f64 {
        if self.done == 0 {
            return f64::NAN;
        }
        self.elapsed.as_secs_f64() * self.total as f64 / self.done as f64
    }

    /// Share of the pass's threads' time spent running: below 100% is the shared machine's contention.
    pub fn on_cpu(&self) -> f64 {
        self.cpu_secs / (self.cpu_secs + self.wait_secs).max(f64::MIN_POSITIVE)
    }

    /// Extrapolated total of one side, from the latencies (summed per thread, divided by threads).
    pub fn side_secs(&self, side: &Latencies) -> f64 {
        side.mean_ms() / 1e3 * self.total as f64 / self.threads as f64
    }

    pub fn describe(&self) -> String {
        if self.complete() {
            format!("{:.1} s measured ({} members)", self.total_secs(), self.total)
        } else {
            format!(
                "{:.1} s extrapolated from {} of {} members ({:.1} s measured)",
                self.total_secs(),
                self.done,
                self.total,
                self.elapsed.as_secs_f64()
            )
        }
    }
}

/// One thread's rows (two latencies, two counts per item) and its (on-CPU, waiting) ns.
type ThreadRows = (Vec<[u64; 4]>, (u64, u64));

/// Run `work` for each item of `order` on `threads` threads, stopping when `budget` is spent (at item granularity).
/// `work` returns the latencies of its two parts in ns and how many results each scored.
fn run<F>(order: &[usize], threads: usize, budget: Option<Duration>, work: F) -> (Duration, Vec<[u64; 4]>, (f64, f64))
where
    F: Fn(usize) -> [u64; 4] + Sync,
{
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let rows: Vec<ThreadRows> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let (cpu0, wait0) = thread_sched_ns();
                    let mut rows = Vec::new();
                    loop {
                        if budget.is_some_and(|b| start.elapsed() >= b) {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&item) = order.get(i) else { break };
                        rows.push(work(item));
                    }
                    let (cpu1, wait1) = thread_sched_ns();
                    (rows, (cpu1.saturating_sub(cpu0), wait1.saturating_sub(wait0)))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let elapsed = start.elapsed();
    let sched = rows.iter().fold((0.0, 0.0), |(c, w), (_, (dc, dw))| (c + *dc as f64 / 1e9, w + *dw as f64 / 1e9));
    let rows: Vec<[u64; 4]> = rows.into_iter().flat_map(|(r, _)| r).collect();
    (elapsed, rows, sched)
}

fn pass(threads: usize, total: usize, elapsed: Duration, rows: &[[u64; 4]], sched: (f64, f64)) -> Pass {
    let mean = |k: usize| {
        if rows.is_empty() { 0.0 } else { rows.iter().map(|r| r[k] as f64).sum::<f64>() / rows.len() as f64 }
    };
    Pass {
        threads,
        done: rows.len(),
        total,
        elapsed,
        projects: Latencies::new(rows.iter().map(|r| r[0]).collect()),
        partners: Latencies::new(rows.iter().map(|r| r[1]).collect()),
        projects_scored: mean(2),
        partners_scored: mean(3),
        cpu_secs: sched.0,
        wait_secs: sched.1,
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Every member's top-20 projects and top-20 partners, through the index.
pub fn recompute(
    index: &MatchIndex,
    vocab: &Vocabulary,
    members: &[Uuid],
    order: &[usize],
    threads: usize,
    budget: Option<Duration>,
) -> Pass {
    let now = super::generator::now();
    let (elapsed, rows, sched) = run(order, threads, budget, |i| {
        let id = members[i];
        let t0 = Instant::now();
        let (p, np) = top20_projects(index, vocab, id, now);
        let t1 = Instant::now();
        let (q, nq) = top20_partners(index, vocab, id);
        let t2 = Instant::now();
        black_box((p, q));
        [ns(t1 - t0), ns(t2 - t1), np as u64, nq as u64]
    });
    pass(threads, order.len(), elapsed, &rows, sched)
}

/// The same with the naive baseline, over a sample of members; `total` is the number of members to extrapolate to.
pub fn naive_recompute(
    corpus: &NaiveCorpus,
    sample: &[usize],
    total: usize,
    threads: usize,
    budget: Option<Duration>,
) -> Pass {
    let (elapsed, rows, sched) = run(sample, threads, budget, |i| {
        let t0 = Instant::now();
        let p = naive::top20_projects(corpus, i);
        let t1 = Instant::now();
        let q = naive::top20_partners(corpus, i);
        let t2 = Instant::now();
        let counts = [p.len() as u64, q.len() as u64];
        black_box((p, q));
        [ns(t1 - t0), ns(t2 - t1), counts[0], counts[1]]
    });
    // The sample stands for all members: its time is scaled up to `total`.
    pass(threads, total, elapsed, &rows, sched)
}

/// Bytes of one term list's heap (payload only: no allocator overhead).
fn terms_bytes(terms: &Vec<Term>) -> usize {
    terms.capacity() * size_of::<Term>() + terms.iter().map(|t| t.text.capacity()).sum::<usize>()
}

fn opt_bytes(s: Option<&String>) -> usize {
    s.map_or(0, String::capacity)
}

/// Payload bytes of a member profile in the index (Arc counters included).
pub fn member_bytes(m: &MemberProfile) -> usize {
    2 * size_of::<usize>()
        + size_of::<MemberProfile>()
        + m.name.capacity()
        + m.country.capacity()
        + opt_bytes(m.city.as_ref())
        + opt_bytes(m.website.as_ref())
        + m.sectors.capacity() * size_of::<matchmaker::domain::member::Sector>()
        + m.scopes.capacity() * size_of::<matchmaker::domain::member::Scope>()
        + terms_bytes(&m.offers)
        + terms_bytes(&m.needs)
        + terms_bytes(&m.interests)
}

pub fn project_bytes(p: &ProjectProfile) -> usize {
    2 * size_of::<usize>()
        + size_of::<ProjectProfile>()
        + p.title.capacity()
        + p.sectors.capacity() * size_of::<matchmaker::domain::member::Sector>()
        + terms_bytes(&p.required)
        + terms_bytes(&p.themes)
        + p.eligible_countries.capacity() * size_of::<String>()
        + p.eligible_countries.iter().map(String::capacity).sum::<usize>()
}

/// Payload bytes of every profile the index holds (a walk of the values, not a measurement).
pub fn profiles_bytes(index: &MatchIndex, members: &[Uuid], projects: &[Uuid]) -> usize {
    members.iter().filter_map(|id| index.member(*id)).map(|m| member_bytes(m)).sum::<usize>()
        + projects.iter().filter_map(|id| index.project(*id)).map(|p| project_bytes(p)).sum::<usize>()
}
