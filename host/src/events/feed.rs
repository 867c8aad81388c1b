//! Following the event history: one [`EventHub`] per replica wakes every subscriber when an
//! event may have arrived (a store notification where the engine has them — PostgreSQL's
//! `LISTEN wasmcron_events` on a dedicated connection — or a local publish), and each
//! subscriber reads the table from its own cursor, polling where nothing wakes it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::Stream;
use tokio::sync::watch;

use crate::store::Store;
use crate::store::events::StoredEvent;

/// How often a subscriber reads the table when nothing wakes it (an engine without
/// notifications, such as SQLite).
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Where notifications wake subscribers (PostgreSQL), the fallback read interval (for
/// notifications lost while the listener reconnects).
pub const NOTIFIED_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How long a subscriber waits for a missing id (an insert that took a sequence number but
/// has not committed yet) before it moves past it.
pub const GAP_WAIT: Duration = Duration::from_secs(2);

/// Events read per query.
const BATCH: i64 = 200;

/// Wakes subscribers of one replica.
#[derive(Debug)]
pub struct EventHub {
    store: Store,
    wake: watch::Sender<u64>,
    /// A notification listener is established: subscribers poll only as a fallback.
    notified: Arc<AtomicBool>,
}

impl EventHub {
    /// A hub over `store`'s event history; [`EventHub::follow_notifications`] wakes it when
    /// another replica publishes.
    pub fn new(store: Store) -> Arc<EventHub> {
        let (wake, _) = watch::channel(0);
        Arc::new(EventHub {
            store,
            wake,
            notified: Arc::default(),
        })
    }

    /// Wake the subscribers at every event notification of the store until `stop` (returns at
    /// once on an engine without notifications: subscribers poll).
    pub async fn follow_notifications(self: Arc<Self>, stop: impl Future<Output = ()>) {
        tokio::select! {
            _ = stop => {}
            _ = listen(&self) => {}
        }
    }

    /// Wake the subscribers now (an event was just published by this replica).
    pub fn poke(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The newest event id now (where a subscriber without `Last-Event-ID` starts).
    pub async fn head(&self) -> Result<i64, crate::store::StoreError> {
        self.store.last_event_id().await
    }

    /// Every event with an id above `after`, in order, forever (until dropped).
    pub fn subscribe(&self, after: i64) -> impl Stream<Item = StoredEvent> + Send + use<> {
        let state = Follower {
            store: self.store.clone(),
            wake: self.wake.subscribe(),
            notified: self.notified.clone(),
            cursor: after,
            first: true,
            gap_since: None,
            buffer: VecDeque::new(),
        };
        futures::stream::unfold(state, |mut state| async move {
            let event = state.next().await;
            Some((event, state))
        })
    }
}

/// One subscriber's position in the history.
struct Follower {
    store: Store,
    wake: watch::Receiver<u64>,
    /// Whether notifications wake this replica's subscribers (see [`EventHub`]).
    notified: Arc<AtomicBool>,
    cursor: i64,
    first: bool,
    gap_since: Option<Instant>,
    buffer: VecDeque<StoredEvent>,
}

impl Follower {
    async fn next(&mut self) -> StoredEvent {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                return event;
            }
            match self.store.events_after(self.cursor, BATCH).await {
                Ok(events) if !events.is_empty() => self.accept(events),
                Ok(_) => self.wait(self.poll()).await,
                Err(e) => {
                    tracing::debug!(error = %e, "cannot read events; retrying");
                    self.wait(Duration::from_secs(1)).await;
                }
            }
            if self.buffer.is_empty() && self.gap_since.is_some() {
                self.wait(POLL_INTERVAL).await;
            }
        }
    }

    /// Take the events that follow the cursor without a hole; a hole is waited for up to
    /// [`GAP_WAIT`] (ids are handed out before commit, so a later id can commit first).
    fn accept(&mut self, events: Vec<StoredEvent>) {
        for event in events {
            let contiguous = event.id == self.cursor + 1 || self.first;
            let waited = self
                .gap_since
                .is_some_and(|since| since.elapsed() >= GAP_WAIT);
            if !contiguous && !waited {
                self.gap_since.get_or_insert_with(Instant::now);
                return;
            }
            self.first = false;
            self.gap_since = None;
            self.cursor = event.id;
            self.buffer.push_back(event);
        }
    }

    /// How long to wait for a wake-up before reading again.
    fn poll(&self) -> Duration {
        if self.notified.load(Ordering::Relaxed) {
            NOTIFIED_POLL_INTERVAL
        } else {
            POLL_INTERVAL
        }
    }

    async fn wait(&mut self, most: Duration) {
        let _ = tokio::time::timeout(most, self.wake.changed()).await;
    }
}

/// The listener: every event notification wakes the subscribers. Returns at once when the
/// store has no notifications.
async fn listen(hub: &EventHub) {
    let mut listener = None;
    loop {
        if listener.is_none() {
            match hub.store.event_listener().await {
                Ok(None) => return,
                Ok(Some(l)) => {
                    listener = Some(l);
                    hub.notified.store(true, Ordering::Relaxed);
                    // Anything published while (re)connecting is read by the next poll.
                    hub.poke();
                }
                Err(e) => {
                    tracing::debug!(error = %e, "cannot listen for events; retrying");
                }
            }
        }
        let Some(l) = listener.as_mut() else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        match tokio::time::timeout(Duration::from_secs(5), l.next()).await {
            Err(_) => {}
            // A notification, or the connection was lost (and is re-established by the next
            // receive): either way, look.
            Ok(Ok(_)) => hub.poke(),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "event listener failed; reconnecting");
                listener = None;
                hub.notified.store(false, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
