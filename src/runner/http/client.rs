//! Connections to the target: TCP (and TLS) set up on demand, kept alive in a small idle pool.
//! An iteration (or closed-model user) holds one connection for all its steps, like a browser
//! session, so the pool lock is taken per iteration, not per request.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http::{HeaderName, HeaderValue, Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::body::BodyBudget;
use super::tls::{TlsError, client_config};
use crate::scenario::{HttpVersion, TargetPlan};

/// Idle connections kept beyond this many are closed.
const MAX_IDLE: usize = 4096;

/// Largest read buffer of one connection, bytes.
const READ_BUFFER: usize = 64 * 1024;

/// A request body: every body rehearse sends is fully built before sending.
pub type Body = super::payload::Payload;

type Sender = SendRequest<Body>;
type Sender2 = http2::SendRequest<Body>;

/// What the target speaks, once known: HTTP/2 for `http = "2"`, HTTP/1.1 for `"1.1"`, and for
/// `"auto"` what the first TLS handshake's ALPN picked.
const PROTO_UNKNOWN: u8 = 0;
const PROTO_H1: u8 = 1;
const PROTO_H2: u8 = 2;

/// HTTP/2 connections every customer's requests share, as streams.
struct H2Pool {
    slots: Vec<tokio::sync::Mutex<Option<Sender2>>>,
    next: AtomicUsize,
}

/// A new connection, in the protocol the handshake settled on.
enum Fresh {
    H1(Sender),
    H2(Sender2),
}

/// A transport-level failure.
#[derive(Debug)]
pub enum Transport {
    /// Could not connect (TCP or TLS).
    Connect(String),
    /// The connection broke mid-exchange, or the response was not HTTP.
    Reset(String),
}

/// The HTTP client for one target.
pub struct HttpClient {
    host: String,
    port: u16,
    /// `Host` header value.
    pub authority: HeaderValue,
    /// Path prefix from the base URL.
    pub base_path: String,
    /// Headers every request carries unless a step sets them.
    pub default_headers: Vec<(HeaderName, HeaderValue)>,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    idle: Mutex<Vec<Sender>>,
    /// Memory for response bodies kept by every request in flight.
    pub budget: BodyBudget,
    /// Whether each simulated customer keeps a cookie jar.
    pub cookies: bool,
    /// The host as cookies are scoped: lower case, no port.
    cookie_host: String,
    /// Which protocol requests use (see [`PROTO_H2`]).
    proto: AtomicU8,
    /// Whether a TLS handshake may pick HTTP/2.
    version: HttpVersion,
    h2: H2Pool,
}

/// The connection a simulated customer is using, and its cookies (an iteration's in the
/// open model; a user's, across its iterations, in the closed one).
#[derive(Default)]
pub struct Session {
    conn: Option<Sender>,
    /// The customer's cookies.
    pub cookies: super::cookies::Jar,
}

impl Session {
    /// Drops the connection (it may be mid-exchange after a failed step), keeping the
    /// cookies: the customer is the same.
    pub fn reconnect(&mut self) {
        self.conn = None;
    }
}

