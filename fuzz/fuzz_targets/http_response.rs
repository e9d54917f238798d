//! The HTTP response parser of crates/http-probe: status line and headers (`parse_head`),
//! then the body framing (Content-Length, chunked, until close) fed in pieces as a socket
//! would deliver them; and the URL parser with redirect joining.
//!
//! Input: the first byte is the piece size for feeding the body; the rest is the response.
//! A response that starts with `URL ` is instead a URL line and a Location line.
#![no_main]

use http_probe::{Body, Url, parse_head};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, response)) = data.split_first() else {
        return;
    };
    if let Some(rest) = response.strip_prefix(b"URL ") {
        let text = String::from_utf8_lossy(rest);
        let mut lines = text.lines();
        if let Some(Ok(url)) = lines.next().map(str::parse::<Url>) {
            let _ = (url.host_ip(), url.authority(), url.to_string());
            if let Some(location) = lines.next() {
                let _ = url.join(location).map(|u| u.to_string());
            }
        }
        return;
    }
    // Grow the head buffer piece by piece, as the client reads it.
    let step = usize::from(step).max(1);
    let mut seen = 0;
    let (head, used) = loop {
        seen = (seen + step).min(response.len());
        match parse_head(&response[..seen]) {
            Ok(Some(found)) => break found,
            Ok(None) if seen < response.len() => {}
            Ok(None) | Err(_) => return,
        }
    };
    assert!(used <= seen, "head claims {used} bytes of {seen}");
    let _ = head.header("content-type");
    let Ok(mut body) = Body::new(&head) else {
        return;
    };
    let raw = &response[used..];
    let mut fed = 0;
    while fed < raw.len() && !body.is_done() {
        fed = (fed + step).min(raw.len());
        if body.feed(&raw[..fed]).is_err() {
            return;
        }
    }
    let _ = body.finish(&raw[..fed], fed == raw.len());
});
