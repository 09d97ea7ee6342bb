//! Hostile or instrumented targets for end-to-end tests, each on an ephemeral loopback port
//! and stopped when dropped: a server that echoes requests back as a 500, one that streams
//! an endless body, and a listener that only records whether anyone connected.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// A plain-thread HTTP/1.1 server answering every request with `respond(request head)`.
pub struct RawServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl RawServer {
    /// Serves `respond` (request head in, whole response bytes out) on a free port.
    pub fn start(respond: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let respond = Arc::new(respond);
        let (s, c) = (stop.clone(), connections.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Acquire) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        c.fetch_add(1, Ordering::Relaxed);
                        let respond = respond.clone();
                        std::thread::spawn(move || serve(stream, &*respond));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        RawServer {
            url,
            connections,
            stop,
        }
    }

    /// Answers 500 with the request's head (request line and headers) as the body.
    pub fn echo() -> Self {
        Self::start(|head| {
            let body = head.as_bytes();
            let mut out = format!(
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(body);
            out
        })
    }

    /// Answers with `status` and this body.
    pub fn fixed(status: u16, body: &'static str) -> Self {
        Self::start(move |_| {
            format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
    }
}

fn serve(mut stream: TcpStream, respond: &(dyn Fn(&str) -> Vec<u8> + Send + Sync)) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // One request per connection is enough for these tests: read its head, answer, close.
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let mut response = respond(&head);
            // Close after answering, and say so.
            if let Some(at) = response.windows(4).position(|w| w == b"\r\n\r\n") {
                response.splice(at..at, b"\r\nconnection: close".iter().copied());
            }
            let _ = stream.write_all(&response);
            let _ = stream.flush();
            return;
        }
    }
}

/// An axum server whose every response is an endless chunked body (64 KiB chunks).
pub struct Endless {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Endless {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

struct Forever(bytes::Bytes);

impl hyper::body::Body for Forever {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(self.0.clone()))))
    }
}

impl Endless {
    /// Starts the server on its own runtime.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let chunk = bytes::Bytes::from(vec![b'{'; 64 * 1024]);
        let app = axum::Router::new().fallback(move || {
            let chunk = chunk.clone();
            async move {
                axum::response::Response::builder()
                    .header("content-type", "application/json")
                    .body(axum::body::Body::new(Forever(chunk)))
                    .unwrap()
            }
        });
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Endless {
            url,
            runtime: Some(runtime),
        }
    }
}