impl HttpClient {
    /// Prepares a client whose kept response bodies share `body_budget` bytes; fails only on
    /// TLS configuration problems.
    pub fn new(target: &TargetPlan, body_budget: u64) -> Result<Arc<Self>, TlsError> {
        let tls = match &target.tls {
            None => None,
            Some(plan) => {
                let alpn: &[&[u8]] = match target.http {
                    HttpVersion::Http1 => &[b"http/1.1"],
                    HttpVersion::Http2 => &[b"h2"],
                    HttpVersion::Auto => &[b"h2", b"http/1.1"],
                };
                let config = client_config(plan, alpn)?;
                let name =
                    ServerName::try_from(target.host.clone()).map_err(|_| TlsError::CaFile {
                        path: String::new(),
                        message: format!("`{}` is not a valid TLS server name", target.host),
                    })?;
                Some((TlsConnector::from(config), name))
            }
        };
        let mut default_headers = target.headers.clone();
        if let Some(auth) = &target.basic_auth
            && !default_headers
                .iter()
                .any(|(n, _)| n == http::header::AUTHORIZATION)
        {
            default_headers.push((http::header::AUTHORIZATION, auth.clone()));
        }
        if !default_headers
            .iter()
            .any(|(n, _)| n == http::header::USER_AGENT)
        {
            default_headers.push((
                http::header::USER_AGENT,
                HeaderValue::from_static(concat!("rehearse/", env!("CARGO_PKG_VERSION"))),
            ));
        }
        Ok(Arc::new(Self {
            host: target.host.clone(),
            port: target.port,
            authority: HeaderValue::from_str(&target.authority)
                .expect("authority came from a parsed URI"),
            base_path: target.base_path.clone(),
            default_headers,
            tls,
            idle: Mutex::new(Vec::new()),
            budget: BodyBudget::new(body_budget),
            cookies: target.cookies,
            cookie_host: target.host.to_ascii_lowercase(),
            proto: AtomicU8::new(match (target.http, target.tls.is_some()) {
                (HttpVersion::Http1, _) | (HttpVersion::Auto, false) => PROTO_H1,
                (HttpVersion::Http2, _) => PROTO_H2,
                (HttpVersion::Auto, true) => PROTO_UNKNOWN,
            }),
            version: target.http,
            h2: H2Pool {
                slots: (0..target.connections.max(1))
                    .map(|_| tokio::sync::Mutex::new(None))
                    .collect(),
                next: AtomicUsize::new(0),
            },
        }))
    }

    /// Sends a request on the session's connection, connecting or reusing one as needed.
    /// A request that never left because a kept-alive connection had just closed is
    /// retried once on a fresh connection: that is the client's problem, not the target's.
    pub async fn send(
        &self,
        session: &mut Session,
        req: Request<Body>,
    ) -> Result<Response<Incoming>, Transport> {
        if self.proto.load(Ordering::Relaxed) == PROTO_H2 {
            return self.send_h2(req).await;
        }
        let (mut sender, reused) = match self.checkout(session).await? {
            Checkout::H1(sender, reused) => (sender, reused),
            // `auto` over TLS: the server chose HTTP/2 on the first connection.
            Checkout::H2 => return self.send_h2(req).await,
        };
        let req = match sender.try_send_request(req).await {
            Ok(resp) => {
                session.conn = Some(sender);
                return Ok(resp);
            }
            Err(mut e) => match e.take_message() {
                Some(req) if reused => req,
                _ => return Err(classify(e.error())),
            },
        };
        let mut sender = match self.connect().await? {
            Fresh::H1(sender) => sender,
            Fresh::H2(sender) => {
                self.adopt(sender).await;
                return self.send_h2(req).await;
            }
        };
        match sender.send_request(req).await {
            Ok(resp) => {
                session.conn = Some(sender);
                Ok(resp)
            }
            Err(e) => Err(classify(&e)),
        }
    }

    /// The host as cookies are scoped: lower case, no port.
    pub fn cookie_host(&self) -> &str {
        &self.cookie_host
    }

