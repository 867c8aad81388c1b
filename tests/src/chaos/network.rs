//! The network faults: what a replica's proxy does to the traffic between it and the
//! database while both keep running.

use std::time::Duration;

use rand::Rng;

use super::runner::Chaos;
use super::settings::{DEAD_AFTER_S, LATENCY, LATENCY_FOR_S};
use crate::proxy::Mode;

impl Chaos {
    /// Nothing passes between a random live replica and the database for the dead threshold
    /// plus 1–6 s: its jobs must move and it must be fenced, as for a partitioned replica.
    pub(super) async fn blackhole(&mut self) {
        let live = self.live();
        let i = *self.pick(&live);
        let id = self.c.hosts[i].options.instance_id.clone();
        let length = Duration::from_secs(DEAD_AFTER_S) + self.secs(1.0, 6.0);
        let proxy = self.c.proxy_of(&id);
        self.log.say(format!(
            "FAULT blackhole between {id} and the database for {length:.1?} (dead threshold \
             {DEAD_AFTER_S} s, {} connections open)",
            proxy.open_connections()
        ));
        proxy.set_mode(Mode::Blackhole);
        tokio::time::sleep(length).await;
        let owners = self.sql.owner_counts().await.unwrap_or_default();
        self.c.proxy_of(&id).set_mode(Mode::PassThrough);
        self.log.say(format!(
            "  {id} reaches the database again (owners at the end of the blackhole: {owners:?})"
        ));
    }

    /// Every byte between a random live replica and the database waits [`LATENCY`] in each
    /// direction, for a while.
    pub(super) async fn latency(&mut self) {
        let live = self.live();
        let i = *self.pick(&live);
        let id = self.c.hosts[i].options.instance_id.clone();
        let length = self.secs(LATENCY_FOR_S.0, LATENCY_FOR_S.1);
        self.log.say(format!(
            "FAULT latency {LATENCY:?} each way between {id} and the database for {length:.1?}"
        ));
        self.c.proxy_of(&id).set_mode(Mode::Latency(LATENCY));
        tokio::time::sleep(length).await;
        self.c.proxy_of(&id).set_mode(Mode::PassThrough);
        self.log.say(format!("  {id} without added latency"));
    }

    /// Every open connection between the database and a random live replica, or every live
    /// replica, is reset.
    pub(super) async fn reset(&mut self) {
        let live = self.live();
        let victims: Vec<usize> = if self.rng.random_bool(0.5) {
            vec![*self.pick(&live)]
        } else {
            live
        };
        let mut what = Vec::new();
        for i in victims {
            let id = self.c.hosts[i].options.instance_id.clone();
            let n = self.c.proxy_of(&id).reset();
            what.push(format!("{id} ({n})"));
        }
        self.log.say(format!(
            "FAULT reset the database connections of {}",
            what.join(", ")
        ));
    }
}
