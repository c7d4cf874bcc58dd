//! Matching benchmarks (criterion; not run in CI) on a pinned synthetic cluster of 50,000 members and 10,000 open
//! projects: single queries, fuzzy normalisation, full recomputes and index memory, each beside a naive baseline
//! (raw `strsim` on the strings, over every candidate) measured in the same run.
//!
//! `cargo bench --bench matching` runs everything (about 7–8 minutes on 2 cores) and prints a summary, also written to
//! `target/bench-summary.txt`. The one-off recompute passes are time-boxed (75 s with one thread, 45 s with two, 45 s
//! for the naive sample); a pass cut short is extrapolated from the members it did, and labelled so.
//! `MATCHING_BENCH_BUDGET_SECS=0` lets every pass run to the end (any other number: that budget for each pass).
//! `cargo bench --bench matching -- --test` is a quick smoke run on a small cluster.
//!
//! Memory is read from `/proc/self/status` (`RssAnon`) in a child process that only builds the index: the crate
//! forbids `unsafe_code`, which a counting `#[global_allocator]` would need.
//!
//! A single query is one member's top 20 as a page: `MatchIndex::top_projects_for_member` /
//! `top_partners_for_member`, the 20 explained. The full recompute is `MatchIndex::recompute_all` on 2 threads; its
//! top 20 are checked against the single queries' on a sample of members (the run fails if any differs).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark binary: failing loudly is what it should do")]
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod common;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::anatomy;
use common::generator::{self, Generator, Rng, SEED, TermStats};
use common::measure::{self, Latencies, Pass, status_kib};
use common::naive::{self, NaiveCorpus, NaiveLabels};
use criterion::{Criterion, SamplingMode, Throughput};
use matchmaker::matching::MatchIndex;
use matchmaker::matching::model::Weights;
use matchmaker::matching::vocabulary::{ConceptIdx, Vocabulary};
use uuid::Uuid;

/// Set in the child process that measures the index's memory: `members:projects`.
const CHILD_ENV: &str = "MATCHING_BENCH_MEMORY_CHILD";
const BUDGET_ENV: &str = "MATCHING_BENCH_BUDGET_SECS";

/// The targets.
const QUERY_P50_MS: f64 = 1.0;
const RECOMPUTE_S: f64 = 20.0;
const FUZZY_TERMS_PER_S: f64 = 20_000.0;
const INDEX_MB: f64 = 500.0;

const INDEX_ID: &str = "index";
const NAIVE_ID: &str = "strsim_every_candidate";

#[derive(Debug, Clone, Copy)]
struct Scale {
    members: usize,
    projects: usize,
    /// Members the naive recompute runs on (then extrapolated to all).
    naive_sample: usize,
    fuzzy_batch: usize,
    /// The naive normalisation compares with every label: a smaller batch keeps its run short.
    naive_fuzzy_batch: usize,
    /// Members the single-query benchmarks cycle through.
    queries: usize,
    /// Members whose recomputed top 20 are compared with their single queries'.
    check: usize,
    /// Budgets of the one-off passes: single queries on 1 thread, (unused), naive sample.
    budgets: [Option<Duration>; 3],
}

const FULL: Scale = Scale {
    members: 50_000,
    projects: 10_000,
    naive_sample: 500,
    fuzzy_batch: 1_000,
    naive_fuzzy_batch: 20,
    queries: 1_000,
    check: 500,
    budgets: [Some(Duration::from_secs(75)), Some(Duration::from_secs(45)), Some(Duration::from_secs(45))],
};

const SMOKE: Scale = Scale {
    members: 2_000,
    projects: 400,
    naive_sample: 10,
    fuzzy_batch: 100,
    naive_fuzzy_batch: 5,
    queries: 50,
    check: 200,
    budgets: [None, None, Some(Duration::from_secs(10))],
};

/// Everything the benchmarks share.
struct Setup {
    vocab: Vocabulary,
    index: MatchIndex,
    members: Vec<Uuid>,
    projects: Vec<Uuid>,
    /// Member positions in a pinned random order: queries, the recompute order, the naive sample.
    order: Vec<usize>,
    typos: Vec<(String, ConceptIdx)>,
    naive: NaiveCorpus,
    labels: NaiveLabels,
    stats: TermStats,
    skills: usize,
    topics: usize,
    themes_from_skills: bool,
    head_share: f64,
    build_secs: f64,
}

