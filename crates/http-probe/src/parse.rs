//! The HTTP/1.1 response parser (RFC 9112): status line, header fields and a body framed by
//! Content-Length, chunked transfer coding, or the end of the connection. It works on the
//! bytes read so far and says whether it needs more, so it is tested on byte fixtures without
//! a socket.

use crate::Error;

/// Longest status line plus header section accepted.
pub const MAX_HEAD: usize = 64 * 1024;

/// The status line and header fields of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub reason: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn framing(&self) -> Result<Framing, Error> {
        // 1xx, 204 and 304 have no body (RFC 9112 section 6.3).
        if self.status < 200 || self.status == 204 || self.status == 304 {
            return Ok(Framing::Empty);
        }
        if let Some(te) = self.header("transfer-encoding") {
            let last = te.rsplit(',').next().unwrap_or("").trim();
            return if last.eq_ignore_ascii_case("chunked") {
                Ok(Framing::Chunked)
            } else {
                Ok(Framing::UntilClose)
            };
        }
        match self.header("content-length") {
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map(Framing::Length)
                .map_err(|_| malformed("Content-Length is not a number")),
            None => Ok(Framing::UntilClose),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(usize),
    Chunked,
    UntilClose,
}

fn malformed(why: &'static str) -> Error {
    Error::Malformed(why)
}

