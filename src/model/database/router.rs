//! The database's router: writes go to the primary; reads to a replica (`random` or
//! `least_loaded`) when the scenario reads from replicas and one is up, else to the primary.

/// How a read picks its replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Uniformly among the replicas that are up.
    Random,
    /// The replica with the fewest queries in hand (connections in use plus waiting), ties to the
    /// first after the last pick (so equal replicas take turns).
    LeastLoaded,
}

impl Policy {
    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Random => "random",
            Policy::LeastLoaded => "least_loaded",
        }
    }
}

/// Picks among `n` replicas: `load(i)` is replica `i`'s load, `None` while it is down. `draw`
/// gives a uniform integer below its argument (random policy); `cursor` is where ties start
/// (least loaded), advanced past the pick. `None`: no replica is up.
pub fn pick(
    policy: Policy,
    n: usize,
    load: impl Fn(usize) -> Option<u32>,
    draw: impl FnOnce(u64) -> u64,
    cursor: &mut usize,
) -> Option<usize> {
    match policy {
        Policy::Random => {
            let up = (0..n).filter(|&i| load(i).is_some()).count();
            if up == 0 {
                return None;
            }
            let k = draw(up as u64) as usize;
            (0..n).filter(|&i| load(i).is_some()).nth(k)
        }
        Policy::LeastLoaded => {
            let mut best: Option<(u32, usize)> = None;
            for j in 0..n {
                let i = (*cursor + j) % n;
                if let Some(l) = load(i) {
                    if best.is_none_or(|(b, _)| l < b) {
                        best = Some((l, i));
                    }
                }
            }
            let (_, i) = best?;
            *cursor = (i + 1) % n;
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_loaded_takes_the_lightest_up_replica_and_equal_ones_take_turns() {
        let loads = [Some(3), None, Some(1), Some(1)];
        let mut cur = 0;
        // Replica 1 is down; 2 and 3 tie at 1: the first from the cursor (0) is 2, then 3.
        assert_eq!(
            pick(Policy::LeastLoaded, 4, |i| loads[i], |_| 0, &mut cur),
            Some(2)
        );
        assert_eq!(
            pick(Policy::LeastLoaded, 4, |i| loads[i], |_| 0, &mut cur),
            Some(3)
        );
        assert_eq!(
            pick(Policy::LeastLoaded, 4, |i| loads[i], |_| 0, &mut cur),
            Some(2)
        );
        let none = [None, None];
        assert_eq!(
            pick(Policy::LeastLoaded, 2, |i| none[i], |_| 0, &mut cur),
            None
        );
    }

    #[test]
    fn random_draws_among_the_replicas_that_are_up() {
        let loads = [Some(0), None, Some(9)];
        let mut cur = 0;
        // Two are up: draw 0 → replica 0, draw 1 → replica 2 (the down one is skipped).
        assert_eq!(
            pick(
                Policy::Random,
                3,
                |i| loads[i],
                |n| {
                    assert_eq!(n, 2);
                    0
                },
                &mut cur
            ),
            Some(0)
        );
        assert_eq!(
            pick(Policy::Random, 3, |i| loads[i], |_| 1, &mut cur),
            Some(2)
        );
        assert_eq!(pick(Policy::Random, 1, |_| None, |_| 0, &mut cur), None);
    }
}