fn setup(scale: Scale) -> Setup {
    let vocab = Vocabulary::shipped().expect("the shipped vocabulary loads");
    let started = Instant::now();
    let mut g = Generator::new(&vocab, SEED);
    let mut index = MatchIndex::new(Weights::default(), vocab.len());
    let mut members = Vec::with_capacity(scale.members);
    let mut projects = Vec::with_capacity(scale.projects);
    g.populate(&mut index, scale.members, scale.projects, &mut members, &mut projects);
    let build_secs = started.elapsed().as_secs_f64();
    let stats = g.stats;
    g.switch_stream(3);
    let typos = g.typo_batch(scale.fuzzy_batch);
    let mut order: Vec<usize> = (0..members.len()).collect();
    Rng::stream(SEED, 4).shuffle(&mut order);
    let naive = NaiveCorpus::from_index(&index, &members, &projects);
    let labels = NaiveLabels::new(&vocab);
    let (skills, topics, themes_from_skills, head_share) =
        (g.skill_count(), g.topic_count(), g.themes_from_skills, g.head_share());
    Setup {
        vocab,
        index,
        members,
        projects,
        order,
        typos,
        naive,
        labels,
        stats,
        skills,
        topics,
        themes_from_skills,
        head_share,
        build_secs,
    }
}

/// Memory, in KiB of anonymous resident memory, as the child process measured it.
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    vocab_kib: u64,
    index_kib: u64,
    peak_kib: u64,
    naive_kib: u64,
    profiles_bytes: u64,
}

/// The child process: load the vocabulary, build the index (generating one profile at a time), read the memory.
fn memory_child(spec: &str) {
    let mut parts = spec.split(':').map(|s| s.parse::<usize>().expect("members:projects"));
    let (m, p) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let anon = || status_kib("RssAnon").expect("/proc/self/status has RssAnon");
    let a0 = anon();
    let vocab = Vocabulary::shipped().expect("the shipped vocabulary loads");
    let a1 = anon();
    let mut g = Generator::new(&vocab, SEED);
    let mut members = Vec::with_capacity(m);
    let mut projects = Vec::with_capacity(p);
    let mut index = MatchIndex::new(Weights::default(), vocab.len());
    let a2 = anon();
    g.populate(&mut index, m, p, &mut members, &mut projects);
    let a3 = anon();
    let peak = status_kib("VmHWM").unwrap_or(0);
    let walked = measure::profiles_bytes(&index, &members, &projects);
    let corpus = NaiveCorpus::from_index(&index, &members, &projects);
    let a4 = anon();
    black_box((&corpus, &index, &vocab));
    println!(
        "MEMORY {} {} {} {} {}",
        a1.saturating_sub(a0),
        a3.saturating_sub(a2),
        peak,
        a4.saturating_sub(a3),
        walked
    );
}

/// Start the child that measures memory; it runs while this process builds its own copy of the cluster.
fn spawn_memory_child(scale: Scale) -> Option<Child> {
    let exe = std::env::current_exe().ok()?;
    Command::new(exe)
        .env(CHILD_ENV, format!("{}:{}", scale.members, scale.projects))
        .stdout(Stdio::piped())
        .spawn()
        .ok()
}

fn collect_memory(child: Option<Child>) -> Option<Memory> {
    let out = child?.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("MEMORY "))?;
    let v: Vec<u64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    (v.len() == 5).then(|| Memory {
        vocab_kib: v[0],
        index_kib: v[1],
        peak_kib: v[2],
        naive_kib: v[3],
        profiles_bytes: v[4],
    })
}

fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // target/<profile>/deps/matching-<hash>
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn run_criterion(c: &mut Criterion, s: &Setup, scale: Scale) {
    let now = generator::now();
    let queries: Vec<usize> = s.order.iter().copied().take(scale.queries).collect();
    let secs = Duration::from_secs;

    let mut g = c.benchmark_group("top20_projects_for_member");
    g.sampling_mode(SamplingMode::Flat).sample_size(30).warm_up_time(secs(1)).measurement_time(secs(4));
    let mut k = 0;
    g.bench_function(INDEX_ID, |b| {
        b.iter(|| {
            k += 1;
            measure::top20_projects(&s.index, &s.vocab, s.members[queries[k % queries.len()]], now)
        });
    });
    g.finish();

    let mut g = c.benchmark_group("top20_partners_for_member");
    g.sampling_mode(SamplingMode::Flat).sample_size(20).warm_up_time(secs(1)).measurement_time(secs(8));
    let mut k = 0;
    g.bench_function(INDEX_ID, |b| {
        b.iter(|| {
            k += 1;
            measure::top20_partners(&s.index, &s.vocab, s.members[queries[k % queries.len()]])
        });
    });
    g.finish();

    let mut g = c.benchmark_group("normalise_fuzzy");
    g.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(secs(1)).measurement_time(secs(4));
    g.throughput(Throughput::Elements(s.typos.len() as u64));
    g.bench_function(INDEX_ID, |b| {
        b.iter(|| {
            for (t, _) in &s.typos {
                black_box(s.vocab.normalise(black_box(t)));
            }
        });
    });
    g.finish();

    let mut g = c.benchmark_group("naive_top20_projects");
    g.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(secs(1)).measurement_time(secs(5));
    let mut k = 0;
    g.bench_function(NAIVE_ID, |b| {
        b.iter(|| {
            k += 1;
            naive::top20_projects(&s.naive, queries[k % queries.len()])
        });
    });
    g.finish();

    let mut g = c.benchmark_group("naive_top20_partners");
    g.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(secs(1)).measurement_time(secs(20));
    let mut k = 0;
    g.bench_function(NAIVE_ID, |b| {
        b.iter(|| {
            k += 1;
            naive::top20_partners(&s.naive, queries[k % queries.len()])
        });
    });
    g.finish();

    let few = &s.typos[..scale.naive_fuzzy_batch.min(s.typos.len())];
    let mut g = c.benchmark_group("naive_normalise");
    g.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(secs(1)).measurement_time(secs(10));
    g.throughput(Throughput::Elements(few.len() as u64));
    g.bench_function(NAIVE_ID, |b| {
        b.iter(|| {
            for (t, _) in few {
                black_box(s.labels.normalise(black_box(t), s.vocab.fuzzy_threshold));
            }
        });
    });
    g.finish();
}

/// The median time of one iteration (ns) criterion saved in this run, if it did.
fn criterion_median_ns(dir: &Path, group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(id).join("new").join("estimates.json");
    let fresh = std::fs::metadata(&path).and_then(|m| m.modified()).is_ok_and(|t| t >= since);
    if !fresh {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// Terms per second of a normaliser over a batch, the best of a few timed runs.
fn terms_per_sec(batch: &[(String, ConceptIdx)], runs: usize, f: impl Fn(&str)) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        for (term, _) in batch {
            f(term);
        }
        best = best.min(t.elapsed());
    }
    batch.len() as f64 / best.as_secs_f64()
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}

fn ms(x: f64) -> String {
    if x.is_nan() {
        "n/a".to_owned()
    } else if x >= 100.0 {
        format!("{x:.0} ms")
    } else if x >= 1.0 {
        format!("{x:.2} ms")
    } else {
        format!("{:.0} µs", x * 1e3)
    }
}

fn opt_ms(ns: Option<f64>) -> String {
    ns.map_or_else(|| "n/a".to_owned(), |n| ms(n / 1e6))
}

fn rate(x: f64) -> String {
    if x.is_nan() { "n/a".to_owned() } else { format!("{x:.0} terms/s") }
}

fn mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

fn pass_row(out: &mut String, name: &str, p: &Pass) {
    let l = |x: &Latencies| format!("{} / {} / {}", ms(x.pct_ms(50.0)), ms(x.pct_ms(95.0)), ms(x.pct_ms(99.0)));
    let _ = writeln!(
        out,
        "| {name} | {} | {:.0}% | {} | {} | {:.0} | {:.0} |",
        p.describe(),
        p.on_cpu() * 100.0,
        l(&p.projects),
        l(&p.partners),
        p.projects_scored,
        p.partners_scored
    );
}

