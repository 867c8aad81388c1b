//! Waiting for a condition, with a deadline: the one way the end-to-end tests wait.

use std::time::{Duration, Instant};

/// Poll `cond` every `every` until it holds and return how long that took; after `deadline`
/// panic with `context()` (say, the replicas' logs).
pub async fn poll_until<F, Fut>(
    what: &str,
    deadline: Duration,
    every: Duration,
    mut cond: F,
    context: impl FnOnce() -> String,
) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        if start.elapsed() > deadline {
            panic!(
                "timed out after {deadline:?} waiting for {what}\n{}",
                context()
            );
        }
        tokio::time::sleep(every).await;
    }
    start.elapsed()
}
