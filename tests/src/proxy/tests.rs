use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener};

use super::{Mode, Proxy, Upstream};

/// How long a test waits for what must happen.
const DEADLINE: Duration = Duration::from_secs(10);
/// How long a test watches for what must not happen (a blackhole forwarding).
const QUIET: Duration = Duration::from_millis(400);

/// A server that echoes every byte back on every connection it accepts.
async fn echo_tcp() -> SocketAddrGuard {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    SocketAddrGuard { addr, task }
}

struct SocketAddrGuard {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SocketAddrGuard {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `len` bytes of a pattern that shows misordering.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Writes `data` and reads as many bytes back (concurrently, so neither side stalls).
async fn round_trip(stream: TcpStream, data: &[u8]) -> Vec<u8> {
    let (mut r, mut w) = stream.into_split();
    let sent = data.to_vec();
    let writer = tokio::spawn(async move { w.write_all(&sent).await.unwrap() });
    let mut back = vec![0; data.len()];
    tokio::time::timeout(DEADLINE, r.read_exact(&mut back))
        .await
        .expect("echo within the deadline")
        .unwrap();
    writer.await.unwrap();
    back
}

#[tokio::test]
async fn bytes_pass_both_ways_to_a_tcp_server() {
    let echo = echo_tcp().await;
    let proxy = Proxy::start(Upstream::Tcp(echo.addr)).await.unwrap();
    let data = pattern(1 << 20);
    let stream = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(stream, &data).await, data);
}

#[tokio::test]
async fn bytes_pass_both_ways_to_a_unix_socket_and_a_half_close_reaches_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sock");
    let listener = UnixListener::bind(&path).unwrap();
    let proxy = Proxy::start(Upstream::Unix(path)).await.unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    let (mut server, _) = listener.accept().await.unwrap();

    client.write_all(b"ping").await.unwrap();
    client.shutdown().await.unwrap();
    // The server reads the bytes, then the end of the stream.
    let mut got = Vec::new();
    tokio::time::timeout(DEADLINE, server.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"ping");
    // The other direction stays open until the server closes it.
    server.write_all(b"pong").await.unwrap();
    drop(server);
    let mut back = Vec::new();
    tokio::time::timeout(DEADLINE, client.read_to_end(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back, b"pong");
}

#[tokio::test]
async fn latency_delays_each_way_and_keeps_the_order() {
    let echo = echo_tcp().await;
    let proxy = Proxy::start(Upstream::Tcp(echo.addr)).await.unwrap();
    let delay = Duration::from_millis(100);
    proxy.set_mode(Mode::Latency(delay));
    assert_eq!(proxy.mode(), Mode::Latency(delay));
    let stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let (mut r, mut w) = stream.into_split();

    // Numbered messages written one by one: they come back complete and in order, the first
    // no sooner than one delay each way.
    let messages: Vec<Vec<u8>> = (0..200u32)
        .map(|i| format!("message {i:05};").into_bytes())
        .collect();
    let expected: Vec<u8> = messages.concat();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        for m in messages {
            w.write_all(&m).await.unwrap();
            tokio::task::yield_now().await;
        }
        w
    });
    let mut first = [0u8; 1];
    tokio::time::timeout(DEADLINE, r.read_exact(&mut first))
        .await
        .unwrap()
        .unwrap();
    let round_trip = start.elapsed();
    let mut rest = vec![0; expected.len() - 1];
    tokio::time::timeout(DEADLINE, r.read_exact(&mut rest))
        .await
        .unwrap()
        .unwrap();
    let _w = writer.await.unwrap();
    let mut back = first.to_vec();
    back.extend(rest);
    assert_eq!(
        String::from_utf8(back).unwrap(),
        String::from_utf8(expected).unwrap()
    );
    assert!(
        round_trip >= 2 * delay,
        "first byte back after {round_trip:?}, sooner than {delay:?} each way"
    );

    // Back to pass-through: the same connection keeps working.
    proxy.set_mode(Mode::PassThrough);
    let mut again = r.reunite(_w).unwrap();
    again.write_all(b"x").await.unwrap();
    let mut x = [0u8; 1];
    tokio::time::timeout(DEADLINE, again.read_exact(&mut x))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&x, b"x");
}

