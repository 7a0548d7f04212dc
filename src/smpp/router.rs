//! Routing: a destination's longest matching prefix (over the `routes` of every `[[smsc]]`)
//! names a route, an ordered list of SMSCs (by `priority`, lower first; `weight` shares the
//! traffic among equal priorities). The first healthy SMSC of the route takes the message;
//! when none is healthy, the first that had a bind up recently queues it (it fails over from
//! there); when none had, the message has no route.
//!
//! A tenant limited to some SMSCs ([`Allowed`]) sees only the routes that hold one of them
//! (the longest such prefix wins) and only those SMSCs of it, failover included; the SMSCs it
//! prefers are tried first, in its order, before the route's priority groups.

use rand::Rng;
use std::collections::HashMap;

/// One prefix's SMSCs, grouped by priority (best group first).
#[derive(Debug, Clone)]
pub struct Route {
    /// Without its leading `+` ("" for "+").
    pub prefix: String,
    /// (SMSC index, weight) per priority group.
    pub groups: Vec<Vec<(usize, u32)>>,
}

/// The SMSCs one message may use: a bit per SMSC index, and the indices its tenant prefers,
/// in order.
#[derive(Debug, Clone, Copy)]
pub struct Allowed<'a> {
    pub mask: u64,
    pub preferred: &'a [usize],
}

impl Allowed<'_> {
    /// Every SMSC, in the routes' own order.
    pub const ALL: Allowed<'static> = Allowed {
        mask: u64::MAX,
        preferred: &[],
    };

    pub fn has(&self, index: usize) -> bool {
        index < 64 && self.mask & (1u64 << index) != 0
    }
}

/// The bit of each SMSC index in [`Allowed::mask`]: the configuration allows at most this
/// many SMSCs.
pub const MAX_SMSCS: usize = 64;

#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
    /// Looked up for every create and dispatch (once per prefix length): by foldhash, not
    /// the default SipHash.
    by_prefix: HashMap<String, usize, foldhash::fast::RandomState>,
    longest: usize,
}

/// Digits of a prefix or destination without the leading `+` ("+" matches everything).
fn normalise(s: &str) -> &str {
    s.trim().trim_start_matches('+')
}

