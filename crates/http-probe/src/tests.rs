//! Requests against throw-away servers on 127.0.0.1 (no privileges needed).

use super::*;
use std::net::TcpListener;
use std::thread;

/// A server that answers each of `replies` connections with the given bytes (after reading
/// the request head), and returns the requests it saw.
fn serve(replies: Vec<Vec<u8>>) -> (u16, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let mut seen = Vec::new();
        for reply in replies {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = Vec::new();
            let mut b = [0u8; 1024];
            while !req.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut b).unwrap();
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&b[..n]);
            }
            seen.push(String::from_utf8(req).unwrap());
            s.write_all(&reply).unwrap();
        }
        seen
    });
    (port, handle)
}

fn request(port: u16, path: &str, secs: u64) -> Request {
    let url = format!("http://127.0.0.1:{port}{path}").parse().unwrap();
    Request::new(url, Instant::now() + Duration::from_secs(secs))
}

#[test]
fn base64_matches_rfc4648_vectors() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded);
    }
}

#[test]
fn gets_a_page_and_sends_a_proper_request() {
    let (port, server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n<html></html>\n".to_vec(),
    ]);
    let mut req = request(port, "/server-status?auto", 5);
    req.basic_auth = Some(("Aladdin".into(), "open sesame".into()));
    let response = req.get().unwrap();
    assert_eq!(response.head.status, 200);
    assert_eq!(response.text(), "<html></html>\n");
    let seen = server.join().unwrap();
    assert!(
        seen[0].starts_with("GET /server-status?auto HTTP/1.1\r\n"),
        "{}",
        seen[0]
    );
    assert!(seen[0].contains(&format!("Host: 127.0.0.1:{port}\r\n")));
    assert!(seen[0].contains("Connection: close\r\n"));
    assert!(seen[0].contains("Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"));
}

#[test]
fn follows_same_host_redirects_only() {
    let (port, server) = serve(vec![
        b"HTTP/1.1 301 Moved\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n".to_vec(),
    ]);
    let response = request(port, "/old", 5).get().unwrap();
    assert_eq!(response.text(), "ok");
    assert_eq!(response.url.path, "/new");
    assert!(server.join().unwrap()[1].starts_with("GET /new "));

    let (port, server) = serve(vec![
        b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.example/\r\n\r\n".to_vec(),
    ]);
    let err = request(port, "/", 5).get().unwrap_err();
    assert!(matches!(err, Error::RedirectOffHost { .. }), "{err}");
    server.join().unwrap();
}

#[test]
fn a_server_that_accepts_and_hangs_times_out_at_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let start = Instant::now();
    let err = request(port, "/", 0).get().map(|_| ()).unwrap_err();
    // A zero budget is spent at once.
    assert!(err.is_timeout(), "{err}");
    let mut req = request(port, "/", 0);
    req.end = Instant::now() + Duration::from_millis(300);
    let err = req.get().unwrap_err();
    let took = start.elapsed();
    assert!(err.is_timeout(), "{err}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    drop(listener);
}

#[test]
fn refused_connection_is_reported_as_refused() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = request(port, "/", 5).get().unwrap_err();
    assert!(err.is_refused(), "{err}");
}

#[test]
fn oversized_responses_are_refused() {
    let mut reply = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    reply.extend(std::iter::repeat_n(b'x', 100_000));
    let (port, server) = serve(vec![reply]);
    let mut req = request(port, "/", 5);
    req.max_response = 50_000;
    let err = req.get().unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 50_000 }), "{err}");
    let _ = server.join();
}

#[test]
fn garbage_from_the_server_is_malformed() {
    let (port, server) = serve(vec![b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec()]);
    let err = request(port, "/", 5).get().unwrap_err();
    assert!(matches!(err, Error::Malformed(_)), "{err}");
    server.join().unwrap();
}

/// Issue 17: control characters of a `Location` header went into the next request line.
/// Seen failing before the fix: the second request was sent with them.
#[test]
fn a_redirect_to_a_location_with_control_characters_is_not_followed() {
    let (port, server) = serve(vec![
        b"HTTP/1.1 302 Found\r\nLocation: /next\x01X-Injected: 1\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
    ]);
    let err = request(port, "/", 5).get().unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err}");
    assert_eq!(server.join().unwrap().len(), 1, "no second request");
}

#[test]
fn a_redirect_to_https_on_the_same_host_is_followed_to_another_port() {
    // The https side accepts and never completes a handshake: what matters here is that
    // the redirect is followed (to the TLS port) and that the handshake is bounded.
    let tls = TcpListener::bind("127.0.0.1:0").unwrap();
    let tls_port = tls.local_addr().unwrap().port();
    let reply = format!(
        "HTTP/1.1 301 Moved\r\nLocation: https://127.0.0.1:{tls_port}/server-status\r\n\
         Content-Length: 0\r\n\r\n"
    );
    let (port, server) = serve(vec![reply.into_bytes()]);
    let mut req = request(port, "/server-status", 5);
    req.end = Instant::now() + Duration::from_millis(500);
    let started = Instant::now();
    let err = req.get().unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("https://127.0.0.1"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    server.join().unwrap();
    drop(tls);
}

#[test]
fn a_tls_server_that_never_answers_the_handshake_times_out_at_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("https://127.0.0.1:{port}/").parse().unwrap();
    let started = Instant::now();
    let err = Request::new(url, Instant::now() + Duration::from_millis(300))
        .get()
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout(), "{err}");
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(2));
    drop(listener);
}

#[test]
fn a_plain_server_on_the_https_port_is_a_tls_error() {
    let (port, server) = serve(vec![b"HTTP/1.1 200 OK\r\n\r\nnot tls".to_vec()]);
    // The fixture waits for a request head that TLS never sends: end it by the deadline.
    let url = format!("https://127.0.0.1:{port}/").parse().unwrap();
    let err = Request::new(url, Instant::now() + Duration::from_millis(300))
        .get()
        .unwrap_err();
    assert!(
        matches!(err, Error::Io { .. } | Error::TimedOut { .. }),
        "{err}"
    );
    drop(server);
}
