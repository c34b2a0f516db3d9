//! The index.html pages: `run` and `journey` write one; it references only files in its own
//! folder and anchors on the page, loads nothing from the network, escapes what a scenario says
//! (a hostile name and description stay text), and is the same bytes for the same run.
//! (.ci/html-check.sh opens both pages in headless Chromium.)

use crate::common::{expect_code, listing, scalesim, Tmp};
use scalesim::journey::html::{index_html, ChapterText};
use scalesim::journey::{JourneyPoint, QUICK_PLAN};
use std::fs;
use std::path::Path;

const CH1: &str = "scenarios/01-single-server.toml";

/// Every value of `attr="…"` in `html`.
fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let pat = format!(" {attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&pat) {
        let after = &rest[i + pat.len()..];
        let end = after.find('"').expect("a closing quote");
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

/// The page in `dir` loads nothing from outside and every reference resolves: `src`/`href` are
/// files in `dir` or `#id`s of the page. Returns the page.
#[track_caller]
fn assert_self_contained(dir: &Path) -> String {
    let page = fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..80]);
    for scheme in ["http://", "https://", "file:", "data:", "//"] {
        for v in attr_values(&page, "src")
            .into_iter()
            .chain(attr_values(&page, "href"))
        {
            assert!(!v.starts_with(scheme), "a reference to `{v}`");
        }
    }
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no address of any server on the page"
    );
    assert!(!page.contains("<script"), "no script on the page");
    assert!(
        !page.contains("@import") && !page.contains("url("),
        "no fetched style"
    );
    let ids = attr_values(&page, "id");
    for v in attr_values(&page, "href") {
        match v.strip_prefix('#') {
            Some(id) => assert!(ids.contains(&id), "the anchor #{id} is on the page"),
            None => assert!(dir.join(v).is_file(), "{v} is in {}", dir.display()),
        }
    }
    for v in attr_values(&page, "src") {
        assert!(
            dir.join(v).is_file(),
            "{v} is in {}: {:?}",
            dir.display(),
            listing(dir)
        );
    }
    page
}

#[test]
fn a_run_writes_a_self_contained_index_with_every_chart() {
    let tmp = Tmp::new("html-run");
    let o = scalesim(&[
        "run",
        CH1,
        "--set",
        "scenario.duration=10m",
        "--out",
        &tmp.s("r"),
        "-q",
    ]);
    expect_code(&o, 0);
    let dir = tmp.join("r");
    let page = assert_self_contained(&dir);
    let pngs: Vec<String> = listing(&dir)
        .into_iter()
        .filter(|f| f.ends_with(".png"))
        .collect();
    assert!(!pngs.is_empty());
    let srcs = attr_values(&page, "src");
    for png in &pngs {
        assert!(srcs.contains(&png.as_str()), "{png} is shown on the page");
    }
    // Every image has alt text.
    assert_eq!(page.matches("<img ").count(), pngs.len());
    assert_eq!(
        page.matches("<img ").count(),
        page.matches(" alt=\"").count()
    );
    // The header: the chapter's title, its length, users, seed and the --set.
    for want in [
        "Chapter 1: Single server",
        "<code>ch01-single-server</code>",
        "10 min",
        "<dt>seed</dt><dd>42</dd>",
        "--set scenario.duration=10m",
        "<h2 id=\"objectives\">Objectives</h2>",
        "<h2>Summary</h2>",
        "<h3>What happened</h3>",
    ] {
        assert!(page.contains(want), "the page says `{want}`");
    }
    // summary.md's title and description are not said twice.
    assert_eq!(page.matches("Ten users on one small server").count(), 1);
}

#[test]
fn a_run_page_is_the_same_bytes_for_the_same_run() {
    let tmp = Tmp::new("html-run-twice");
    for out in ["a", "b"] {
        expect_code(
            &scalesim(&[
                "run",
                CH1,
                "--set",
                "scenario.duration=5m",
                "--out",
                &tmp.s(out),
                "-q",
            ]),
            0,
        );
    }
    assert_eq!(
        fs::read(tmp.join("a/index.html")).unwrap(),
        fs::read(tmp.join("b/index.html")).unwrap()
    );
}

#[test]
fn a_hostile_scenario_name_and_description_stay_text() {
    let tmp = Tmp::new("html-hostile");
    let text = fs::read_to_string(crate::common::root().join(CH1)).unwrap();
    let text = text
        .replace(
            "name = \"ch01-single-server\"",
            "name = \"<script>alert('name')</script>\"",
        )
        .replacen(
            "description = \"",
            "description = \"<img src=x onerror=alert(1)> & </body> <!-- ",
            1,
        );
    assert!(text.contains("<script>"), "the name was replaced");
    let file = tmp.join("hostile.toml");
    fs::write(&file, text).unwrap();
    let o = scalesim(&[
        "run",
        &file.to_string_lossy(),
        "--set",
        "scenario.duration=5m",
        "--out",
        &tmp.s("r"),
        "-q",
    ]);
    expect_code(&o, 0);
    let page = assert_self_contained(&tmp.join("r"));
    assert!(!page.contains("<script>alert"), "the name is escaped");
    assert!(page.contains("&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;"));
    assert!(!page.contains("<img src=x"), "the description is escaped");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &lt;/body&gt; &lt;!--"));
    assert_eq!(page.matches("</body>").count(), 1);
    assert!(!page.contains("<!--"));
}