    /// Whether requests go over TLS (`Secure` cookies are sent only then).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Returns the session's connection to the idle pool.
    pub fn release(&self, session: Session) {
        if let Some(conn) = session.conn.filter(|c| !c.is_closed()) {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
    }

    async fn checkout(&self, session: &mut Session) -> Result<Checkout, Transport> {
        if let Some(mut c) = session.conn.take()
            && !c.is_closed()
            && c.ready().await.is_ok()
        {
            return Ok(Checkout::H1(c, true));
        }
        loop {
            let candidate = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match candidate {
                Some(mut c) => {
                    if !c.is_closed() && c.ready().await.is_ok() {
                        return Ok(Checkout::H1(c, true));
                    }
                }
                None => {
                    return Ok(match self.connect().await? {
                        Fresh::H1(c) => Checkout::H1(c, false),
                        Fresh::H2(c) => {
                            self.adopt(c).await;
                            Checkout::H2
                        }
                    });
                }
            }
        }
    }

    /// Puts an HTTP/2 connection the `auto` handshake produced into the shared pool.
    async fn adopt(&self, sender: Sender2) {
        let mut slot = self.h2.slots[0].lock().await;
        if slot.as_ref().is_none_or(|s| s.is_closed()) {
            *slot = Some(sender);
        }
    }

    /// Sends a request as a stream on one of the shared HTTP/2 connections (round robin),
    /// opening it first if it is not open. A request the server says it did not process goes
    /// once more, on the slot's connection or a new one: a refused stream (RST_STREAM
    /// REFUSED_STREAM, never processed by definition), or a stream above a GOAWAY's last
    /// stream id when its method is idempotent (a POST is not sent twice on a guess).
    async fn send_h2(&self, req: Request<Body>) -> Result<Response<Incoming>, Transport> {
        let req = self.for_h2(req)?;
        let i = self.h2.next.fetch_add(1, Ordering::Relaxed) % self.h2.slots.len();
        let mut sender = self.h2_sender(i).await?;
        let (head, body) = req.into_parts();
        let again = Request::from_parts(head.clone(), body.clone());
        let error = match sender
            .try_send_request(Request::from_parts(head, body))
            .await
        {
            Ok(resp) => return Ok(resp),
            Err(mut e) => {
                if e.take_message().is_none() && !unprocessed(e.error(), again.method()) {
                    return Err(self.h2_failure(e.error()));
                }
                e.into_error()
            }
        };
        let mut sender = self.h2_sender(i).await?;
        sender.send_request(again).await.map_err(|e| {
            let mut t = self.h2_failure(&e);
            if let Transport::Reset(m) = &mut t {
                m.push_str(&format!(" (sent again after: {error})"));
            }
            t
        })
    }

    /// An HTTP/2 failure as a transport failure; a plain-text server that answers the h2c
    /// preface with something else is named as such.
    fn h2_failure(&self, e: &hyper::Error) -> Transport {
        let t = classify(e);
        match t {
            Transport::Reset(m) if self.tls.is_none() && m.contains("frame with invalid size") => {
                Transport::Connect(format!(
                    "{}:{} did not answer in HTTP/2 (h2c, prior knowledge): {m}",
                    self.host, self.port
                ))
            }
            other => other,
        }
    }

    /// The connection in slot `i`, opened (again, if it has closed) when needed.
    async fn h2_sender(&self, i: usize) -> Result<Sender2, Transport> {
        let mut slot = self.h2.slots[i].lock().await;
        if let Some(s) = slot.as_mut()
            && !s.is_closed()
            && s.ready().await.is_ok()
        {
            return Ok(s.clone());
        }
        *slot = None;
        let sender = match self.connect().await? {
            Fresh::H2(s) => s,
            Fresh::H1(_) => {
                return Err(Transport::Connect(format!(
                    "{} did not agree to HTTP/2 (ALPN chose HTTP/1.1)",
                    self.host
                )));
            }
        };
        *slot = Some(sender.clone());
        Ok(sender)
    }

    /// An HTTP/2 request names its target in the URI (`:authority`), not a `Host` header: the
    /// request's `Host` (the target's, or one a scenario set for a virtual host) becomes it.
    fn for_h2(&self, req: Request<Body>) -> Result<Request<Body>, Transport> {
        let (mut head, body) = req.into_parts();
        let host = head.headers.remove(http::header::HOST);
        let authority = host
            .as_ref()
            .unwrap_or(&self.authority)
            .to_str()
            .map_err(|e| Transport::Connect(format!("request authority: {e}")))?;
        let path = head.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let uri = format!("{scheme}://{authority}{path}");
        head.uri = uri
            .parse()
            .map_err(|e| Transport::Connect(format!("request URI: {e}")))?;
        head.version = http::Version::HTTP_2;
        Ok(Request::from_parts(head, body))
    }

    async fn connect(&self) -> Result<Fresh, Transport> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                Transport::Connect(format!("connect to {}:{}: {e}", self.host, self.port))
            })?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None if self.version == HttpVersion::Http2 => {
                // Plain text: HTTP/2 with prior knowledge (h2c), no upgrade dance.
                handshake_h2(TokioIo::new(tcp)).await.map(Fresh::H2)
            }
            None => handshake(TokioIo::new(tcp)).await.map(Fresh::H1),
            Some((connector, name)) => {
                let stream = connector.connect(name.clone(), tcp).await.map_err(|e| {
                    let refused_h2 = self.version == HttpVersion::Http2
                        && e.to_string().contains("NoApplicationProtocol");
                    Transport::Connect(if refused_h2 {
                        format!(
                            "{} did not agree to HTTP/2 (TLS handshake: no common ALPN protocol)",
                            self.host
                        )
                    } else {
                        format!("TLS handshake with {}: {e}", self.host)
                    })
                })?;
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                if self.version == HttpVersion::Auto {
                    // The first handshake settles what every later request speaks.
                    let _ = self.proto.compare_exchange(
                        PROTO_UNKNOWN,
                        if h2 { PROTO_H2 } else { PROTO_H1 },
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                if h2 {
                    handshake_h2(TokioIo::new(stream)).await.map(Fresh::H2)
                } else if self.version == HttpVersion::Http2 {
                    Err(Transport::Connect(format!(
                        "{} did not agree to HTTP/2 (its TLS handshake offered no h2)",
                        self.host
                    )))
                } else {
                    handshake(TokioIo::new(stream)).await.map(Fresh::H1)
                }
            }
        }
    }
}