#[tokio::test]
async fn a_blackhole_forwards_nothing_either_way_until_healed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = Proxy::start(Upstream::Tcp(listener.local_addr().unwrap()))
        .await
        .unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    let (mut server, _) = listener.accept().await.unwrap();
    client.write_all(b"before").await.unwrap();
    let mut six = [0u8; 6];
    server.read_exact(&mut six).await.unwrap();
    assert_eq!(&six, b"before");

    proxy.set_mode(Mode::Blackhole);
    client.write_all(b"to server").await.unwrap();
    server.write_all(b"to client").await.unwrap();
    // A new connection is accepted by the proxy but does not reach the server.
    let mut late = TcpStream::connect(proxy.addr()).await.unwrap();
    late.write_all(b"late").await.unwrap();
    let mut buf = [0u8; 9];
    assert!(
        tokio::time::timeout(QUIET, server.read_exact(&mut buf))
            .await
            .is_err(),
        "bytes reached the server through a blackhole"
    );
    assert!(
        tokio::time::timeout(QUIET, client.read_exact(&mut buf))
            .await
            .is_err(),
        "bytes reached the client through a blackhole"
    );
    assert!(
        tokio::time::timeout(QUIET, listener.accept())
            .await
            .is_err(),
        "a connection reached the server through a blackhole"
    );
    assert_eq!(proxy.open_connections(), 2);

    // Healed: what was sent meanwhile arrives, and the late connection reaches the server.
    proxy.set_mode(Mode::PassThrough);
    tokio::time::timeout(DEADLINE, server.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"to server");
    tokio::time::timeout(DEADLINE, client.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"to client");
    let (mut late_server, _) = tokio::time::timeout(DEADLINE, listener.accept())
        .await
        .unwrap()
        .unwrap();
    let mut four = [0u8; 4];
    late_server.read_exact(&mut four).await.unwrap();
    assert_eq!(&four, b"late");
}

#[tokio::test]
async fn a_reset_closes_open_connections_and_admits_new_ones() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = Proxy::start(Upstream::Tcp(listener.local_addr().unwrap()))
        .await
        .unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    let (mut server, _) = listener.accept().await.unwrap();
    client.write_all(b"hi").await.unwrap();
    let mut two = [0u8; 2];
    server.read_exact(&mut two).await.unwrap();
    assert_eq!(proxy.open_connections(), 1);

    assert_eq!(proxy.reset(), 1);
    // The client sees a reset, not an orderly end of stream.
    let read = tokio::time::timeout(DEADLINE, client.read(&mut two))
        .await
        .expect("the client learns of the reset");
    let error = read.expect_err("a reset, not an end of stream");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    // The server's side is closed.
    let n = tokio::time::timeout(DEADLINE, server.read(&mut two))
        .await
        .expect("the server learns of the close")
        .unwrap_or(0);
    assert_eq!(n, 0);

    // A new connection passes as before.
    let mut again = TcpStream::connect(proxy.addr()).await.unwrap();
    let (mut server, _) = tokio::time::timeout(DEADLINE, listener.accept())
        .await
        .unwrap()
        .unwrap();
    again.write_all(b"ok").await.unwrap();
    server.read_exact(&mut two).await.unwrap();
    assert_eq!(&two, b"ok");
    assert_eq!(proxy.open_connections(), 1);
}

#[tokio::test]
async fn a_server_that_refuses_the_connection_resets_the_client() {
    // A port that was free a moment ago: nothing listens there.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = Proxy::start(Upstream::Tcp(addr)).await.unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut buf = [0u8; 1];
    let read = tokio::time::timeout(DEADLINE, client.read(&mut buf))
        .await
        .expect("the client learns that the server is not there");
    assert_eq!(
        read.expect_err("a reset").kind(),
        std::io::ErrorKind::ConnectionReset
    );
}
