//! The kinds of fault, by name, and the order a run deals them in: the kinds asked for first
//! (`--first`, in an order shuffled by the run's random generator), then rounds of every kind
//! of the run (`--faults`), each round shuffled, so that every kind comes once per round.

use rand::Rng;
use rand::seq::SliceRandom;

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// A replica is killed and restarted.
    Kill9,
    /// A replica is frozen past the dead threshold.
    Stop,
    /// A replica is stopped gracefully and started again.
    Restart,
    /// One replica more, or one less.
    Scale,
    /// The database server is stopped and started again.
    DbRestart,
    /// A replica is restarted with its clock ahead or behind.
    Skew,
    /// The plugin file is replaced by a new version.
    PluginSwap,
    /// Jobs change schedule.
    Edit,
    /// Jobs are paused, then resumed.
    Pause,
    /// Jobs are deleted and others created.
    Delete,
    /// Jobs are triggered by hand.
    Trigger,
    /// Nothing passes between a replica and the database, past the dead threshold.
    Blackhole,
    /// Every byte between a replica and the database is delayed.
    Latency,
    /// A replica's connections to the database (or every replica's) are reset.
    Reset,
}

impl Fault {
    /// Every kind, by its name on the command line.
    pub const ALL: [(&'static str, Fault); 14] = [
        ("kill9", Fault::Kill9),
        ("stop", Fault::Stop),
        ("restart", Fault::Restart),
        ("scale", Fault::Scale),
        ("db-restart", Fault::DbRestart),
        ("skew", Fault::Skew),
        ("plugin-swap", Fault::PluginSwap),
        ("edit", Fault::Edit),
        ("pause", Fault::Pause),
        ("delete", Fault::Delete),
        ("trigger", Fault::Trigger),
        ("blackhole", Fault::Blackhole),
        ("latency", Fault::Latency),
        ("reset", Fault::Reset),
    ];

    /// The network faults (between a replica and the database, processes running).
    pub const NETWORK: [Fault; 3] = [Fault::Blackhole, Fault::Latency, Fault::Reset];

    /// The kind's name on the command line.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, f)| *f == self).unwrap().0
    }

    /// Every kind.
    pub fn all() -> Vec<Fault> {
        Self::ALL.iter().map(|(_, f)| *f).collect()
    }

    /// Kinds from a comma-separated list of names; `all` stands for every kind and `network`
    /// for the network faults.
    pub fn parse_list(list: &str) -> Result<Vec<Fault>, String> {
        let mut kinds = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let more = match name {
                "all" => Self::all(),
                "network" => Self::NETWORK.to_vec(),
                _ => match Self::ALL.iter().find(|(n, _)| *n == name) {
                    Some((_, f)) => vec![*f],
                    None => {
                        let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                        return Err(format!(
                            "unknown fault {name:?} (known: all, network, {})",
                            names.join(", ")
                        ));
                    }
                },
            };
            for f in more {
                if !kinds.contains(&f) {
                    kinds.push(f);
                }
            }
        }
        if kinds.is_empty() {
            return Err(format!("no fault in {list:?}"));
        }
        Ok(kinds)
    }
}

/// The faults still to deal.
#[derive(Debug)]
pub(super) struct Deck {
    kinds: Vec<Fault>,
    /// Dealt from the end.
    hand: Vec<Fault>,
}

impl Deck {
    /// A deck of rounds of `kinds`, with `first` dealt before them.
    pub(super) fn new(kinds: &[Fault], first: &[Fault], rng: &mut impl Rng) -> Deck {
        let mut hand = first.to_vec();
        hand.shuffle(rng);
        hand.reverse();
        Deck {
            kinds: kinds.to_vec(),
            hand,
        }
    }

    /// The next fault.
    pub(super) fn deal(&mut self, rng: &mut impl Rng) -> Fault {
        if self.hand.is_empty() {
            self.hand = self.kinds.clone();
            self.hand.shuffle(rng);
        }
        self.hand.pop().expect("a deck of at least one kind")
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn deal(seed: u64, kinds: &[Fault], first: &[Fault], n: usize) -> Vec<Fault> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut deck = Deck::new(kinds, first, &mut rng);
        (0..n).map(|_| deck.deal(&mut rng)).collect()
    }

    #[test]
    fn the_first_kinds_come_first_then_every_kind_once_per_round() {
        let all = Fault::all();
        let dealt = deal(7, &all, &Fault::NETWORK, 3 + 2 * all.len());
        let mut head = dealt[..3].to_vec();
        head.sort();
        assert_eq!(head, Fault::NETWORK);
        for round in dealt[3..].chunks(all.len()) {
            let mut round = round.to_vec();
            round.sort();
            assert_eq!(round, all);
        }
    }

    #[test]
    fn the_same_seed_deals_the_same_faults() {
        let all = Fault::all();
        assert_eq!(deal(42, &all, &[], 40), deal(42, &all, &[], 40));
        assert_ne!(deal(42, &all, &[], 40), deal(43, &all, &[], 40));
    }

    #[test]
    fn lists_of_faults_parse_by_name_and_group() {
        assert_eq!(
            Fault::parse_list("kill9, network,kill9").unwrap(),
            [Fault::Kill9, Fault::Blackhole, Fault::Latency, Fault::Reset]
        );
        assert_eq!(Fault::parse_list("all").unwrap(), Fault::all());
        assert!(
            Fault::parse_list("kill9,partition")
                .unwrap_err()
                .contains("unknown fault \"partition\"")
        );
        assert!(Fault::parse_list(",").is_err());
        for (name, fault) in Fault::ALL {
            assert_eq!(fault.name(), name);
        }
    }
}