/// What a customer's request goes out on.
enum Checkout {
    /// Its HTTP/1.1 connection, and whether it was used before.
    H1(Sender, bool),
    /// The shared HTTP/2 connections.
    H2,
}

async fn handshake_h2<T>(io: T) -> Result<Sender2, Transport>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http2::Builder::new(TokioExecutor::new())
        .handshake(io)
        .await
        .map_err(|e| Transport::Connect(format!("HTTP/2 handshake: {e}")))?;
    // The connection task ends when the connection closes (GOAWAY, reset, EOF); its error
    // reaches the streams in flight.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn handshake<T>(io: T) -> Result<Sender, Transport>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // A small read buffer per connection: a thousand connections streaming large bodies
    // must not grow hyper's buffers to hundreds of kilobytes each.
    let (sender, conn) = http1::Builder::new()
        .max_buf_size(READ_BUFFER)
        .handshake(io)
        .await
        .map_err(|e| Transport::Connect(format!("HTTP handshake: {e}")))?;
    // The connection task ends when the connection closes; its error, if any, reaches
    // the request that was in flight.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Whether an HTTP/2 failure says the server did not process the request: a refused stream,
/// or (for an idempotent method) a stream a GOAWAY left out.
fn unprocessed(e: &hyper::Error, method: &http::Method) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h2) = s.downcast_ref::<h2::Error>() {
            if h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM) {
                return true;
            }
            return h2.is_go_away() && h2.is_remote() && method.is_idempotent();
        }
        source = s.source();
    }
    false
}

