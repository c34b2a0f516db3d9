//! One workload, three architectures: the same 3,000 users (≈ 375 requests/s) on one small
//! server, on one big server, and on a fleet of small servers behind a load balancer — and, five
//! minutes in, one machine crashes in each. Prints p99, error rate and cost per month.
//!
//! ```text
//!   (a) one small server          (b) one big server            (c) six small servers
//!
//!   3,000 users                   3,000 users                   3,000 users
//!       │                             │                             │
//!       ▼                             ▼                             ▼
//!   ┌────────────┐                ┌─────────────┐              ┌───────────────┐ health checks
//!   │ c5.large   │ 2 vCPU         │ c5.4xlarge  │ 16 vCPU      │ load balancer │ every 10 s
//!   │ $0.085/h   │                │ $0.68/h     │              └───────┬───────┘
//!   └────────────┘                └─────────────┘         ┌──────┬─────┴┬──────┬──────┬──────┐
//!     crashes at 5:00               crashes at 5:00       ▼      ▼      ▼      ▼      ▼      ▼
//!                                                        web[0] web[1] ...                 web[5]
//!                                                        c5.large × 6 (12 vCPU), web[0] crashes at 5:00
//! ```
//!
//! Each request needs 20 ms of CPU on average (lognormal, cv 1), so the load is ≈ 7.5 vCPUs:
//! (a) is overloaded — its backlog fills, requests wait longer than the 5 s timeout, and its CPU
//! goes to requests whose users have already given up, so almost nothing succeeds (congestion
//! collapse); (b) has room but is a single point of failure: while it restarts (60 s) every
//! request fails; (c) has the same headroom as well as redundancy: the balancer stops sending to
//! the crashed instance after two failed health checks and the other five carry the load.
//!
//! Run: `cargo run --release --example one_server_vs_fleet`

use scalesim::report::results::figures;
use scalesim::scenario;

/// The part every architecture shares: 15 simulated minutes, 3,000 users thinking 8 s between
/// clicks, a 5 s timeout, no retries.
fn common(name: &str) -> String {
    format!(
        r#"
[scenario]
name = "{name}"
duration = "15m"
warmup = "1m"
seed = 1

[workload]
users = 3000
think_time = {{ dist = "exponential", mean = "8s" }}
timeout = "5s"
"#
    )
}

/// One server of `instance` that crashes at 5:00.
fn one_server(instance: &str) -> String {
    common(&format!("one-{instance}"))
        + &format!(
            r#"
[components.web]
kind = "server"
instance = "{instance}"
workers = 64
service = {{ dist = "lognormal", mean = "20ms", cv = 1.0 }}

[[faults]]
at = "5m"
kind = "crash"
target = "web"
"#
        )
}

/// `n` servers of `instance` behind a balancer; the first crashes at 5:00.
fn fleet(n: u32, instance: &str) -> String {
    common(&format!("fleet-{n}x-{instance}"))
        + &format!(
            r#"
[components.lb]
kind = "load_balancer"
targets = "web"
algorithm = "least_outstanding"
health_check = {{ interval = "10s", timeout = "2s", unhealthy = 2, healthy = 3 }}

[components.web]
kind = "fleet"
instance = "{instance}"
min = {n}
max = {n}
workers = 64
service = {{ dist = "lognormal", mean = "20ms", cv = 1.0 }}

[[faults]]
at = "5m"
kind = "crash"
target = "web[0]"
"#
        )
}

fn main() {
    let designs = [
        ("one small server (c5.large)", one_server("c5.large")),
        ("one big server (c5.4xlarge)", one_server("c5.4xlarge")),
        ("6 × c5.large behind a balancer", fleet(6, "c5.large")),
    ];
    println!("3,000 users for 15 minutes; one machine crashes at 5:00 in each design\n");
    println!(
        "{:<32} {:>10} {:>10} {:>9} {:>11} {:>12}",
        "architecture", "requests", "p99 (ms)", "errors", "goodput/s", "$ per month"
    );
    for (label, text) in designs {
        let scn = scenario::parse("one_server_vs_fleet.rs", &text, &[])
            .unwrap_or_else(|e| panic!("the generated scenario is invalid:\n{e}\n{text}"));
        let out = scalesim::run::run(&scn, &mut |_| {});
        let f = figures(&out);
        let p99 = if f.latency.is_empty() {
            "—".to_string()
        } else {
            format!("{:.0}", f.latency.value_at_quantile(0.99) as f64 / 1e6)
        };
        let measured_hours = out.measured as f64 / 3.6e12;
        let per_month = f.cost / measured_hours * 730.0;
        println!(
            "{label:<32} {:>10} {p99:>10} {:>8.2}% {:>11.1} {per_month:>12.2}",
            f.total,
            f.error_rate * 100.0,
            f.goodput,
        );
    }
    println!(
        "\nThe small server collapses: requests outwait the 5 s timeout and its CPU serves users who\n\
         have left. The big server answers as fast as the fleet and costs more, and its crash fails\n\
         every request until it restarts; the fleet loses only what was on the crashed instance\n\
         and what the balancer sends it before two health checks fail."
    );
}
