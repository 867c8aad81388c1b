//! The replica's background tasks and the one signal that stops them (as in tokio's
//! mini-redis): every task is spawned here with a future that resolves on shutdown, and
//! [`Tasks::stop`] sends the signal and waits for each task to end. Tasks that the others
//! feed (the event writer) are spawned with [`Tasks::spawn_last`]: they are told to stop only
//! once every other task has ended, so nothing fed to them is lost.

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A set of background tasks sharing one stop signal.
#[derive(Debug)]
pub struct Tasks {
    stop: watch::Sender<bool>,
    running: Vec<(&'static str, JoinHandle<()>)>,
    stop_last: watch::Sender<bool>,
    running_last: Vec<(&'static str, JoinHandle<()>)>,
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            stop: watch::channel(false).0,
            running: Vec::new(),
            stop_last: watch::channel(false).0,
            running_last: Vec::new(),
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

    /// Spawn the task `name`, which the other tasks feed: its stop signal comes once every
    /// task spawned with [`Tasks::spawn`] has ended.
    pub fn spawn_last<F>(&mut self, name: &'static str, task: impl FnOnce(StopSignal) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(task(StopSignal(self.stop_last.subscribe())));
        self.running_last.push((name, handle));
    }

    /// Send the stop signal and wait for every task to end, then the same for the tasks
    /// spawned last; a task that panicked is logged.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        join(self.running).await;
        let _ = self.stop_last.send(true);
        join(self.running_last).await;
    }
}

async fn join(tasks: Vec<(&'static str, JoinHandle<()>)>) {
    for (name, handle) in tasks {
        tracing::debug!(task = name, "waiting for a background task to stop");
        if let Err(e) = handle.await {
            tracing::error!(task = name, error = %e, "background task failed");
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

    #[tokio::test]
    async fn tasks_spawned_last_stop_after_the_others_ended() {
        let mut tasks = Tasks::default();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let last = tx.clone();
        tasks.spawn_last("last", move |stop| async move {
            stop.wait().await;
            let _ = last.send("last");
        });
        tasks.spawn("first", move |stop| async move {
            stop.wait().await;
            // Still running after the stop signal: the last task must not stop yet.
            tokio::task::yield_now().await;
            let _ = tx.send("first");
        });
        tasks.stop().await;
        assert_eq!(rx.recv().await, Some("first"));
        assert_eq!(rx.recv().await, Some("last"));
    }
}
