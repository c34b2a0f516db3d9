//! What `validate` accepts, `run` must not panic on: values at the edges the model assumes
//! (non-zero, finite, min ≤ max after every scheduled change). Each test is named for the bug.

use scalesim::scenario;

const BASE: &str = r#"[scenario]
name = "edges"
duration = "3m"
seed = 1

[workload]
users = 5
think_time = { dist = "exponential", mean = "2s" }

[components.web]
kind = "server"
instance = "c5.large"
service = { dist = "exponential", mean = "20ms" }
"#;

fn with(extra_workload: &str, components: &str) -> String {
    BASE.replace(
        "[components.web]",
        &format!("{extra_workload}\n{components}\n[components.web]"),
    )
}

#[test]
fn bot_work_that_is_nan_negative_or_zero_is_rejected() {
    // Before: accepted, and the bots silently cost no CPU (or a debug build panicked in time.rs).
    for work in ["nan", "-5.0", "0.0"] {
        let text = with(
            &format!("bots = [{{ name = \"crawler\", rate = \"5/s\", work = {work} }}]"),
            "",
        );
        let e = scenario::parse("edges", &text, &[]).expect_err(work);
        let d = &e.diagnostics[0];
        assert_eq!(d.key_path.as_deref(), Some("workload.bots[0].work"), "{e}");
        assert!(d.message.contains("work must be a positive number"), "{e}");
    }
}

#[test]
fn an_erlang_delay_with_mean_zero_runs_instead_of_panicking() {
    // A zero mean is allowed for an open loop's think time and a DNS lookup; the gamma sampler
    // panicked on it ("ScaleTooSmall").
    let text = BASE
        .replace("users = 5", "arrival_rate = \"20/s\"")
        .replace(
            "think_time = { dist = \"exponential\", mean = \"2s\" }",
            "think_time = { dist = \"erlang\", mean = \"0s\", k = 3 }",
        );
    let scn = scenario::parse("edges", &text, &[]).expect("valid");
    let out = scalesim::run::run(&scn, &mut |_| {});
    assert!(out.metrics.ended > 1_000);
    assert_eq!(out.metrics.started, out.metrics.ended + out.open_at_end);

    let dns = r#"[components.dns]
kind = "dns"
record = "web"
lookup_time = { dist = "erlang", mean = "0s", k = 2 }
"#;
    let text = with("target = \"dns\"", dns);
    let scn = scenario::parse("edges", &text, &[]).expect("valid");
    let out = scalesim::run::run(&scn, &mut |_| {});
    assert!(out.metrics.ended > 100);
}

#[test]
fn a_scheduled_min_above_max_is_rejected_where_it_happens() {
    // Before: validated, then the run panicked in the fleet ("min > max") when the action fired.
    let fleet = |schedule: &str| {
        BASE.replace(
            "[components.web]\nkind = \"server\"",
            &format!("[components.web]\nkind = \"fleet\"\nmin = 1\nmax = 6\nschedule = {schedule}"),
        )
    };
    let e = scenario::parse("edges", &fleet("[{ at = \"1m\", min = 8 }]"), &[])
        .expect_err("min 8 > max 6");
    assert_eq!(
        e.diagnostics[0].key_path.as_deref(),
        Some("components.web.schedule[0]"),
        "{e}"
    );
    // Listed out of time order: the max of 3 (at 1m) comes first, then the min of 5 (at 2m).
    let e = scenario::parse(
        "edges",
        &fleet("[{ at = \"2m\", min = 5 }, { at = \"1m\", max = 3 }]"),
        &[],
    )
    .expect_err("min 5 > max 3 from 2m on");
    let d = &e.diagnostics[0];
    assert_eq!(
        d.key_path.as_deref(),
        Some("components.web.schedule[0]"),
        "{e}"
    );
    assert!(
        d.message.contains("min (5) would exceed its max (3)"),
        "{e}"
    );
    // Raising both together is fine.
    let ok = scenario::parse(
        "edges",
        &fleet("[{ at = \"1m\", max = 3 }, { at = \"2m\", min = 5, max = 6 }]"),
        &[],
    )
    .expect("valid");
    let out = scalesim::run::run(&ok, &mut |_| {});
    assert_eq!(out.metrics.started, out.metrics.ended + out.open_at_end);
}

#[test]
fn explain_of_a_component_name_past_65535_characters_does_not_panic() {
    // `{:<w$}` with w > 65,535 panicked while padding the components' column.
    let name = "w".repeat(70_000);
    let text = BASE.replace("[components.web]", &format!("[components.{name}]"));
    let scn = scenario::parse("edges", &text, &[]).expect("valid");
    let out = scalesim::explain::explain(&scn);
    assert!(out.contains(&name));
    assert_eq!(
        scalesim::explain::explain(&scenario::parse("edges", BASE, &[]).expect("valid"))
            .lines()
            .nth(3)
            .map(str::to_string),
        Some("  users  clients        5 users, think exponential(mean 2s)".to_string()),
        "short names keep their column"
    );
}
