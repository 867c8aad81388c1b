//! The replica's background tasks and the one signal that stops them (as in tokio's
//! mini-redis): every task is spawned here with a future that resolves on shutdown, and
//! [`Tasks::stop`] sends the signal and waits for each task to end.

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A set of background tasks sharing one stop signal.
#[derive(Debug)]
pub struct Tasks {
    stop: watch::Sender<bool>,
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            stop: watch::channel(false).0,
            running: Vec::new(),
        }
    }
}

impl Tasks {
    /// A future that resolves once [`Tasks::stop`] was called.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.stop.subscribe();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }

    /// Spawn the task `name`: `task` gets the stop signal and must end soon after it.
    pub fn spawn<F>(&mut self, name: &'static str, task: impl FnOnce(StopSignal) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(task(StopSignal(self.stop.subscribe())));
        self.running.push((name, handle));
    }

    /// Send the stop signal and wait for every task to end; a task that panicked is logged.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for (name, handle) in self.running {
            if let Err(e) = handle.await {
                tracing::error!(task = name, error = %e, "background task failed");
            }
        }
    }
}

/// The stop signal as one task holds it.
#[derive(Debug)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// Resolves once the stop signal was sent.
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stop_ends_every_task() {
        let mut tasks = Tasks::default();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for n in 0..3 {
            let tx = tx.clone();
            tasks.spawn("test", move |stop| async move {
                stop.wait().await;
                let _ = tx.send(n);
            });
        }
        drop(tx);
        tasks.stop().await;
        let mut ended = Vec::new();
        while let Some(n) = rx.recv().await {
            ended.push(n);
        }
        ended.sort();
        assert_eq!(ended, vec![0, 1, 2]);
    }
}