/// Everything measured, for the report.
struct Results {
    benchmarking: bool,
    scale: Scale,
    load: (String, String),
    memory: Option<Memory>,
    one: Pass,
    two: Pass,
    naive_two: Pass,
    naive_sample: usize,
    criterion: [Option<f64>; 6],
    fuzzy_once: f64,
    naive_fuzzy_once: f64,
    naive_fuzzy_batch: usize,
    fuzzy_right: usize,
    fuzzy_free: usize,
    naive_right: usize,
    fuzzy_work: anatomy::FuzzyWork,
    head: (f64, f64),
    /// Members whose recomputed top 20 (projects, partners) equal their single queries', of `checked`.
    same_projects: usize,
    same_partners: usize,
    checked: usize,
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        memory_child(&spec);
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let benchmarking = has("--bench") && !has("--test") && !has("--list");
    let mut scale = if benchmarking { FULL } else { SMOKE };
    if let Some(secs) = std::env::var(BUDGET_ENV).ok().and_then(|v| v.parse::<u64>().ok()) {
        scale.budgets = [(secs > 0).then(|| Duration::from_secs(secs)); 3];
    }
    let load_start = measure::loadavg();
    let run_started = SystemTime::now();

    let child = if has("--list") { None } else { spawn_memory_child(scale) };
    eprintln!("matching bench: generating {} members and {} projects…", scale.members, scale.projects);
    let s = setup(scale);
    eprintln!("matching bench: built in {:.1} s; waiting for the memory measurement…", s.build_secs);
    let memory = collect_memory(child);

    let criterion_dir = target_dir().join("criterion");
    let mut c =
        Criterion::default().configure_from_args().output_directory(&criterion_dir).nresamples(10_000).without_plots();
    run_criterion(&mut c, &s, scale);
    c.final_summary();
    if has("--list") {
        return;
    }

    // One-off passes.
    let few = &s.typos[..scale.naive_fuzzy_batch.min(s.typos.len())];
    let fuzzy_once = terms_per_sec(&s.typos, 5, |t| {
        black_box(s.vocab.normalise(t));
    });
    let naive_fuzzy_once = terms_per_sec(few, 1, |t| {
        black_box(s.labels.normalise(t, s.vocab.fuzzy_threshold));
    });
    let fuzzy_right = s.typos.iter().filter(|(t, c)| s.vocab.normalise(t).concept == Some(*c)).count();
    let fuzzy_free = s.typos.iter().filter(|(t, _)| s.vocab.normalise(t).concept.is_none()).count();
    let naive_right = few.iter().filter(|(t, c)| s.labels.normalise(t, s.vocab.fuzzy_threshold) == Some(*c)).count();

    eprintln!("matching bench: single queries one member after another, 1 thread…");
    let one = measure::recompute(&s.index, &s.vocab, &s.members, &s.order, 1, scale.budgets[0]);
    eprintln!("matching bench: full recompute (MatchIndex::recompute_all), 2 threads…");
    let (two, tops) = measure::batch_recompute(&s.index, &s.vocab, 2);
    assert_eq!(tops.len(), s.members.len(), "the recompute covers every member");
    eprintln!("matching bench: the recompute's top 20 against single queries…");
    let by_member: std::collections::HashMap<Uuid, &matchmaker::matching::index::MemberTops> =
        tops.iter().map(|t| (t.member, t)).collect();
    let (mut same_projects, mut same_partners, mut checked) = (0, 0, 0);
    for &i in s.order.iter().take(scale.check) {
        let id = s.members[i];
        let top = by_member[&id];
        let ranked = |v: Vec<matchmaker::matching::index::Scored>| v.into_iter().map(|x| (x.id, x.score)).collect();
        let single: Vec<(Uuid, f64)> = ranked(measure::top20_projects(&s.index, &s.vocab, id, generator::now()).0);
        let batch: Vec<(Uuid, f64)> = top.projects.iter().map(|r| (r.id, r.score)).collect();
        same_projects += usize::from(single == batch);
        let single: Vec<(Uuid, f64)> = ranked(measure::top20_partners(&s.index, &s.vocab, id).0);
        let batch: Vec<(Uuid, f64)> = top.partners.iter().map(|r| (r.id, r.score)).collect();
        same_partners += usize::from(single == batch);
        checked += 1;
    }
    assert!(
        same_projects == checked && same_partners == checked,
        "the recompute differs from single queries: projects {same_projects}/{checked}, partners {same_partners}/{checked}"
    );
    drop(by_member);
    drop(tops);
    eprintln!("matching bench: naive recompute on a sample, 2 threads…");
    let sample = &s.order[..scale.naive_sample.min(s.order.len())];
    let naive_two = measure::naive_recompute(&s.naive, sample, s.members.len(), 2, scale.budgets[2]);
    let fuzzy_work = anatomy::fuzzy_work(&s.vocab, &s.typos);
    let head = anatomy::head_shares(&s.index, &s.members);
    let load_end = measure::loadavg();