/// Parse the head at the start of `buf`: `Ok(None)` when the blank line ending it has not
/// arrived yet, else the head and the offset where the body starts.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, Error> {
    let Some(end) = find(buf, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(buf, b"\n\n").map(|i| i + 2))
    else {
        return if buf.len() > MAX_HEAD {
            Err(malformed("response head longer than 64 KiB"))
        } else {
            Ok(None)
        };
    };
    if end > MAX_HEAD {
        return Err(malformed("response head longer than 64 KiB"));
    }
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| malformed("head is not text"))?;
    let mut lines = text.lines();
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(malformed("not an HTTP/1.x status line"));
    }
    let code = parts.next().unwrap_or("");
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("status code is not three digits"));
    }
    let status = code.parse().map_err(|_| malformed("bad status code"))?;
    let reason = parts.next().unwrap_or("").trim().to_owned();
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(malformed("header line without a colon"));
        };
        if name.is_empty() || name.ends_with([' ', '\t']) {
            return Err(malformed("bad header field name"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(Some((
        Head {
            status,
            reason,
            headers,
        },
        end,
    )))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Incremental body decoder: feed it the whole body-so-far each time more bytes arrive.
#[derive(Debug)]
pub struct Body {
    framing: Framing,
    /// Chunked: offset in the raw body of the next chunk-size line.
    next: usize,
    decoded: Vec<u8>,
    done: bool,
}

impl Body {
    pub fn new(head: &Head) -> Result<Body, Error> {
        let framing = head.framing()?;
        Ok(Body {
            framing,
            next: 0,
            decoded: Vec::new(),
            done: framing == Framing::Empty,
        })
    }

    /// True when the body is complete without waiting for the connection to close.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Take in `raw` (all body bytes received so far); returns whether the body is complete.
    pub fn feed(&mut self, raw: &[u8]) -> Result<bool, Error> {
        match self.framing {
            Framing::Empty | Framing::UntilClose => {}
            Framing::Length(n) => self.done = raw.len() >= n,
            Framing::Chunked => self.feed_chunked(raw)?,
        }
        Ok(self.done)
    }

    fn feed_chunked(&mut self, raw: &[u8]) -> Result<(), Error> {
        while !self.done {
            let rest = &raw[self.next..];
            let Some(eol) = find(rest, b"\n") else {
                if rest.len() > 1024 {
                    return Err(malformed("chunk size line too long"));
                }
                return Ok(());
            };
            let line = std::str::from_utf8(&rest[..eol])
                .map_err(|_| malformed("chunk size is not text"))?
                .trim_end_matches('\r');
            let hex = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(hex, 16)
                .map_err(|_| malformed("chunk size is not hexadecimal"))?;
            let data = eol + 1;
            if size == 0 {
                // Trailer fields, then an empty line.
                let trailers = &rest[data..];
                self.done = trailers.starts_with(b"\r\n")
                    || trailers.starts_with(b"\n")
                    || find(trailers, b"\r\n\r\n").is_some()
                    || find(trailers, b"\n\n").is_some();
                return Ok(());
            }
            let end = data.checked_add(size).ok_or(malformed("chunk too large"))?;
            let crlf = if rest.get(end) == Some(&b'\n') { 1 } else { 2 };
            if rest.len() < end + crlf {
                return Ok(());
            }
            if !rest[end..end + crlf].ends_with(b"\n") {
                return Err(malformed("chunk data not followed by CRLF"));
            }
            self.decoded.extend_from_slice(&rest[data..end]);
            self.next += end + crlf;
        }
        Ok(())
    }

    /// The body, given the raw bytes received (after `feed` said done, or at end of stream).
    pub fn finish(self, raw: &[u8], at_eof: bool) -> Result<Vec<u8>, Error> {
        match self.framing {
            Framing::Empty => Ok(Vec::new()),
            Framing::Length(n) if raw.len() >= n => Ok(raw[..n].to_vec()),
            Framing::Length(_) => Err(malformed("connection closed before Content-Length bytes")),
            Framing::UntilClose if at_eof => Ok(raw.to_vec()),
            Framing::UntilClose => Err(malformed("body not complete")),
            Framing::Chunked if self.done => Ok(self.decoded),
            Framing::Chunked => Err(malformed("connection closed inside a chunked body")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parse a complete response fixture, feeding it `step` bytes at a time.
    fn parse_all(fixture: &[u8], step: usize) -> Result<(Head, Vec<u8>), Error> {
        let mut got = 0;
        let (head, start) = loop {
            got = (got + step).min(fixture.len());
            if let Some(h) = parse_head(&fixture[..got])? {
                break h;
            }
            assert!(got < fixture.len(), "head never completes");
        };
        let mut body = Body::new(&head)?;
        loop {
            let raw = &fixture[start..got.max(start)];
            if body.feed(raw)? || got == fixture.len() {
                let at_eof = got == fixture.len();
                return Ok((head, body.finish(raw, at_eof)?));
            }
            got = (got + step).min(fixture.len());
        }
    }

    #[test]
    fn content_length_body_any_split() {
        let fixture =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>extra";
        for step in [1, 2, 7, 1000] {
            let (head, body) = parse_all(fixture, step).unwrap();
            assert_eq!(head.status, 200);
            assert_eq!(head.reason, "OK");
            assert_eq!(head.header("content-type"), Some("text/html"));
            assert_eq!(body, b"<html></html>", "step {step}");
        }
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let fixture = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
5;ext=1\r\nHello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n";
        for step in [1, 3, 1000] {
            let (_, body) = parse_all(fixture, step).unwrap();
            assert_eq!(body, b"Hello, world", "step {step}");
        }
    }

    #[test]
    fn until_close_and_empty_bodies() {
        let (_, body) = parse_all(b"HTTP/1.0 200 OK\r\n\r\nall of it", 4).unwrap();
        assert_eq!(body, b"all of it");
        let (head, body) =
            parse_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", 4).unwrap();
        assert_eq!((head.status, body.len()), (204, 0));
        let (head, _) = parse_all(b"HTTP/1.1 404 Not Found\nServer: x\n\n", 100).unwrap();
        assert_eq!(head.status, 404);
    }

    #[test]
    fn malformed_responses_are_errors() {
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        ] {
            assert!(
                parse_all(bad, 1000).is_err(),
                "{:?} parsed",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn head_is_bounded() {
        let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        assert!(parse_head(&huge).is_err());
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nA: b\r\n")
                .unwrap()
                .is_none()
        );
    }
}
