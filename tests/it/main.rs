//! The integration tests, linked into one binary (`cargo test --test it`; one link instead of one
//! per file). Run one module with a name filter, e.g. `cargo test --test it queueing:: -- --nocapture`.
//! Fixtures live in `tests/fixtures/`, the oracle's sums in `tests/oracle/`.

mod bad_input; // loader errors: broken scenarios are `Err` with file:line:col, key path and a suggestion
mod cache; // the cache: LRU vs Che's approximation, LFU vs top-C, the flush ramp, coalescing in a herd, writes, TTL, bad keys
mod cdn; // regions, round trips, answer sizes, region faults, the CDN: anycast, outages, chapter 14's must-show, bad input
mod check; // `scalesim check` (exit codes, JUnit, JSON, baselines), `explain` and `new` via the binary
mod cli; // the binary's commands: exit codes, output, atomic report folders, determinism, journey --jobs
mod common; // helpers for the modules that run the binary (cli, hardening)
mod compare; // `scalesim compare`: chapter 3 vs 4 under one workload, variants, --own-workloads, --jobs changes no byte, atomic output, bad input
mod database; // the database kind: replica lag and stale reads derived by hand, failover timing, the pool, faults, bad input
mod edges; // every numeric key of the schema at its range edges: refused clearly, or runs clean
mod exercise; // assignments: new --exercise hands out a file that fails; check grades a design passed, over budget, too small, or changed (refused unrun); formats; --handout
mod forensics; // failure forensics: chapter 3's memory first, the retry storm's retries, a healthy run's headroom, chapter 5's death spiral in order
mod fuzz; // a deterministic mutation fuzzer: 20,000 mutated scenarios never panic; accepted ones run clean
mod hardening; // regressions of hard inputs: huge columns, deep --set, closed pipes, --jobs, symlinked outputs, size limits
mod html; // index.html of a run and of the journey: self-contained, every reference resolves, hostile text escaped, the same bytes twice
mod jobs; // scheduled jobs: run lengths derived by hand, the clock, overlap, timeouts, retries, crashes, the live split, bad keys
mod journey; // the journey as a fair experiment: declared changes between chapters (and a doctored pair), one workload, --quick, --users
mod oracle; // the refactoring oracle: every scenario × seeds 1, 7, 42 writes the bytes in tests/oracle/SHA256SUMS
mod plan; // the capacity planner: the pruned search chooses what the exhaustive grid chooses with fewer runs, --jobs changes no byte, infeasible exits 1, bad flags located
mod properties; // proptest: the loader never panics; mutated chapters that load run and conserve requests
mod queueing; // closed forms: M/M/1, M/M/c, M/M/c/c, M/G/1 and Little's law within derived tolerances
mod queues; // queues, worker pools and topics: conservation (and a property), the DLQ, fan-out isolation, chapters 8–10, bad keys
mod resilience; // retry budgets, circuit breakers, load shedding, [variants]; the retry storm stays, and each fix ends it
mod run_edges; // what validate accepts, run must not panic on: values at the edges the model assumes
mod scaleout; // DNS failover, health checks, balancing, autoscaling, faults and cost, derived by hand
mod schema; // the scenario JSON Schema accepts what the loader accepts and rejects what it rejects
mod services; // the API gateway, call graphs, external services and the cpu_bug fault, derived by hand
mod spans; // sampled request spans: trace.json against the Chrome trace event format (JSON Schema, nesting), waterfalls, GIFs decode, results unchanged by tracing
mod sweep; // sweeps: --jobs and --shard change no byte, merge refuses odd shards, intervals shrink as 1/√R and cover Erlang C, check --replications, diff
mod theory; // theory beside the simulation: M/M/c, M/M/1-PS and Erlang B agree within the run's interval; chapter 3, the retry storm and chapter 4 flagged
mod trace; // replaying a trace file: scripted arrivals through each limiter algorithm, derived by hand; the loader's checks
