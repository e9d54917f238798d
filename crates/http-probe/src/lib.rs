//! # http-probe: one bounded HTTP/1.1 GET, for health checks
//!
//! What a resource agent's monitor needs to ask a local web server "are you serving?", and
//! no more: `http://` and `https://` (TLS through rustls, the server's certificate not
//! verified: see [`tls`]), GET only, one request per connection (`Connection: close`),
//! every step (name lookup, connect, TLS handshake, write, read) bounded by one deadline,
//! the response size capped, and redirects followed only while they stay on the same host
//! (and port, unless the redirect changes the scheme, as an http to https one does). Not a
//! general HTTP client: no proxies, cookies, compression or keep-alive.
//!
//! ```no_run
//! let url: http_probe::Url = "http://localhost/server-status".parse().unwrap();
//! let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
//! let response = http_probe::Request::new(url, end).get().unwrap();
//! assert_eq!(response.head.status, 200);
//! ```

mod parse;
pub mod tls;
mod url;

pub use parse::{Body, Head, MAX_HEAD, parse_head};
pub use url::Url;

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Why a GET gave no response.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid URL {url:?}: {why}")]
    InvalidUrl { url: String, why: &'static str },
    #[error("cannot resolve host {host}: {source}")]
    Resolve { host: String, source: io::Error },
    #[error("host {host} has no address")]
    NoAddress { host: String },
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: SocketAddr, source: io::Error },
    #[error("no answer from {url} before the deadline (while {stage})")]
    TimedOut { url: String, stage: &'static str },
    #[error("{stage} {url}: {source}")]
    Io {
        url: String,
        stage: &'static str,
        source: io::Error,
    },
    #[error("malformed HTTP response: {0}")]
    Malformed(&'static str),
    #[error("response larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("redirect from {from} to another host ({to}) not followed")]
    RedirectOffHost { from: String, to: String },
    #[error("more than {0} redirects")]
    TooManyRedirects(u32),
    #[error("TLS with {url}: {source}")]
    Tls { url: String, source: rustls::Error },
}

impl Error {
    /// True when nothing listens at the address (connection refused): the server is not up
    /// (yet), as opposed to up and misbehaving.
    pub fn is_refused(&self) -> bool {
        matches!(self, Error::Connect { source, .. } if source.kind() == io::ErrorKind::ConnectionRefused)
    }

    /// True when the deadline ended the request.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::TimedOut { .. })
    }
}

/// A response: the final URL (after same-host redirects), status and headers, body.
#[derive(Debug, Clone)]
pub struct Response {
    pub url: Url,
    pub head: Head,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced), for matching.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One GET and its limits.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: Url,
    /// Nothing (lookup, connect, write, read, redirects) goes on past this instant.
    pub end: Instant,
    /// Largest response (head and body) accepted; default 4 MiB.
    pub max_response: usize,
    /// Same-host redirects followed; default 5. Redirects to another host are errors.
    pub max_redirects: u32,
    /// HTTP Basic credentials (RFC 7617).
    pub basic_auth: Option<(String, String)>,
    pub user_agent: String,
}