    // Criterion's medians (ns per iteration; for a query, one random member per iteration).
    let med = |group: &str, id: &str| criterion_median_ns(&criterion_dir, group, id, run_started);
    let criterion = [
        med("top20_projects_for_member", INDEX_ID),
        med("top20_partners_for_member", INDEX_ID),
        med("normalise_fuzzy", INDEX_ID).map(|ns| s.typos.len() as f64 / (ns / 1e9)),
        med("naive_top20_projects", NAIVE_ID),
        med("naive_top20_partners", NAIVE_ID),
        med("naive_normalise", NAIVE_ID).map(|ns| few.len() as f64 / (ns / 1e9)),
    ];
    let r = Results {
        benchmarking,
        scale,
        load: (load_start, load_end),
        memory,
        one,
        two,
        naive_two,
        naive_sample: sample.len(),
        criterion,
        fuzzy_once,
        naive_fuzzy_once,
        naive_fuzzy_batch: few.len(),
        fuzzy_right,
        fuzzy_free,
        naive_right,
        fuzzy_work,
        head,
        same_projects,
        same_partners,
        checked,
    };
    let out = report(&s, &r);
    println!("\n{out}");
    if benchmarking {
        let path = target_dir().join("bench-summary.txt");
        match std::fs::write(&path, &out) {
            Ok(()) => eprintln!("matching bench: summary written to {}", path.display()),
            Err(e) => eprintln!("matching bench: could not write {}: {e}", path.display()),
        }
    }
}

fn pct(n: usize, of: usize) -> f64 {
    100.0 * n as f64 / of.max(1) as f64
}

