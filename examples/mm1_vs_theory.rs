//! M/M/1 and M/M/c queues built in code, run at a few utilizations, with the simulated mean wait
//! printed beside the closed form (Erlang C).
//!
//! ```text
//!                      Poisson arrivals, rate λ = ρ · c · μ
//!   users ─────────────────────────────────────┐
//!   (open loop, no network delay,              ▼
//!    no timeout, no retries)          ┌──────────────────┐
//!                                     │ one FIFO backlog │  unbounded: nothing is refused
//!                                     └────────┬─────────┘
//!                              ┌─────────┬─────┴───┬─────────┐
//!                              ▼         ▼         ▼         ▼
//!                           [vCPU 1]  [vCPU 2]   . . .    [vCPU c]   c workers on c vCPUs:
//!                              │         │                   │       exponential service,
//!                              └─────────┴────── done ◄──────┘       mean 1/μ = 10 ms
//! ```
//!
//! With workers = vCPUs every request in service runs at full speed, so the server is exactly c
//! parallel servers fed by one queue. Erlang C gives the chance a request waits and the mean wait:
//! `C = B(c) / (1 − ρ(1 − B(c)))` with the Erlang B recursion `B(k) = a·B(k−1) / (k + a·B(k−1))`,
//! `W_q = C / (cμ − λ)`. For c = 1 that is the M/M/1 `W_q = ρ / (μ − λ)`.
//!
//! Each point simulates one hour (one seed), so expect a few per cent of noise at ρ = 0.9, where
//! waits are long and strongly correlated; `tests/it/queueing.rs` does the same check with
//! replications and derived tolerances.
//!
//! Run: `cargo run --release --example mm1_vs_theory`

use scalesim::report::results::results_json;
use scalesim::scenario;

/// Mean service time, ms (μ = 1000 / SERVICE_MS per second).
const SERVICE_MS: f64 = 10.0;

/// The scenario as TOML text: `c` workers on `c` vCPUs, Poisson arrivals at `lambda` per second.
fn mmc_toml(c: u32, lambda: f64) -> String {
    format!(
        r#"
[scenario]
name = "mm{c}-lambda{lambda}"
duration = "1h"
warmup = "1m"
seed = 1

[workload]
arrival_rate = "{lambda}/s"

[network]
client_rtt = "0s"
internal_rtt = "0s"

[components.queue]
kind = "server"
vcpus = {c}
workers = {c}
backlog = 10_000_000
memory = "64GiB"
memory_per_request = "0B"
service = {{ dist = "exponential", mean = "{SERVICE_MS}ms" }}
"#
    )
}

/// Erlang C: (probability of waiting, mean wait in seconds) for M/M/c.
fn erlang_c(c: u32, lambda: f64, mu: f64) -> (f64, f64) {
    let a = lambda / mu;
    let rho = a / c as f64;
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let p_wait = b / (1.0 - rho * (1.0 - b));
    (p_wait, p_wait / (c as f64 * mu - lambda))
}

fn main() {
    let mu = 1000.0 / SERVICE_MS;
    println!(
        "M/M/c, exponential service with mean {SERVICE_MS} ms (μ = {mu}/s), one hour per point\n"
    );
    println!(
        "{:>2} {:>5} {:>7} | {:>12} {:>12} {:>7} | {:>8} {:>8}",
        "c", "ρ", "λ (/s)", "W_q sim (ms)", "Erlang C", "error", "P(wait)", "Erlang C"
    );
    for c in [1, 4] {
        for rho in [0.5, 0.7, 0.9] {
            let lambda = (rho * c as f64 * mu).round();
            let text = mmc_toml(c, lambda);
            let scn = scenario::parse("mm1_vs_theory.rs", &text, &[])
                .unwrap_or_else(|e| panic!("the generated scenario is invalid:\n{e}\n{text}"));
            let out = scalesim::run::run(&scn, &mut |_| {});
            // results.json's `queue` keys are the stable interface of the entry server's figures.
            let q = &results_json(&scn, &out)["queue"];
            let wait = q["mean_wait_s"].as_f64().expect("queue.mean_wait_s");
            let p_wait = q["wait_probability"]
                .as_f64()
                .expect("queue.wait_probability");
            let (p_exact, w_exact) = erlang_c(c, lambda, mu);
            println!(
                "{c:>2} {rho:>5.2} {lambda:>7.0} | {:>12.3} {:>12.3} {:>+6.1}% | {p_wait:>8.4} {p_exact:>8.4}",
                wait * 1e3,
                w_exact * 1e3,
                (wait / w_exact - 1.0) * 100.0,
            );
        }
    }
    println!("\nPooling: at the same ρ, four servers sharing one queue make requests wait far less than one.");
}
