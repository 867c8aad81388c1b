//! The run ledger: every tick's row is written before its plugin is called and finished after,
//! fenced by the job's ownership epoch. Concurrent requests are grouped into one statement per
//! batch (group commit): a lone request goes out at once, a burst shares a round trip. The
//! per-tick guarantee is the store's unique `(job, scheduled instant)` key, batch or not.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{BeginRun, FinishRun, Finished, NewRun, Store, StoreError};

/// Largest batch sent in one statement.
const MAX_BATCH: usize = 512;

type BeginReply = oneshot::Sender<Result<BeginRun, Arc<StoreError>>>;
type FinishReply = oneshot::Sender<Result<Finished, Arc<StoreError>>>;

/// Handle to the batching writers.
#[derive(Clone, Debug)]
pub struct RunLedger {
    begins: mpsc::UnboundedSender<(NewRun, BeginReply)>,
    finishes: mpsc::UnboundedSender<((i64, i64, FinishRun), FinishReply)>,
}

impl RunLedger {
    /// Start the writer tasks.
    pub fn start(store: Store) -> Self {
        let (begins, mut begin_rx) = mpsc::unbounded_channel::<(NewRun, BeginReply)>();
        let (finishes, mut finish_rx) =
            mpsc::unbounded_channel::<((i64, i64, FinishRun), FinishReply)>();
        let s = store.clone();
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while begin_rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (runs, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                match s.begin_runs(&runs).await {
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
        });
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while finish_rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (items, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                match store.finish_runs(&items).await {
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
        });
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