impl Router {
    /// `smscs`: (routes, priority, weight) of each SMSC, by index.
    pub fn new<'a>(smscs: impl IntoIterator<Item = (&'a [String], u32, u32)>) -> Self {
        let mut members: HashMap<String, Vec<(u32, usize, u32)>> = HashMap::new();
        for (index, (routes, priority, weight)) in smscs.into_iter().enumerate() {
            for r in routes {
                let p = normalise(r).to_string();
                let list = members.entry(p).or_default();
                if !list.iter().any(|(_, i, _)| *i == index) {
                    list.push((priority, index, weight));
                }
            }
        }
        let mut router = Router::default();
        let mut prefixes: Vec<_> = members.into_iter().collect();
        prefixes.sort_by(|a, b| a.0.cmp(&b.0));
        for (prefix, mut list) in prefixes {
            list.sort_by_key(|(p, i, _)| (*p, *i));
            let mut groups: Vec<Vec<(usize, u32)>> = Vec::new();
            let mut last = None;
            for (p, i, w) in list {
                if last != Some(p) {
                    groups.push(Vec::new());
                    last = Some(p);
                }
                if let Some(g) = groups.last_mut() {
                    g.push((i, w));
                }
            }
            router.longest = router.longest.max(prefix.len());
            router.by_prefix.insert(prefix.clone(), router.routes.len());
            router.routes.push(Route { prefix, groups });
        }
        router
    }

    #[cfg(test)]
    pub fn route(&self, index: usize) -> Option<&Route> {
        self.routes.get(index)
    }

    /// Every route, by prefix.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route of the longest prefix matching `destination`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn lookup(&self, destination: &str) -> Option<usize> {
        self.lookup_within(destination, Allowed::ALL.mask)
    }

    /// The route of the longest prefix matching `destination` that holds an SMSC of `mask`.
    pub fn lookup_within(&self, destination: &str, mask: u64) -> Option<usize> {
        let allowed = Allowed {
            mask,
            preferred: &[],
        };
        let d = normalise(destination);
        let max = self.longest.min(d.len());
        (0..=max)
            .rev()
            .filter_map(|n| d.get(..n))
            .filter_map(|p| self.by_prefix.get(p).copied())
            .find(|&r| {
                self.routes
                    .get(r)
                    .is_some_and(|r| r.groups.iter().flatten().any(|(i, _)| allowed.has(*i)))
            })
    }

    /// Picks an SMSC of route `route` for a message, skipping `exclude`. `healthy(i)` and
    /// `recent(i)` say whether SMSC i takes traffic now / had a bind up recently. With
    /// `require_healthy`, only a healthy SMSC is returned.
    pub fn pick(
        &self,
        route: usize,
        exclude: Option<usize>,
        allowed: Allowed<'_>,
        healthy: impl Fn(usize) -> bool,
        recent: impl Fn(usize) -> bool,
        require_healthy: bool,
    ) -> Option<usize> {
        let r = self.routes.get(route)?;
        let member = |i: usize| r.groups.iter().flatten().any(|(m, _)| *m == i);
        let usable = |i: usize| Some(i) != exclude && allowed.has(i);
        let preferred = allowed
            .preferred
            .iter()
            .copied()
            .filter(|&i| usable(i) && member(i));
        if let Some(i) = preferred.clone().find(|&i| healthy(i)) {
            return Some(i);
        }
        for group in &r.groups {
            let live = group
                .iter()
                .copied()
                .filter(|(i, _)| usable(*i) && healthy(*i));
            if let Some(i) = weighted(live) {
                return Some(i);
            }
        }
        if require_healthy {
            return None;
        }
        preferred
            .chain(r.groups.iter().flatten().map(|(i, _)| *i))
            .find(|&i| usable(i) && recent(i))
    }
}

