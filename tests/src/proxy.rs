//! A TCP proxy between one replica and its database server, to break the network between them
//! while both processes keep running.
//!
//! [`Proxy::start`] binds `127.0.0.1:0` itself (no port is chosen before it is bound) and
//! forwards every connection it accepts to its [`Upstream`], a TCP address or a Unix socket.
//! What passes is set by its [`Mode`] at any time, for every open and future connection:
//! bytes pass as they come, or each waits a fixed delay in each direction (order kept), or
//! nothing passes at all (a blackhole: connections stay open, new ones are accepted, and what
//! was sent meanwhile is delivered once the mode changes back, as TCP retransmits after a
//! partition heals). [`Proxy::reset`] closes every open connection with a reset (RST); new
//! connections are accepted as before.
//!
//! Dropping the proxy closes its listener and every connection.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// Where a proxy forwards its connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix socket (for a server that listens on no TCP port).
    Unix(PathBuf),
}

/// What passes through a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes pass as they come.
    PassThrough,
    /// Every byte is held this long in each direction, in order.
    Latency(Duration),
    /// Nothing passes in either direction; connections stay open and new ones are accepted,
    /// reaching the server only once the mode changes back.
    Blackhole,
}

/// Bytes read from one side at a time.
const CHUNK: usize = 16 * 1024;
/// Chunks held per direction of a connection (beyond them, reading waits).
const IN_FLIGHT: usize = 64;

/// A running proxy (see the module documentation).
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    resets: watch::Sender<u64>,
    open: Arc<AtomicUsize>,
    accepting: JoinHandle<()>,
}

impl Proxy {
    /// Binds a loopback port and starts forwarding to `upstream`, in [`Mode::PassThrough`].
    pub async fn start(upstream: Upstream) -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mode, _) = watch::channel(Mode::PassThrough);
        let (resets, _) = watch::channel(0u64);
        let open = Arc::new(AtomicUsize::new(0));
        let accepting = tokio::spawn(accept(
            listener,
            upstream,
            mode.clone(),
            resets.clone(),
            open.clone(),
        ));
        Ok(Proxy {
            addr,
            mode,
            resets,
            open,
            accepting,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sets what passes, for open connections (bytes already held keep their delay) and new
    /// ones.
    pub fn set_mode(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// What passes now.
    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }

    /// Closes every open connection with a reset (RST to the client; the server side is
    /// closed); returns how many were open. New connections are accepted as before.
    pub fn reset(&self) -> usize {
        let open = self.open_connections();
        self.resets.send_modify(|n| *n += 1);
        open
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The accepting task owns every connection's task: aborting it drops them all.
        self.accepting.abort();
    }
}

/// Accepts connections until the proxy drops; each is served by a task of its own.
async fn accept(
    listener: TcpListener,
    upstream: Upstream,
    mode: watch::Sender<Mode>,
    resets: watch::Sender<u64>,
    open: Arc<AtomicUsize>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                let guard = OpenGuard::new(open.clone());
                // Subscribed before the task runs: a reset from now on reaches it.
                let reset = resets.subscribe();
                let mode = mode.subscribe();
                let upstream = upstream.clone();
                connections.spawn(async move {
                    serve(client, upstream, mode, reset).await;
                    drop(guard);
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Counts a connection as open while it lives.
struct OpenGuard(Arc<AtomicUsize>);

impl OpenGuard {
    fn new(open: Arc<AtomicUsize>) -> OpenGuard {
        open.fetch_add(1, Ordering::SeqCst);
        OpenGuard(open)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One client connection: connect upstream (once nothing is blackholed) and forward both
/// ways until both sides are done, one fails, or a reset comes.
async fn serve(
    mut client: TcpStream,
    upstream: Upstream,
    mode: watch::Receiver<Mode>,
    mut reset: watch::Receiver<u64>,
) {
    let _ = client.set_nodelay(true);
    let outcome = tokio::select! {
        outcome = connect_and_forward(&mut client, &upstream, mode) => outcome,
        _ = reset.changed() => Err(io::ErrorKind::ConnectionReset.into()),
    };
    if outcome.is_err() {
        // Closing with a zero linger time sends RST instead of FIN.
        let _ = client.set_zero_linger();
    }
}

async fn connect_and_forward(
    client: &mut TcpStream,
    upstream: &Upstream,
    mut mode: watch::Receiver<Mode>,
) -> io::Result<()> {
    wait_open(&mut mode).await;
    match upstream {
        Upstream::Tcp(addr) => {
            let server = TcpStream::connect(addr).await?;
            let _ = server.set_nodelay(true);
            forward(client, server, mode).await
        }
        Upstream::Unix(path) => forward(client, UnixStream::connect(path).await?, mode).await,
    }
}

async fn forward<S>(
    client: &mut TcpStream,
    server: S,
    mode: watch::Receiver<Mode>,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite,
{
    let (client_read, client_write) = client.split();
    let (server_read, server_write) = tokio::io::split(server);
    tokio::try_join!(
        direction(client_read, server_write, mode.clone()),
        direction(server_read, client_write, mode),
    )
    .map(drop)
}

/// One direction: a reader that stamps each chunk with the instant it may leave, and a writer
/// that sends the chunks in order once that instant has come and nothing is blackholed. At
/// the end of the input, the output is shut down after the last chunk (a half close).
async fn direction<R, W>(mut from: R, mut to: W, mode: watch::Receiver<Mode>) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (chunks, mut queued) = mpsc::channel::<(Instant, Vec<u8>)>(IN_FLIGHT);
    let mut read_mode = mode.clone();
    let read = async move {
        loop {
            wait_open(&mut read_mode).await;
            let mut buf = vec![0; CHUNK];
            let n = from.read(&mut buf).await?;
            if n == 0 {
                return Ok::<(), io::Error>(());
            }
            buf.truncate(n);
            let delay = match *read_mode.borrow() {
                Mode::Latency(delay) => delay,
                Mode::PassThrough | Mode::Blackhole => Duration::ZERO,
            };
            if chunks.send((Instant::now() + delay, buf)).await.is_err() {
                return Ok(());
            }
        }
    };
    let mut write_mode = mode;
    let write = async move {
        while let Some((due, buf)) = queued.recv().await {
            tokio::time::sleep_until(due).await;
            wait_open(&mut write_mode).await;
            to.write_all(&buf).await?;
        }
        to.shutdown().await
    };
    tokio::try_join!(read, write).map(drop)
}

/// Waits while the proxy is a blackhole.
async fn wait_open(mode: &mut watch::Receiver<Mode>) {
    // Fails only when the proxy is gone, which aborts this task anyway.
    let _ = mode.wait_for(|m| *m != Mode::Blackhole).await;
}

#[cfg(test)]
mod tests;