fn point(chapter: u32, name: &str, users: u32, p99: f64, errors: f64) -> JourneyPoint {
    JourneyPoint {
        chapter,
        name: name.into(),
        users,
        p99_ms: Some(p99),
        p50_ms: Some(p99 / 4.0),
        error_rate: errors,
        goodput: f64::from(users) / 8.0 * (1.0 - errors),
        offered: f64::from(users) / 8.0,
        cost_per_month: 8.5 * f64::from(chapter),
        truncated: 0,
        settled: true,
        unsettled: Vec::new(),
        busiest: (errors > 0.0).then(|| ("web".to_string(), 0.99)),
        failure: (errors > 0.0).then_some((scalesim::model::request::Outcome::Refused, errors)),
        crashes: None,
        first_failed: (errors > 0.0).then(|| "web's backlog, at 0:00:04 — <full>".to_string()),
        knees: Vec::new(),
    }
}

#[test]
fn the_journey_page_tells_each_chapter_in_order_and_escapes_its_text() {
    let hostile = "<script>alert(\"x\")</script>";
    let chapters = vec![
        ChapterText {
            number: 1,
            name: "ch01-one".into(),
            title: format!("One {hostile}"),
            description: Some(format!("story {hostile}")),
            idea: format!("one machine {hostile}"),
            problem: Some(format!("it fills up {hostile}")),
        },
        ChapterText {
            number: 2,
            name: "ch02-two".into(),
            title: "Two".into(),
            description: None,
            idea: "two machines".into(),
            problem: None,
        },
    ];
    let mut points = Vec::new();
    for (u, p99, e) in [(10, 20.0, 0.0), (100, 40.0, 0.0), (1_000, 4_000.0, 0.3)] {
        points.push(point(1, &format!("ch01-one{hostile}"), u, p99, e));
    }
    for (u, p99, e) in [(10, 20.0, 0.0), (100, 25.0, 0.0), (1_000, 60.0, 0.0)] {
        points.push(point(2, "ch02-two", u, p99, e));
    }
    let files: Vec<String> = ["journey_p99.png", "journey_p99.svg"]
        .map(String::from)
        .to_vec();
    let page = index_html(&chapters, &points, QUICK_PLAN, &files);
    assert!(!page.contains("<script"), "every text is escaped");
    assert!(page.contains("it fills up &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert_eq!(page, index_html(&chapters, &points, QUICK_PLAN, &files));
    // The story in order: chapter 1's problem, what breaks (with numbers), chapter 2's idea as
    // the fix; then chapter 2, which holds at every level and moves the breaking point.
    let at = |s: &str| {
        page.find(s)
            .unwrap_or_else(|| panic!("the page says `{s}`"))
    };
    let order = [
        "<nav class=\"toc\">",
        "id=\"ch1\"",
        "The problem",
        "Meets the objective (p99 under 1 s, at most 1 % failing) up to 100 users. At 1,000 users it breaks: p99 4 s",
        "<td class=\"num\">1,000</td><td class=\"num\">4 s</td><td class=\"num\">30 %</td>",
        "What the next chapter does about it",
        "<a href=\"#ch2\">Chapter 2: Two</a> — two machines.",
        "id=\"ch2\"",
        "Meets the objective (p99 under 1 s, at most 1 % failing) at every level measured, up to 1,000 users.",
        "this one holds at every level",
        "The end of the journey",
        "id=\"charts\"",
        "<img src=\"journey_p99.png\"",
        "id=\"breaking\"",
        "id=\"points\"",
    ];
    let mut last = 0;
    for s in order {
        let i = at(s);
        assert!(i >= last, "`{s}` comes in its place");
        last = i;
    }
    // Two small charts per chapter, inline; the journey's PNGs only where they were drawn.
    assert_eq!(page.matches("<svg class=\"mini\"").count(), 4);
    assert!(!page.contains("journey_errors.png"));
    assert!(page.contains("@media print"));
}

#[test]
fn the_journey_writes_a_self_contained_index_deterministically() {
    let tmp = Tmp::new("html-journey");
    for out in ["a", "b"] {
        let o = scalesim(&[
            "journey",
            "--quick",
            "--users",
            "10,100",
            "--quiet",
            "--out",
            &tmp.s(out),
        ]);
        expect_code(&o, 0);
    }
    let page = assert_self_contained(&tmp.join("a"));
    assert_eq!(
        fs::read(tmp.join("a/index.html")).unwrap(),
        fs::read(tmp.join("b/index.html")).unwrap(),
        "the same journey, the same page"
    );
    for ch in 1..=14 {
        assert!(page.contains(&format!("<section class=\"chapter\" id=\"ch{ch}\">")));
    }
    // Every chapter's problem is told (the scenario files' [scenario.journey] problem).
    assert_eq!(page.matches("<h3>The problem</h3>").count(), 14);
    assert_eq!(page.matches("<svg class=\"mini\"").count(), 28);
    for img in [
        "journey_p99.png",
        "journey_errors.png",
        "journey_cost.png",
        "journey_goodput.png",
    ] {
        assert!(page.contains(&format!("<img src=\"{img}\"")), "{img}");
    }
}
