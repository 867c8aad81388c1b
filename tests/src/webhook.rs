//! A webhook receiver on loopback for the alert tests: it records every POST (body and
//! headers) in arrival order, and can be taken down (its port closed: connections refused)
//! and brought back on the same port, or made to hold every request without ever answering.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The JSON body.
    pub body: Value,
    /// The request's headers.
    pub headers: HeaderMap,
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// While down, a request that still arrives (on a connection opened before) is refused
    /// with 503 and not recorded.
    down: AtomicBool,
    /// While set, a request is counted in `held` and never answered.
    hang: AtomicBool,
    held: std::sync::atomic::AtomicUsize,
}

/// The receiver.
#[derive(Debug)]
pub struct Receiver {
    shared: Arc<Shared>,
    server: Option<tokio::task::JoinHandle<()>>,
    pub port: u16,
}

impl Receiver {
    /// Start on a free loopback port.
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut receiver = Receiver {
            shared: Arc::default(),
            server: None,
            port,
        };
        receiver.serve(listener);
        receiver
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(self.shared.clone());
        self.server = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    /// The URL to configure, with a query that stands for a token.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook?token=s3cret-in-url", self.port)
    }

    /// Close the port: connections are refused until [`Receiver::up`].
    pub fn down(&mut self) {
        self.shared.down.store(true, Ordering::SeqCst);
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }

    /// Listen again on the same port.
    pub async fn up(&mut self) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket
            .bind(([127, 0, 0, 1], self.port).into())
            .expect("rebind the receiver's port");
        let listener = socket.listen(128).unwrap();
        self.shared.down.store(false, Ordering::SeqCst);
        self.serve(listener);
    }

    /// While `hang`, hold every request without answering (it is not recorded).
    pub fn hang(&self, hang: bool) {
        self.shared.hang.store(hang, Ordering::SeqCst);
    }

    /// How many requests were held without an answer.
    pub fn held(&self) -> usize {
        self.shared.held.load(Ordering::SeqCst)
    }

    /// Every request received, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The bodies of the requests received for `event`, in arrival order.
    pub fn bodies(&self, event: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .map(|r| r.body)
            .filter(|b| {
                b["event"] == event || b["text"].as_str().is_some_and(|t| t.contains(event))
            })
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    if shared.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if shared.hang.load(Ordering::SeqCst) {
        shared.held.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    shared
        .received
        .lock()
        .unwrap()
        .push(Received { body, headers });
    StatusCode::OK
}