#[expect(clippy::too_many_lines, reason = "one report, read top to bottom")]
fn report(s: &Setup, r: &Results) -> String {
    let [c_projects, c_partners, c_fuzzy, c_naive_projects, c_naive_partners, c_naive_fuzzy] = r.criterion;
    let (one, two, naive_two) = (&r.one, &r.two, &r.naive_two);
    let projects_p50 = one.projects.pct_ms(50.0);
    let partners_p50 = one.partners.pct_ms(50.0);
    let fuzzy = c_fuzzy.unwrap_or(r.fuzzy_once);
    let naive_fuzzy = c_naive_fuzzy.unwrap_or(r.naive_fuzzy_once);
    let recompute = two.total_secs();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Cluster Matchmaker: matching benchmarks{}",
        if r.benchmarking { "" } else { " (SMOKE RUN, small cluster)" }
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Pinned seed {SEED:#018x}; {} members, {} open projects; vocabulary {} concepts ({} skills, {} themes{}), {} labels; \
         Zipf s = {} over concept ranks (the most popular skill is drawn {:.1}% of the time; the most offered concept is \
         offered by {:.0}% of members, the most needed needed by {:.0}%); {:.0}% of terms varied.",
        s.members.len(),
        s.projects.len(),
        s.vocab.len(),
        s.skills,
        if s.themes_from_skills { 0 } else { s.topics },
        if s.themes_from_skills { ": interests and themes drawn from the skills" } else { "" },
        s.vocab.label_count(),
        generator::ZIPF_S,
        s.head_share * 100.0,
        r.head.0 * 100.0,
        r.head.1 * 100.0,
        generator::VARIATION_RATE * 100.0
    );
    let st = &s.stats;
    let _ = writeln!(
        out,
        "Terms: {} written, {} varied; normalised exact {:.1}%, synonym {:.1}%, fuzzy {:.1}%, partial {:.1}%, free {:.1}%; \
         {:.2}% resolved to another concept than meant. Generated and indexed in {:.1} s.",
        st.written,
        st.varied,
        pct(st.exact, st.written),
        pct(st.synonym, st.written),
        pct(st.fuzzy, st.written),
        pct(st.partial, st.written),
        pct(st.free, st.written),
        pct(st.other_concept, st.written),
        s.build_secs
    );
    let _ = writeln!(
        out,
        "Machine: {} CPUs, shared with other work: load average {} at start, {} at end; the recompute passes' threads \
         were on a CPU {:.0}% (1 thread) and {:.0}% (2 threads) of the time they wanted one.",
        std::thread::available_parallelism().map_or(0, usize::from),
        r.load.0,
        r.load.1,
        one.on_cpu() * 100.0,
        two.on_cpu() * 100.0
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "## Summary");
    let _ = writeln!(out);
    let _ = writeln!(out, "| Target | Goal | Measured | Naive baseline (same run) | Result |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    let _ = writeln!(
        out,
        "| One member's top-20 projects, p50 | ≤ {QUERY_P50_MS} ms | {} (p95 {}, p99 {}; {} random members, 1 thread; criterion median {}) | {} (criterion median) | {} |",
        ms(projects_p50),
        ms(one.projects.pct_ms(95.0)),
        ms(one.projects.pct_ms(99.0)),
        one.projects.len(),
        opt_ms(c_projects),
        opt_ms(c_naive_projects),
        verdict(projects_p50 <= QUERY_P50_MS)
    );
    let _ = writeln!(
        out,
        "| One member's top-20 partners, p50 | ≤ {QUERY_P50_MS} ms | {} (p95 {}, p99 {}; {} random members, 1 thread; criterion median {}) | {} (criterion median) | {} |",
        ms(partners_p50),
        ms(one.partners.pct_ms(95.0)),
        ms(one.partners.pct_ms(99.0)),
        one.partners.len(),
        opt_ms(c_partners),
        opt_ms(c_naive_partners),
        verdict(partners_p50 <= QUERY_P50_MS)
    );
    let _ = writeln!(
        out,
        "| Full recompute: every member's top-20 projects and top-20 partners | ≤ {RECOMPUTE_S} s | `recompute_all`, 2 threads: {} ({:.1} CPU-seconds); single queries one after another, 1 thread: {} | 2 threads: {} (sample: the first {} members of the pinned order) | {} |",
        two.describe(),
        two.cpu_secs,
        one.describe(),
        naive_two.describe(),
        r.naive_sample,
        verdict(recompute <= RECOMPUTE_S)
    );
    let _ = writeln!(
        out,
        "| Fuzzy normalisation (typos needing the fuzzy path) | ≥ {FUZZY_TERMS_PER_S:.0} terms/s | {} (criterion median, {} terms a batch; one-off best of 5: {}) | {} (every label, {} terms a batch) | {} |",
        rate(fuzzy),
        s.typos.len(),
        rate(r.fuzzy_once),
        rate(naive_fuzzy),
        r.naive_fuzzy_batch,
        verdict(fuzzy >= FUZZY_TERMS_PER_S)
    );
    match r.memory {
        Some(m) => {
            let _ = writeln!(
                out,
                "| Index memory ({} members + {} projects, vocabulary excluded) | ≤ {INDEX_MB:.0} MB | {:.1} MB resident growth (vocabulary: {:.1} MB more; process peak {:.1} MB) | {:.1} MB (lower-cased term strings only, no index) | {} |",
                s.members.len(),
                s.projects.len(),
                mb(m.index_kib),
                mb(m.vocab_kib),
                mb(m.peak_kib),
                mb(m.naive_kib),
                verdict(mb(m.index_kib) <= INDEX_MB)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "| Index memory | ≤ {INDEX_MB:.0} MB | not measured (child process failed) | n/a | MISS |"
            );
        }
    }
    let _ = writeln!(out);
    let mut misses = Vec::new();
    if projects_p50 > QUERY_P50_MS {
        misses.push(format!(
            "top-20 projects p50 is {} (×{:.1} the target)",
            ms(projects_p50),
            projects_p50 / QUERY_P50_MS
        ));
    }
    if partners_p50 > QUERY_P50_MS {
        misses.push(format!(
            "top-20 partners p50 is {} (×{:.1} the target)",
            ms(partners_p50),
            partners_p50 / QUERY_P50_MS
        ));
    }
    if recompute.is_nan() || recompute > RECOMPUTE_S {
        misses.push(format!(
            "the full recompute takes {:.0} s on 2 threads{} (×{:.0} the target); of one thread's time, projects {:.0} s and partners {:.0} s",
            recompute,
            if two.complete() { "" } else { ", extrapolated" },
            recompute / RECOMPUTE_S,
            one.side_secs(&one.projects),
            one.side_secs(&one.partners)
        ));
    }
    if fuzzy < FUZZY_TERMS_PER_S {
        misses.push(format!("fuzzy normalisation runs at {} (×{:.1} short)", rate(fuzzy), FUZZY_TERMS_PER_S / fuzzy));
    }
    if let Some(m) = r.memory
        && mb(m.index_kib) > INDEX_MB
    {
        misses.push(format!("the index takes {:.0} MB", mb(m.index_kib)));
    }
    if misses.is_empty() {
        let _ = writeln!(out, "Every target met.");
    } else {
        let _ = writeln!(out, "Missed:");
        for m in &misses {
            let _ = writeln!(out, "- {m}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "## Recompute passes (per member: top-20 projects, then top-20 partners)");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| Pass | Time for all {} members | on a CPU | projects p50 / p95 / p99 | partners p50 / p95 / p99 | projects results per query (mean) | partners results per query (mean) |",
        s.members.len()
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    pass_row(&mut out, "single queries (pages of 20, explained), 1 thread", one);
    pass_row(&mut out, "`recompute_all` (top 20, scores only), 2 threads", two);
    pass_row(&mut out, "naive, 2 threads, sample (extrapolated)", naive_two);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Budgets per pass: {}. Members are taken in a pinned random order, so a pass cut short is a random sample. \
         \"On a CPU\": the share of the threads' time running rather than waiting for a CPU held by other processes (for \
         `recompute_all`, process CPU time over 2 × wall time). Results per query: all results a single query ranked \
         (score > 0); for `recompute_all`, those kept.",
        r.scale
            .budgets
            .iter()
            .map(|b| b.map_or_else(|| "none".to_owned(), |d| format!("{} s", d.as_secs())))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "## Bulk recompute against single queries");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "`MatchIndex::recompute_all` (2 threads; each member's top 20 projects and partners, ids and scores) against \
         single queries (`top_projects_for_member` / `top_partners_for_member`) for the first {} members of the pinned \
         order: the same top 20 (ids, scores, order) for {} members' projects and {} members' partners.",
        r.checked, r.same_projects, r.same_partners
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "## Fuzzy normalisation");
    let _ = writeln!(out);
    let fw = &r.fuzzy_work;
    let _ = writeln!(
        out,
        "{} typo terms (a letter swapped, dropped or doubled in a label of ≥ 6 characters; neither a label nor a stemmed \
         key): the index resolves {:.1}% to the concept meant and leaves {:.1}% free; the naive scan (best of {} labels, \
         ≥ {}) resolves {:.1}% of its {}.",
        s.typos.len(),
        pct(r.fuzzy_right, s.typos.len()),
        pct(r.fuzzy_free, s.typos.len()),
        s.labels.len(),
        s.vocab.fuzzy_threshold,
        pct(r.naive_right, r.naive_fuzzy_batch),
        r.naive_fuzzy_batch
    );
    let _ = writeln!(
        out,
        "A term takes {:.0} µs. It has {:.1} distinct trigrams, whose label postings hold {:.0} entries, {:.0} of them \
         for labels whose length can reach the threshold: one increment each in the candidate count (a flat array of \
         counters, one a label within reach). Then at most 24 candidates (FUZZY_CANDIDATES) are compared, best \
         overlap first, with strsim's Jaro-Winkler and Damerau-Levenshtein ported to run over reused buffers (the same \
         figures; a unit test checks them against strsim), after a bound from character counts skips those that \
         cannot come within the runner-up margin of the threshold, or of the best so far. For scale, strsim's own `similarity` takes {:.2} µs a call on \
         typo/label pairs (≈ {:.0} µs for 24): Jaro-Winkler alone {:.2} µs, normalised Damerau-Levenshtein alone \
         {:.2} µs; the restricted edit distance (`strsim::osa_distance`, normalised) {:.2} µs.",
        1e6 / fuzzy,
        fw.grams,
        fw.postings,
        fw.increments,
        fw.similarity_us,
        24.0 * fw.similarity_us,
        fw.jaro_winkler_us,
        fw.damerau_us,
        fw.osa_us
    );
    if let Some(m) = r.memory {
        let _ = writeln!(out);
        let _ = writeln!(out, "## Memory");
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Measured in a child process as growth of RssAnon (/proc/self/status) while generating and indexing one \
             profile at a time: index {:.1} MB, of which profile payload (walked: structs, strings, term lists; no \
             allocator overhead) {:.1} MB, leaving {:.1} MB for postings, id maps, Arcs and allocator overhead. \
             Vocabulary {:.1} MB. Naive store (lower-cased strings) {:.1} MB.",
            mb(m.index_kib),
            m.profiles_bytes as f64 / 1e6,
            mb(m.index_kib) - m.profiles_bytes as f64 / 1e6,
            mb(m.vocab_kib),
            mb(m.naive_kib)
        );
    }
    out
}
