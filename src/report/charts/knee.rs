//! The journey's knee charts, one per chapter: each server tier's CPU utilization against users
//! (log x), with a dashed vertical line where queueing theory puts its saturation — the users at
//! which λ·E[S] reaches the tier's vCPUs at its largest size (`report::theory`) — and a grey line
//! where the simulation first missed the objective. The "knee" is where a utilization line bends
//! into the 100 % ceiling: latency grows without bound past it.

use super::kit::{
    draw_legend, draw_line, draw_note, fmt_count, fmt_pct, frame, layout, perr, render, Axis,
    Chart, Coord, Entry, Swatch, PALETTE,
};
use crate::journey::{BreakingPoint, JourneyPoint};
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Tiers drawn per chart: the busiest few (the rest hardly move).
const MAX_TIERS: usize = 4;

/// Where theory puts a tier's saturation, read from the chapter's levels: at the busiest level
/// still below saturation (ρ < 0.9, so the measured arrival rate per user is the unhurried one),
/// else at the least busy level.
fn knee_of(pts: &[&JourneyPoint], tier: &str) -> Option<Saturation> {
    let mut at: Vec<(f64, f64, bool)> = pts
        .iter()
        .filter_map(|p| {
            let k = p.knees.iter().find(|k| k.tier == tier)?;
            Some((k.rho, k.saturates_at?, k.by_theory))
        })
        .filter(|(rho, u, _)| rho.is_finite() && u.is_finite() && *u > 0.0)
        .collect();
    at.sort_by(|a, b| a.0.total_cmp(&b.0));
    at.iter()
        .rev()
        .find(|(rho, _, _)| *rho < 0.9)
        .or(at.first())
        .map(|&(_, users, by_theory)| Saturation { users, by_theory })
}

/// Where a tier saturates, and by which reasoning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Saturation {
    /// Users.
    pub users: f64,
    /// Queueing theory's point (from the scenario's service demand), rather than the
    /// utilization law's (users ÷ the measured utilization).
    pub by_theory: bool,
}

/// A chapter's tiers, busiest first (by their highest utilization at any level), at most
/// [`MAX_TIERS`], each with where theory puts its knee.
pub fn chapter_knees(pts: &[&JourneyPoint]) -> Vec<(String, Option<Saturation>)> {
    let mut peak: BTreeMap<&str, f64> = BTreeMap::new();
    for p in pts {
        for k in &p.knees {
            let e = peak.entry(k.tier.as_str()).or_insert(0.0);
            if k.utilization.is_finite() {
                *e = e.max(k.utilization);
            }
        }
    }
    let mut tiers: Vec<(&str, f64)> = peak.into_iter().collect();
    tiers.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    tiers
        .into_iter()
        .take(MAX_TIERS)
        .map(|(t, _)| (t.to_string(), knee_of(pts, t)))
        .collect()
}

/// The users a knee is said at: rounded to two significant figures ("≈ 2,300 users").
pub fn knee_words(users: f64) -> String {
    if !users.is_finite() || users <= 0.0 {
        return "—".into();
    }
    let digits = users.log10().floor() as i32 - 1;
    let unit = 10f64.powi(digits.max(0));
    fmt_count((users / unit).round() * unit)
}

struct KneeChart<'a> {
    title: String,
    pts: &'a [&'a JourneyPoint],
    tiers: Vec<(String, Option<Saturation>)>,
    /// The first level that missed the objective.
    breaks: Option<u32>,
}

impl Chart for KneeChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (area, legend) = layout(root, &self.title)?;
        let users: Vec<f64> = self.pts.iter().map(|p| f64::from(p.users)).collect();
        let x = Axis::log(users.iter().copied(), (10.0, 100_000.0), fmt_count);
        let y = Axis::linear(0.0, 105.0, 7, fmt_pct);
        let mut chart = frame(
            &area,
            &x,
            &y,
            "users (log scale)",
            "CPU utilization (mean over the measured windows)",
        )?;
        let mut entries = Vec::new();
        let vertical = |chart: &mut ChartContext<'_, DB, Coord>,
                        at: f64,
                        color: RGBColor,
                        dashed: bool|
         -> Result<(), String> {
            let (Some(px), Some(lo), Some(hi)) = (x.pos(at), y.pos(0.0), y.pos(105.0)) else {
                return Ok(());
            };
            if dashed {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(px, lo), (px, hi)],
                        10,
                        6,
                        color.stroke_width(3),
                    ))
                    .map_err(perr)?;
            } else {
                chart
                    .draw_series(LineSeries::new(
                        vec![(px, lo), (px, hi)],
                        color.stroke_width(4),
                    ))
                    .map_err(perr)?;
            }
            Ok(())
        };
        // The ceiling.
        if let Some(c) = y.pos(100.0) {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x.lo, c), (x.hi, c)],
                    4,
                    5,
                    RGBColor(90, 90, 90).stroke_width(2),
                ))
                .map_err(perr)?;
            entries.push(Entry::new(
                "100 %: every vCPU busy",
                RGBColor(90, 90, 90),
                Swatch::Dotted,
            ));
        }
        let grey = RGBColor(150, 150, 150);
        if let Some(b) = self.breaks {
            vertical(&mut chart, f64::from(b), grey, false)?;
            entries.push(Entry::new(
                format!(
                    "simulation: first missed the objective at {} users",
                    fmt_count(f64::from(b))
                ),
                grey,
                Swatch::Line(4),
            ));
        }
        let mut any = false;
        for (i, (tier, knee)) in self.tiers.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let line: Vec<(f64, f64)> = self
                .pts
                .iter()
                .filter_map(|p| {
                    let k = p.knees.iter().find(|k| &k.tier == tier)?;
                    Some((f64::from(p.users), k.utilization * 100.0))
                })
                .filter(|(_, u)| u.is_finite())
                .collect();
            any |= !line.is_empty();
            draw_line(&mut chart, &x, &y, &line, color, 3, true)?;
            entries.push(Entry::new(
                format!("{tier}: CPU utilization (simulated)"),
                color,
                Swatch::LinePoint,
            ));
            if let Some(k) = knee {
                let by = if k.by_theory {
                    "queueing theory"
                } else {
                    "the utilization law"
                };
                // The x axis is log10(users); a knee past its ends is named, not drawn at the edge.
                let shown = k.users > 0.0 && (x.lo..=x.hi).contains(&k.users.log10());
                if shown {
                    vertical(&mut chart, k.users, color, true)?;
                }
                entries.push(Entry::new(
                    format!(
                        "{tier}: saturated at ≈ {} users by {by}{}",
                        knee_words(k.users),
                        if shown { "" } else { " (off the chart)" }
                    ),
                    color,
                    if shown { Swatch::Dashed } else { Swatch::None },
                ));
            }
        }
        if !any {
            draw_note(&chart, &x, &y, "no server tier to show")?;
        }
        draw_legend(&legend, 8, &entries)
    }
}