impl Request {
    pub fn new(url: Url, end: Instant) -> Request {
        Request {
            url,
            end,
            max_response: 4 << 20,
            max_redirects: 5,
            basic_auth: None,
            user_agent: concat!("http-probe/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// Send the GET and read the response, following same-host redirects.
    pub fn get(&self) -> Result<Response, Error> {
        let mut url = self.url.clone();
        let mut redirects = 0;
        loop {
            let (head, body) = self.get_once(&url)?;
            let location = head.header("location").map(str::to_owned);
            match (head.status, location) {
                (301 | 302 | 303 | 307 | 308, Some(location)) => {
                    let next = url.join(&location)?;
                    let same_port = next.port == url.port || next.https != url.https;
                    if !next.host.eq_ignore_ascii_case(&url.host) || !same_port {
                        return Err(Error::RedirectOffHost {
                            from: url.to_string(),
                            to: next.to_string(),
                        });
                    }
                    redirects += 1;
                    if redirects > self.max_redirects {
                        return Err(Error::TooManyRedirects(self.max_redirects));
                    }
                    url = next;
                }
                _ => return Ok(Response { url, head, body }),
            }
        }
    }

    fn timed_out(url: &Url, stage: &'static str) -> Error {
        Error::TimedOut {
            url: url.to_string(),
            stage,
        }
    }

    fn remaining(&self, url: &Url, stage: &'static str) -> Result<Duration, Error> {
        let left = self.end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(Self::timed_out(url, stage))
        } else {
            Ok(left)
        }
    }

    fn request_bytes(&self, url: &Url) -> Result<Vec<u8>, Error> {
        // The path goes into the request line: nothing that could end or split it.
        if url
            .path
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::InvalidUrl {
                url: url.path.clone(),
                why: "the path contains white space or control characters",
            });
        }
        let mut req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: */*\r\nConnection: close\r\n",
            url.path,
            url.authority(),
            self.user_agent
        );
        if let Some((user, password)) = &self.basic_auth {
            req.push_str("Authorization: Basic ");
            req.push_str(&base64(format!("{user}:{password}").as_bytes()));
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        Ok(req.into_bytes())
    }

    fn connect(&self, url: &Url) -> Result<TcpStream, Error> {
        let addrs = self.resolve(url)?;
        let mut last = None;
        for addr in addrs {
            let left = self.remaining(url, "connecting")?;
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => return Ok(s),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(Self::timed_out(url, "connecting"));
                }
                Err(source) => last = Some(Error::Connect { addr, source }),
            }
        }
        Err(last.unwrap_or_else(|| Error::NoAddress {
            host: url.host.clone(),
        }))
    }

    /// Addresses for the URL's host: literals and `localhost` (RFC 6761) without asking the
    /// resolver; other names through getaddrinfo on a thread, so a slow DNS server cannot
    /// hold the caller past the deadline.
    fn resolve(&self, url: &Url) -> Result<Vec<SocketAddr>, Error> {
        if let Some(ip) = url.host_ip() {
            return Ok(vec![SocketAddr::new(ip, url.port)]);
        }
        if url.host.eq_ignore_ascii_case("localhost") {
            return Ok([
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
            .into_iter()
            .map(|ip| SocketAddr::new(ip, url.port))
            .collect());
        }
        let (tx, rx) = mpsc::channel();
        let target = (url.host.clone(), url.port);
        std::thread::spawn(move || {
            let _ = tx.send(target.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
        });
        match rx.recv_timeout(self.remaining(url, "resolving")?) {
            Ok(Ok(addrs)) => Ok(addrs),
            Ok(Err(source)) => Err(Error::Resolve {
                host: url.host.clone(),
                source,
            }),
            Err(_) => Err(Self::timed_out(url, "resolving")),
        }
    }

    fn get_once(&self, url: &Url) -> Result<(Head, Vec<u8>), Error> {
        let request = self.request_bytes(url)?;
        let tcp = self.connect(url)?;
        let mut stream = if url.https {
            Stream::Tls(Box::new(tls::connect(&url.host, tcp).map_err(
                |source| Error::Tls {
                    url: url.to_string(),
                    source,
                },
            )?))
        } else {
            Stream::Plain(tcp)
        };
        let io_err = |stage, source: io::Error| {
            if matches!(
                source.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) {
                Self::timed_out(url, stage)
            } else {
                Error::Io {
                    url: url.to_string(),
                    stage,
                    source,
                }
            }
        };
        // The TLS handshake runs inside the first write (and reads): both timeouts bound it.
        stream
            .set_timeouts(self.remaining(url, "sending")?)
            .map_err(|e| io_err("sending", e))?;
        stream
            .write_all(&request)
            .and_then(|()| stream.flush())
            .map_err(|e| io_err("sending", e))?;
        let mut buf = Vec::with_capacity(16 * 1024);
        let mut chunk = [0u8; 16 * 1024];
        let mut head: Option<(Head, usize, Body)> = None;
        loop {
            if let Some((_, start, body)) = &mut head
                && body.feed(&buf[*start..])?
            {
                break;
            }
            stream
                .set_timeouts(self.remaining(url, "reading")?)
                .map_err(|e| io_err("reading", e))?;
            let n = match stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A server that closes without TLS's close_notify: the end of the
                // connection, as on plain TCP (the framing still tells a cut body).
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && url.https => 0,
                Err(e) => return Err(io_err("reading", e)),
            };
            if n == 0 {
                let Some((h, start, body)) = head else {
                    return Err(Error::Malformed("connection closed before a response"));
                };
                let bytes = body.finish(&buf[start..], true)?;
                return Ok((h, bytes));
            }
            if buf.len() + n > self.max_response {
                return Err(Error::TooLarge {
                    limit: self.max_response,
                });
            }
            buf.extend_from_slice(&chunk[..n]);
            while head.is_none() {
                let Some((h, start)) = parse_head(&buf)? else {
                    break;
                };
                // Interim 1xx responses (100 Continue, 103 Early Hints) precede the real one.
                if (100..200).contains(&h.status) && h.status != 101 {
                    buf.drain(..start);
                    continue;
                }
                let body = Body::new(&h)?;
                head = Some((h, start, body));
            }
        }
        match head {
            Some((h, start, body)) => Ok((h, body.finish(&buf[start..], false)?)),
            None => Err(Error::Malformed("no response head")),
        }
    }
}

/// A connection, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<tls::TlsStream>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }

    /// Bound the next reads and writes (a TLS read may write, and a write may read).
    fn set_timeouts(&self, left: Duration) -> io::Result<()> {
        self.tcp().set_read_timeout(Some(left))?;
        self.tcp().set_write_timeout(Some(left))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Standard base64 (RFC 4648) with padding, for the Basic credentials.
fn base64(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for group in input.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