/// Maps a hyper error to a transport failure with a readable message.
pub fn classify(e: &hyper::Error) -> Transport {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Transport::Reset(message)
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    /// What the scripted connection has seen and will do.
    #[derive(Default)]
    struct Script {
        written: Vec<u8>,
        answered: usize,
        /// Response bytes the client has not read yet.
        unread: Vec<u8>,
        /// The server has closed: once `unread` is drained, reads see end of file.
        closed: bool,
        reader: Option<Waker>,
    }

    impl Script {
        fn requests(&self) -> usize {
            self.written.windows(4).filter(|w| w == b"\r\n\r\n").count()
        }
    }

    /// A connection whose timing the test controls: it answers every request until the test
    /// closes it, and the close is not signalled, like a FIN the client has not read yet.
    #[derive(Clone, Default)]
    struct Scripted(Arc<Mutex<Script>>);

    impl Scripted {
        /// The server closes; the client finds out only when it next reads.
        fn close_unannounced(&self) {
            self.0.lock().unwrap().closed = true;
        }

        /// Requests the client wrote on this connection.
        fn requests(&self) -> usize {
            self.0.lock().unwrap().requests()
        }
    }

    impl hyper::rt::Read for Scripted {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            mut buf: hyper::rt::ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            let mut script = self.0.lock().unwrap();
            if !script.unread.is_empty() {
                let n = script.unread.len().min(buf.remaining());
                buf.put_slice(&script.unread[..n]);
                script.unread.drain(..n);
                Poll::Ready(Ok(()))
            } else if script.closed {
                Poll::Ready(Ok(()))
            } else {
                script.reader = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    impl hyper::rt::Write for Scripted {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            let mut script = self.0.lock().unwrap();
            script.written.extend_from_slice(data);
            while !script.closed && script.answered < script.requests() {
                script.answered += 1;
                script.unread.extend_from_slice(OK);
                if let Some(reader) = script.reader.take() {
                    reader.wake();
                }
            }
            Poll::Ready(Ok(data.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// What the test server does after its last answer on a connection.
    #[derive(Clone, Copy, PartialEq)]
    enum Then {
        /// Closes at once, as a server ending an idle keep-alive connection.
        Close,
        /// Reads the next request, then closes without answering it.
        ReadAndClose,
    }

    /// A raw HTTP/1.1 server on 127.0.0.1 that answers `answer` requests per connection, then
    /// does `then`; returns its address and a count of accepted connections.
    async fn server(answer: usize, then: Then) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let (mut seen, mut answered) = (Vec::new(), 0);
                    let mut chunk = [0u8; 1024];
                    while !(answered == answer && then == Then::Close) {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&chunk[..n]),
                        }
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            if answered == answer {
                                return;
                            }
                            answered += 1;
                            if stream.write_all(OK).await.is_err() {
                                return;
                            }
                        }
                    }
                    // Dropping the stream closes it.
                });
            }
        });
        (addr, accepted)
    }

    fn client(addr: SocketAddr) -> Arc<HttpClient> {
        HttpClient::new(
            &TargetPlan {
                base_url: format!("http://{addr}"),
                basic_auth: None,
                tls: None,
                host: addr.ip().to_string(),
                port: addr.port(),
                authority: addr.to_string(),
                base_path: String::new(),
                headers: Vec::new(),
                timeout: Duration::from_secs(5),
                max_body: 1024 * 1024,
                cookies: true,
                max_redirects: 10,
                http: crate::scenario::HttpVersion::Http1,
                connections: 1,
            },
            0,
        )
        .unwrap()
    }

    fn get() -> Request<Body> {
        Request::get("/").body(Body::default()).unwrap()
    }

    /// Sends on the session and reads the whole body, as a step does; a hang fails the test
    /// instead of passing as a timeout.
    async fn exchange(
        client: &HttpClient,
        session: &mut Session,
    ) -> Result<(u16, bytes::Bytes), Transport> {
        let exchange = async {
            let resp = client.send(session, get()).await?;
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(Duration::from_secs(60), exchange)
            .await
            .expect("the exchange hung instead of ending")
    }

    #[tokio::test]
    async fn request_held_back_by_a_keep_alive_connection_the_server_closed_is_sent_on_a_fresh_one()
    {
        let (addr, accepted) = server(usize::MAX, Then::Close).await;
        let client = client(addr);
        let kept = Scripted::default();
        let mut session = Session {
            conn: Some(handshake(kept.clone()).await.unwrap()),
            ..Session::default()
        };
        assert_eq!(exchange(&client, &mut session).await.unwrap().0, 200);
        // The connection is idle and looks open: its end is in but not yet read.
        kept.close_unannounced();

        let (status, body) = exchange(&client, &mut session)
            .await
            .expect("a request never written is the client's to resend");
        assert_eq!((status, &body[..]), (200, &b"ok"[..]));
        assert_eq!(
            kept.requests(),
            1,
            "the second request reached the closed connection"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn request_written_before_the_connection_closed_unanswered_is_a_reset_not_a_timeout() {
        let (addr, accepted) = server(1, Then::ReadAndClose).await;
        let client = client(addr);
        let mut session = Session::default();
        assert_eq!(exchange(&client, &mut session).await.unwrap().0, 200);

        let second = exchange(&client, &mut session).await;
        assert!(
            matches!(second, Err(Transport::Reset(_))),
            "expected a reset, got {second:?}"
        );
        // The target may have acted on it (a payment): it must not be sent again.
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn pooled_connection_the_server_closed_is_not_reused() {
        let (addr, accepted) = server(1, Then::Close).await;
        let client = client(addr);
        let mut session = Session::default();
        assert_eq!(exchange(&client, &mut session).await.unwrap().0, 200);
        client.release(session);
        let seen_closed = async {
            while !client.idle.lock().unwrap().iter().all(|c| c.is_closed()) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), seen_closed)
            .await
            .expect("the client never saw the server close the connection");

        let mut next = Session::default();
        assert_eq!(exchange(&client, &mut next).await.unwrap().0, 200);
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }
}
