//! The run ledger: every tick's row is written before its plugin is called and finished after,
//! fenced by the job's ownership epoch. Concurrent requests are grouped into one statement per
//! batch (group commit): a lone request goes out at once, a burst shares a round trip. The
//! per-tick guarantee is the store's unique `(job, scheduled instant)` key, batch or not.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{BeginRun, FinishRun, Finished, NewRun, Store, StoreError};

/// Largest batch sent in one statement.
const MAX_BATCH: usize = 512;

type Reply<R> = oneshot::Sender<Result<R, Arc<StoreError>>>;
type BeginReply = Reply<BeginRun>;
type FinishReply = Reply<Finished>;

/// Handle to the batching writers.
#[derive(Clone, Debug)]
pub struct RunLedger {
    begins: mpsc::UnboundedSender<(NewRun, BeginReply)>,
    finishes: mpsc::UnboundedSender<((i64, i64, FinishRun), FinishReply)>,
}

impl RunLedger {
    /// Start the writer tasks.
    pub fn start(store: Store) -> Self {
        let (begins, begin_rx) = mpsc::unbounded_channel::<(NewRun, BeginReply)>();
        let (finishes, finish_rx) =
            mpsc::unbounded_channel::<((i64, i64, FinishRun), FinishReply)>();
        let s = store.clone();
        tokio::spawn(write_batches(begin_rx, move |runs| {
            let s = s.clone();
            async move { s.begin_runs(&runs).await }
        }));
        tokio::spawn(write_batches(finish_rx, move |items| {
            let store = store.clone();
            async move { store.finish_runs(&items).await }
        }));
        RunLedger { begins, finishes }
    }

    /// Record a tick as running (fenced; at most once per tick).
    pub async fn begin(&self, run: NewRun) -> Result<BeginRun, Arc<StoreError>> {
        let (tx, rx) = oneshot::channel();
        self.begins
            .send((run, tx))
            .map_err(|_| Arc::new(StoreError::Closed))?;
        rx.await.map_err(|_| Arc::new(StoreError::Closed))?
    }

    /// Finish a run (fenced).
    pub async fn finish(
        &self,
        run_id: i64,
        epoch: i64,
        finish: FinishRun,
    ) -> Result<Finished, Arc<StoreError>> {
        let (tx, rx) = oneshot::channel();
        self.finishes
            .send(((run_id, epoch, finish), tx))
            .map_err(|_| Arc::new(StoreError::Closed))?;
        rx.await.map_err(|_| Arc::new(StoreError::Closed))?
    }
}

/// Group commit: take whatever requests are queued (up to [`MAX_BATCH`]), write them in one
/// store call, and answer each request with its own result (or the batch's error).
async fn write_batches<T, R, F, Fut>(mut rx: mpsc::UnboundedReceiver<(T, Reply<R>)>, write: F)
where
    F: Fn(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Vec<R>, StoreError>>,
{
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (items, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        match write(items).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                let e = Arc::new(e);
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}
