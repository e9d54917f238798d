//! `http://` and `https://host[:port]/path` URLs: the only kinds a local health check
//! needs.

use crate::Error;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A parsed `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `https://`: the request goes over TLS.
    pub https: bool,
    /// Host name or address literal, without the IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, always starting with `/`.
    pub path: String,
}

impl Url {
    /// The host as a literal address, if it is one.
    pub fn host_ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// The scheme's default port: 443 for https, 80 for http.
    pub fn default_port(&self) -> u16 {
        if self.https { 443 } else { 80 }
    }

    /// `host[:port]` as the `Host:` header and URLs write it (brackets around IPv6).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Resolve a redirect's `Location` against this URL (absolute `http://` or `https://`,
    /// scheme-relative `//host/...`, absolute path, or relative path). A location holding
    /// white space or a control character is refused: it would be sent in the next request
    /// line.
    pub fn join(&self, location: &str) -> Result<Url, Error> {
        let location = location.trim();
        if location
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                location,
                "the redirect's location contains white space or control characters",
            ));
        }
        if location.contains("://") {
            return location.parse();
        }
        if let Some(rest) = location.strip_prefix("//") {
            let scheme = if self.https { "https" } else { "http" };
            return format!("{scheme}://{rest}").parse();
        }
        let path = if location.starts_with('/') {
            location.to_owned()
        } else {
            let base = self.path.split(['?', '#']).next().unwrap_or_default();
            // The directory of the base path ("/" when it has none, e.g. an empty path).
            let dir = base.rfind('/').map_or("/", |i| &base[..=i]);
            format!("{dir}{location}")
        };
        Ok(Url {
            https: self.https,
            host: self.host.clone(),
            port: self.port,
            path,
        })
    }
}

fn invalid(url: &str, why: &'static str) -> Error {
    Error::InvalidUrl {
        url: url.to_owned(),
        why,
    }
}

impl FromStr for Url {
    type Err = Error;

    fn from_str(text: &str) -> Result<Url, Error> {
        let trimmed = text.trim();
        let Some((scheme, rest)) = trimmed.split_once("://") else {
            return Err(invalid(text, "expected http://host[:port]/path"));
        };
        let https = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(invalid(
                text,
                "only the http and https schemes are supported",
            ));
        };
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(text, "contains white space or control characters"));
        }
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        // The fragment is never sent.
        let path = path.split('#').next().unwrap_or("");
        let path = match path.chars().next() {
            None => "/".to_owned(),
            Some('?') => format!("/{path}"),
            Some(_) => path.to_owned(),
        };
        if authority.contains('@') {
            return Err(invalid(
                text,
                "user information in the URL is not supported",
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let Some((host, after)) = v6.split_once(']') else {
                return Err(invalid(text, "unterminated [ in the host"));
            };
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(invalid(text, "not an IPv6 address between [ ]"));
            }
            match after {
                "" => (host, None),
                p => match p.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(invalid(text, "garbage after ]")),
                },
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(invalid(text, "no host"));
        }
        if !authority.starts_with('[')
            && !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(invalid(
                text,
                "the host name has characters a host name cannot have",
            ));
        }
        let port = match port {
            None | Some("") if https => 443,
            None | Some("") => 80,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(invalid(text, "port out of range 1..=65535")),
                Ok(n) => n,
            },
            Some(_) => return Err(invalid(text, "the port is not a number")),
        };
        Ok(Url {
            https,
            host: host.to_owned(),
            port,
            path,
        })
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_usual_forms() {
        let u = url("http://localhost/server-status");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("localhost", 80, "/server-status")
        );
        let u = url("HTTP://127.0.0.5:8080");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.5", 8080, "/")
        );
        let u = url("http://[::1]:81/s?auto#frag");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 81, "/s?auto")
        );
        assert_eq!(u.to_string(), "http://[::1]:81/s?auto");
        assert_eq!(url("http://h?x").path, "/?x");
        assert_eq!(url("http://h:/").port, 80);
        assert_eq!(url(" http://h/ ").host, "h");
    }

    #[test]
    fn rejects_what_it_cannot_fetch() {
        for bad in [
            "",
            "localhost/server-status",
            "ftp://h/",
            "http://",
            "http:///x",
            "http://h:0/",
            "http://h:65536/",
            "http://h:80x/",
            "http://h:-1/",
            "http://[::1/",
            "http://[zz]/",
            "http://[::1]x/",
            "http://user:pw@h/",
            "http://h /x",
            "http://h/a b",
            "http://h%20/",
        ] {
            assert!(bad.parse::<Url>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn joins_redirect_locations() {
        let base = url("http://h:81/a/b?q");
        assert_eq!(base.join("/x").unwrap().to_string(), "http://h:81/x");
        assert_eq!(base.join("c").unwrap().to_string(), "http://h:81/a/c");
        assert_eq!(base.join("http://o/p").unwrap().to_string(), "http://o/p");
        assert_eq!(base.join("//o:9/p").unwrap().to_string(), "http://o:9/p");
        assert_eq!(base.join("https://h/x").unwrap().to_string(), "https://h/x");
        let tls = url("https://h/a");
        assert_eq!((tls.https, tls.port), (true, 443));
        assert_eq!(tls.join("//o/p").unwrap().to_string(), "https://o/p");
        assert_eq!(url("https://h:8443/").authority(), "h:8443");
    }

    /// Issue 17: a hand-built URL with an empty path made `join` panic (slicing an empty
    /// string at 0..=0); seen failing before the fix with "byte index 1 is out of range".
    #[test]
    fn joins_against_an_empty_path_without_panicking() {
        let base = Url {
            https: false,
            host: "h".into(),
            port: 80,
            path: String::new(),
        };
        assert_eq!(base.join("x").unwrap().path, "/x");
        assert_eq!(base.join("?q").unwrap().path, "/?q");
    }

    /// Issue 17: control characters of a `Location` header went into the next request
    /// line; seen failing before the fix (the join succeeded and kept them).
    #[test]
    fn a_location_with_control_characters_is_refused() {
        let base = url("http://h/a/b");
        for bad in ["/x\u{1}y", "/x y", "c\td", "/a\u{7f}", "/\r\nX-Injected: 1"] {
            assert!(base.join(bad).is_err(), "{bad:?} joined");
        }
    }
}
