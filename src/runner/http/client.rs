//! Connections to the target: TCP (and TLS) set up on demand, kept alive in a small idle pool.
//! An iteration (or closed-model user) holds one connection for all its steps, like a browser
//! session, so the pool lock is taken per iteration, not per request.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::body::BodyBudget;
use super::tls::{TlsError, client_config};
use crate::scenario::TargetPlan;

/// Idle connections kept beyond this many are closed.
const MAX_IDLE: usize = 4096;

/// Largest read buffer of one connection, bytes.
const READ_BUFFER: usize = 64 * 1024;

/// A request body: every body rehearse sends is fully built before sending.
pub type Body = Full<Bytes>;

type Sender = SendRequest<Body>;

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
}

/// The connection an iteration is using.
#[derive(Default)]
pub struct Session {
    conn: Option<Sender>,
}

impl HttpClient {
    /// Prepares a client whose kept response bodies share `body_budget` bytes; fails only on
    /// TLS configuration problems.
    pub fn new(target: &TargetPlan, body_budget: u64) -> Result<Arc<Self>, TlsError> {
        let tls = match &target.tls {
            None => None,
            Some(plan) => {
                let config = client_config(plan)?;
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
        let (mut sender, reused) = self.checkout(session).await?;
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
        let mut sender = self.connect().await?;
        match sender.send_request(req).await {
            Ok(resp) => {
                session.conn = Some(sender);
                Ok(resp)
            }
            Err(e) => Err(classify(&e)),
        }
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

    async fn checkout(&self, session: &mut Session) -> Result<(Sender, bool), Transport> {
        if let Some(mut c) = session.conn.take()
            && !c.is_closed()
            && c.ready().await.is_ok()
        {
            return Ok((c, true));
        }
        loop {
            let candidate = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match candidate {
                Some(mut c) => {
                    if !c.is_closed() && c.ready().await.is_ok() {
                        return Ok((c, true));
                    }
                }
                None => return Ok((self.connect().await?, false)),
            }
        }
    }

    async fn connect(&self) -> Result<Sender, Transport> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                Transport::Connect(format!("connect to {}:{}: {e}", self.host, self.port))
            })?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => handshake(TokioIo::new(tcp)).await,
            Some((connector, name)) => {
                let stream = connector.connect(name.clone(), tcp).await.map_err(|e| {
                    Transport::Connect(format!("TLS handshake with {}: {e}", self.host))
                })?;
                handshake(TokioIo::new(stream)).await
            }
        }
    }
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