/// Weighted random choice; weight 0 members only when no other is there. Walks `members`
/// twice rather than collecting them: a choice is made for every create and every send.
fn weighted(members: impl Iterator<Item = (usize, u32)> + Clone) -> Option<usize> {
    let (first, count, total) = members
        .clone()
        .fold((None, 0usize, 0u64), |(first, count, total), (i, w)| {
            (first.or(Some(i)), count + 1, total + u64::from(w))
        });
    // one member, or none with a weight: no draw
    if count <= 1 || total == 0 {
        return first;
    }
    let mut x = rand::rng().random_range(0..total);
    let mut last = first;
    for (i, w) in members {
        let w = u64::from(w);
        if x < w {
            return Some(i);
        }
        x -= w;
        last = Some(i);
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn longest_prefix_wins() {
        let a = s(&["+"]);
        let b = s(&["+44", "+4420"]);
        let c = s(&["+44"]);
        let r = Router::new([(&a[..], 0, 1), (&b[..], 0, 1), (&c[..], 1, 1)]);
        let uk = r.lookup("+447700900123").unwrap();
        assert_eq!(r.route(uk).unwrap().prefix, "44");
        assert_eq!(
            r.route(uk).unwrap().groups,
            vec![vec![(1, 1)], vec![(2, 1)]]
        );
        let london = r.lookup("+442071234567").unwrap();
        assert_eq!(r.route(london).unwrap().groups, vec![vec![(1, 1)]]);
        let fr = r.lookup("+33612345678").unwrap();
        assert_eq!(r.route(fr).unwrap().prefix, "");
    }

    #[test]
    fn no_match_is_no_route() {
        let a = s(&["+44"]);
        let r = Router::new([(&a[..], 0, 1)]);
        assert_eq!(r.lookup("+33612345678"), None);
    }

    #[test]
    fn fails_over_by_priority_and_respects_exclusion() {
        let a = s(&["+"]);
        let r = Router::new([(&a[..], 0, 1), (&a[..], 1, 1), (&a[..], 2, 1)]);
        let route = r.lookup("+1").unwrap();
        assert_eq!(
            r.pick(route, None, Allowed::ALL, |_| true, |_| true, true),
            Some(0)
        );
        assert_eq!(
            r.pick(route, None, Allowed::ALL, |i| i != 0, |_| true, true),
            Some(1)
        );
        assert_eq!(
            r.pick(route, Some(1), Allowed::ALL, |i| i != 0, |_| true, true),
            Some(2)
        );
        assert_eq!(
            r.pick(route, None, Allowed::ALL, |_| false, |_| true, true),
            None
        );
        assert_eq!(
            r.pick(route, None, Allowed::ALL, |_| false, |i| i == 2, false),
            Some(2)
        );
        assert_eq!(
            r.pick(route, None, Allowed::ALL, |_| false, |_| false, false),
            None
        );
    }

    #[test]
    fn weights_share_equal_priorities() {
        let a = s(&["+"]);
        let r = Router::new([(&a[..], 0, 3), (&a[..], 0, 1), (&a[..], 0, 0)]);
        let route = r.lookup("+1").unwrap();
        let mut counts = [0u32; 3];
        for _ in 0..4000 {
            let i = r
                .pick(route, None, Allowed::ALL, |_| true, |_| true, true)
                .unwrap();
            counts[i] += 1;
        }
        assert_eq!(counts[2], 0);
        assert!(counts[0] > 2 * counts[1], "{counts:?}");
        assert!(counts[1] > 0);
        assert_eq!(
            r.pick(route, None, Allowed::ALL, |i| i == 2, |_| true, true),
            Some(2)
        );
    }

    #[test]
    fn a_tenant_sees_only_its_smscs_and_tries_its_preference_first() {
        let uk = s(&["+44"]);
        let all = s(&["+"]);
        // 0 serves the UK first, 1 the UK as a backup, 2 everything
        let r = Router::new([(&uk[..], 0, 1), (&uk[..], 1, 1), (&all[..], 0, 1)]);
        let dest = "+447400123456";
        let longest = r.lookup(dest).unwrap();
        assert_eq!(r.lookup_within(dest, 0b111), Some(longest));
        // pinned to 2: the UK route holds none of its SMSCs, the catch-all does
        let catch_all = r.lookup_within(dest, 0b100).unwrap();
        assert_eq!(r.route(catch_all).unwrap().prefix, "");
        let only = |mask| Allowed {
            mask,
            preferred: &[],
        };
        // pinned to 0: 0 down does not fail over to 1
        assert_eq!(
            r.pick(longest, None, only(0b001), |i| i != 0, |_| true, true),
            None
        );
        assert_eq!(
            r.pick(longest, None, only(0b001), |_| false, |_| true, false),
            Some(0)
        );
        assert_eq!(
            r.pick(longest, Some(0), only(0b001), |_| true, |_| true, false),
            None
        );
        // 0 and 1 allowed, 1 preferred: 1 first, 0 when 1 is down
        let prefer_1 = Allowed {
            mask: 0b011,
            preferred: &[1],
        };
        assert_eq!(
            r.pick(longest, None, prefer_1, |_| true, |_| true, true),
            Some(1)
        );
        assert_eq!(
            r.pick(longest, None, prefer_1, |i| i != 1, |_| true, true),
            Some(0)
        );
        assert_eq!(
            r.pick(longest, None, prefer_1, |_| false, |_| true, false),
            Some(1)
        );
        // a preferred SMSC outside the route or not allowed is skipped
        let odd = Allowed {
            mask: 0b001,
            preferred: &[2, 1],
        };
        assert_eq!(
            r.pick(longest, None, odd, |_| true, |_| true, true),
            Some(0)
        );
        // nothing allowed: no route at all
        assert_eq!(r.lookup_within(dest, 0), None);
    }
}