/// The file stem of chapter `ch`'s knee chart.
pub fn knee_stem(ch: u32) -> String {
    format!("knee_ch{ch:02}")
}

/// Draws one knee chart per chapter into `dir` (`knee_chNN.png` and `.svg`); returns the file
/// names written.
pub fn knee_charts(
    dir: &Path,
    points: &[JourneyPoint],
    breaking: &[BreakingPoint],
) -> Result<Vec<String>, ReportError> {
    let mut groups: BTreeMap<u32, Vec<&JourneyPoint>> = BTreeMap::new();
    for p in points {
        groups.entry(p.chapter).or_default().push(p);
    }
    let mut written = Vec::new();
    for (ch, mut pts) in groups {
        pts.sort_by_key(|p| p.users);
        let b = breaking.iter().find(|b| b.chapter == ch);
        let title = match b {
            Some(b) if !b.title.is_empty() => {
                format!("Chapter {ch} — {}: where each tier saturates", b.title)
            }
            _ => format!("Chapter {ch}: where each tier saturates"),
        };
        let chart = KneeChart {
            title,
            tiers: chapter_knees(&pts),
            pts: &pts,
            breaks: b.and_then(|b| b.breaks),
        };
        render(dir, &knee_stem(ch), &chart, &mut written)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journey::Knee;
    use crate::report::charts::test_util::{assert_files, temp_dir};

    fn point(users: u32, knees: Vec<Knee>) -> JourneyPoint {
        JourneyPoint {
            chapter: 3,
            name: "ch03-test".into(),
            users,
            p99_ms: Some(50.0),
            p50_ms: Some(10.0),
            error_rate: 0.0,
            goodput: 1.0,
            offered: 1.0,
            cost_per_month: 1.0,
            truncated: 0,
            settled: true,
            unsettled: Vec::new(),
            busiest: None,
            failure: None,
            crashes: None,
            first_failed: None,
            knees,
        }
    }

    fn knee(tier: &str, u: f64, rho: f64, at: f64) -> Knee {
        Knee {
            tier: tier.into(),
            utilization: u,
            rho,
            saturates_at: Some(at),
            by_theory: true,
        }
    }

    #[test]
    fn the_knee_is_read_at_the_busiest_level_below_saturation() {
        let a = point(100, vec![knee("web", 0.05, 0.05, 2_100.0)]);
        let b = point(1_000, vec![knee("web", 0.45, 0.45, 2_300.0)]);
        // Past saturation the users' arrival rate per user falls: the figure there is not it.
        let c = point(10_000, vec![knee("web", 1.0, 1.3, 9_000.0)]);
        let pts = vec![&a, &b, &c];
        assert_eq!(
            chapter_knees(&pts),
            vec![(
                "web".to_string(),
                Some(Saturation {
                    users: 2_300.0,
                    by_theory: true
                })
            )]
        );
        assert_eq!(knee_words(2_345.0), "2,300");
        assert_eq!(knee_words(87.0), "87");
        assert_eq!(knee_words(f64::NAN), "—");
    }

    #[test]
    fn knee_charts_are_written_and_survive_odd_points() {
        let dir = temp_dir("knee");
        let points = vec![
            point(
                10,
                vec![
                    knee("web", 0.01, 0.01, 2_000.0),
                    knee("db", 0.002, 0.002, f64::NAN),
                ],
            ),
            point(1_000, vec![knee("web", f64::NAN, 0.5, 2_000.0)]),
            point(100_000, Vec::new()),
        ];
        let names = knee_charts(&dir, &points, &[]).expect("charts");
        assert_files(&dir, &names, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
