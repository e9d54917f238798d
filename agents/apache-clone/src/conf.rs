//! A reader of the few Apache httpd configuration facts the agent needs: `ServerRoot`,
//! `PidFile`, `DefaultRuntimeDir`, `Listen`, `Mutex file:` directories, `ErrorLog`, and the
//! `<Location>` whose `SetHandler` is `server-status`. It follows `Include` and
//! `IncludeOptional` (with wildcards, and directories read recursively in sorted order) and
//! substitutes `${VAR}` from httpd's environment and `Define`, as httpd does when it reads
//! the file. Conditional sections (`<IfModule>`, `<IfDefine>`) are not evaluated: their
//! directives count.
//!
//! The files may be written by others than root (a site's configuration, an `Include` of a
//! directory a web application can write), so the reader trusts none of them to be small or
//! well-formed: only regular files are read (a FIFO or device is refused without blocking,
//! as httpd refuses them), each file, the whole and every line after substitution are capped
//! (a `Define a ${a}${a}` repeated doubles a value each line), and no file is opened past
//! the caller's deadline.

use crate::glob;
use nix::fcntl::OFlag;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// httpd refuses deeper Include nesting too (and this stops include loops).
const MAX_DEPTH: usize = 64;
/// Largest configuration file read.
pub const MAX_FILE: u64 = 16 << 20;
/// Most bytes read over all the files of one configuration.
pub const MAX_TOTAL: u64 = 64 << 20;
/// Most files read for one configuration.
pub const MAX_FILES: usize = 10_000;
/// Longest logical line once `${VAR}` is substituted. httpd keeps whatever its memory
/// holds (2.4 grows a doubled `Define` to 32 MiB and more); no directive this agent reads is
/// anywhere near this.
pub const MAX_LINE: usize = 256 << 10;
/// Most bytes held in `Define` values at once.
pub const MAX_DEFINED: usize = 4 << 20;
/// How many lines are read between two looks at the clock.
const LINES_PER_CLOCK: usize = 256;

/// What the configuration says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub server_root: PathBuf,
    /// The PidFile directive as resolved (absolute), if any.
    pub pid_file: Option<PathBuf>,
    pub runtime_dir: Option<PathBuf>,
    /// Listen directives in order: the address (`80`, `127.0.0.1:8080`, `[::1]:80`) and
    /// the protocol when one is given (`https`).
    pub listen: Vec<Listen>,
    /// Directories of `Mutex file:DIR` directives.
    pub mutex_dirs: Vec<PathBuf>,
    /// The main ErrorLog as written (a file relative to ServerRoot, `|program` or
    /// `syslog[:facility]`), if any.
    pub error_log: Option<String>,
    /// The path of the last `<Location>` with `SetHandler server-status`.
    pub status_location: Option<String>,
    /// The main server's `User` (a name, or `#uid`): who httpd's workers run as.
    pub user: Option<String>,
    /// Every file read, in order.
    pub files: Vec<PathBuf>,
    /// Problems httpd would report (missing includes, undefined variables).
    pub warnings: Vec<String>,
}

/// One `Listen` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub address: String,
    pub protocol: Option<String>,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    #[error("cannot read {path}: {}", crate::io_reason(source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a regular file (a {kind}); httpd reads only regular files")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{path}: {what} is larger than {limit} bytes")]
    TooLarge {
        path: PathBuf,
        what: &'static str,
        limit: u64,
    },
    #[error("more than {MAX_FILES} configuration files (at {0})")]
    TooManyFiles(PathBuf),
    #[error("Include nesting deeper than {MAX_DEPTH} at {0} (an include loop?)")]
    TooDeep(PathBuf),
    #[error("reading the configuration took until the deadline (at {0})")]
    TimedOut(PathBuf),
}

impl ConfError {
    /// True when the error says something about the configuration itself (httpd would
    /// refuse it too), as opposed to a file that cannot be read now.
    pub fn is_configuration(&self) -> bool {
        !matches!(self, ConfError::Read { .. } | ConfError::TimedOut(_))
    }
}

impl Config {
    /// Read `file` with `server_root` as the initial ServerRoot and `vars` as httpd's
    /// environment, opening no file after `until`.
    pub fn read(
        file: &Path,
        server_root: &Path,
        vars: &BTreeMap<String, String>,
        until: Instant,
    ) -> Result<Config, ConfError> {
        let mut reader = Reader {
            vars: vars.clone(),
            defined: 0,
            config: Config {
                server_root: server_root.to_owned(),
                ..Config::default()
            },
            sections: Vec::new(),
            total: 0,
            until,
        };
        reader.file(file, 0)?;
        let mut config = reader.config;
        // httpd keeps PidFile as written and resolves it against the final ServerRoot when
        // it writes and reads the file (seen with Apache 2.4.71: `PidFile run/httpd.pid` is
        // ServerRoot/run/httpd.pid even with a DefaultRuntimeDir).
        if let Some(p) = &config.pid_file
            && p.is_relative()
        {
            config.pid_file = Some(config.server_root.join(p));
        }
        Ok(config)
    }

    /// `(host, port)` of the first Listen: host `localhost` when it names only a port.
    pub fn first_listen(&self) -> Option<(String, u16)> {
        self.listen.first()?.host_port()
    }

    /// The main error log, for a message that sends the administrator there: the file
    /// (relative to ServerRoot; httpd's default `logs/error_log`), or what it is.
    pub fn error_log_hint(&self) -> String {
        match self.error_log.as_deref() {
            Some(pipe) if pipe.starts_with('|') => {
                format!("the ErrorLog program {}", ocf::error::printable(pipe))
            }
            Some(s) if s == "syslog" || s.starts_with("syslog:") => "syslog (ErrorLog)".into(),
            Some(f) => self.server_root.join(f).display().to_string(),
            None => self
                .server_root
                .join("logs/error_log")
                .display()
                .to_string(),
        }
    }
}

impl Listen {
    /// `(host, port)`: host `localhost` when the address names only a port.
    pub fn host_port(&self) -> Option<(String, u16)> {
        let (host, port) = match self.address.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !p.contains(']') => (h.trim_matches(['[', ']']), p),
            _ => ("localhost", self.address.as_str()),
        };
        Some((host.to_owned(), port.parse().ok()?))
    }

    /// True when it serves TLS: the protocol says `https`, or none is given and the port is
    /// 443 (httpd's own default for that port).
    pub fn is_https(&self) -> bool {
        match &self.protocol {
            Some(p) => p.eq_ignore_ascii_case("https"),
            None => self.host_port().is_some_and(|(_, port)| port == 443),
        }
    }
}

/// The content of the regular file `path` (symlinks followed), at most `max_len` bytes.
/// Opened with O_NONBLOCK so that a FIFO planted at the name cannot block the open; then
/// checked on the descriptor.
pub fn read_regular(path: &Path, max_len: u64) -> Result<Vec<u8>, ConfError> {
    let read_err = |source| ConfError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)
        .map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(ConfError::NotRegular {
            path: path.to_owned(),
            kind: if kind.is_fifo() {
                "FIFO"
            } else if kind.is_dir() {
                "directory"
            } else if kind.is_socket() {
                "socket"
            } else {
                "device"
            },
        });
    }
    let too_large = || ConfError::TooLarge {
        path: path.to_owned(),
        what: "the file",
        limit: max_len,
    };
    if meta.len() > max_len {
        return Err(too_large());
    }
    let mut content = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_len + 1)
        .read_to_end(&mut content)
        .map_err(read_err)?;
    if content.len() as u64 > max_len {
        return Err(too_large());
    }
    Ok(content)
}

struct Reader {
    vars: BTreeMap<String, String>,
    /// Bytes held in `Define` values.
    defined: usize,
    config: Config,
    /// Open sections, innermost last: the name (lower case) and, for `<Location>`, its
    /// path.
    sections: Vec<(String, Option<String>)>,
    /// Bytes read so far.
    total: u64,
    until: Instant,
}

impl Reader {
    fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_owned()
        } else {
            self.config.server_root.join(p)
        }
    }

    fn file(&mut self, path: &Path, depth: usize) -> Result<(), ConfError> {
        if depth > MAX_DEPTH {
            return Err(ConfError::TooDeep(path.to_owned()));
        }
        if self.config.files.len() >= MAX_FILES {
            return Err(ConfError::TooManyFiles(path.to_owned()));
        }
        if Instant::now() >= self.until {
            return Err(ConfError::TimedOut(path.to_owned()));
        }
        let left = MAX_TOTAL.saturating_sub(self.total);
        let text = read_regular(path, MAX_FILE.min(left)).map_err(|e| match e {
            ConfError::TooLarge { path, .. } if left < MAX_FILE => ConfError::TooLarge {
                path,
                what: "the configuration as a whole",
                limit: MAX_TOTAL,
            },
            e => e,
        })?;
        self.total += text.len() as u64;
        self.config.files.push(path.to_owned());
        let text = String::from_utf8_lossy(&text);
        let mut pending = String::new();
        for (n, line) in text.lines().enumerate() {
            if n % LINES_PER_CLOCK == LINES_PER_CLOCK - 1 && Instant::now() >= self.until {
                return Err(ConfError::TimedOut(path.to_owned()));
            }
            let line = line.trim();
            if let Some(head) = line.strip_suffix('\\') {
                pending.push_str(head);
                continue;
            }
            pending.push_str(line);
            let logical = std::mem::take(&mut pending);
            if logical.is_empty() || logical.starts_with('#') {
                continue;
            }
            let logical = self
                .substitute(&logical)
                .ok_or_else(|| ConfError::TooLarge {
                    path: path.to_owned(),
                    what: "a line (with its ${VAR} substituted)",
                    limit: MAX_LINE as u64,
                })?;
            self.directive(&logical, path, depth)?;
        }
        Ok(())
    }

    /// `${VAR}` from the environment and Define; undefined ones stay as written (httpd
    /// warns and does the same). None when the result would exceed [`MAX_LINE`].
    fn substitute(&mut self, line: &str) -> Option<String> {
        let mut out = String::with_capacity(line.len());
        let mut rest = line;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[at..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            if let Some(v) = self.vars.get(name) {
                if out.len() + v.len() > MAX_LINE {
                    return None;
                }
                out.push_str(v);
            } else {
                self.config
                    .warnings
                    .push(format!("Config variable ${{{name}}} is not defined"));
                out.push_str(&rest[at..at + 3 + end]);
            }
            rest = &after[end + 1..];
        }
        if out.len() + rest.len() > MAX_LINE {
            return None;
        }
        out.push_str(rest);
        Some(out)
    }

    fn directive(&mut self, line: &str, file: &Path, depth: usize) -> Result<(), ConfError> {
        let words = words(line);
        let Some(name) = words.first() else {
            return Ok(());
        };
        let arg = words.get(1).map(String::as_str);
        let name = name.to_ascii_lowercase();
        if name.starts_with("</") {
            self.sections.pop();
            return Ok(());
        }
        if let Some(section) = name.strip_prefix('<') {
            let section = section.trim_end_matches('>').to_owned();
            let path = arg.map(|a| a.trim_end_matches('>').to_owned());
            let location = path.filter(|_| section == "location");
            self.sections.push((section, location));
            return Ok(());
        }
        match (name.as_str(), arg) {
            ("serverroot", Some(a)) => self.config.server_root = PathBuf::from(a),
            ("pidfile", Some(a)) => self.config.pid_file = Some(PathBuf::from(a)),
            ("defaultruntimedir", Some(a)) => self.config.runtime_dir = Some(self.resolve(a)),
            ("listen", Some(a)) => self.config.listen.push(Listen {
                address: a.to_owned(),
                protocol: words.get(2).cloned(),
            }),
            // Only the main server's: a VirtualHost's ErrorLog is not where httpd's start-up
            // errors go.
            ("errorlog", Some(a))
                if !self.sections.iter().any(|(name, _)| name == "virtualhost") =>
            {
                self.config.error_log = Some(a.to_owned());
            }
            ("user", Some(a)) if !self.sections.iter().any(|(name, _)| name == "virtualhost") => {
                self.config.user = Some(a.to_owned());
            }
            ("mutex", Some(a)) => {
                if let Some(dir) = a.strip_prefix("file:") {
                    let dir = self.resolve(dir);
                    self.config.mutex_dirs.push(dir);
                }
            }
            ("define", Some(a)) => {
                let value = words.get(2).cloned().unwrap_or_default();
                let old = self.vars.get(a).map_or(0, String::len);
                self.defined = (self.defined + value.len()).saturating_sub(old);
                if self.defined > MAX_DEFINED {
                    return Err(ConfError::TooLarge {
                        path: file.to_owned(),
                        what: "the sum of the Define values",
                        limit: MAX_DEFINED as u64,
                    });
                }
                self.vars.insert(a.to_owned(), value);
            }
            ("sethandler", Some(h)) if h.eq_ignore_ascii_case("server-status") => {
                if let Some(loc) = self.sections.iter().rev().find_map(|(_, l)| l.as_ref()) {
                    self.config.status_location = Some(loc.clone());
                }
            }
            ("include" | "includeoptional", Some(a)) => {
                let optional = name == "includeoptional";
                self.include(a, optional, file, depth)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn include(
        &mut self,
        spec: &str,
        optional: bool,
        from: &Path,
        depth: usize,
    ) -> Result<(), ConfError> {
        let path = self.resolve(spec);
        let matches = if glob::has_wildcard(spec) {
            glob::expand(&path)
        } else if path.exists() {
            vec![path.clone()]
        } else {
            Vec::new()
        };
        if matches.is_empty() && !optional {
            self.config.warnings.push(format!(
                "Include {} in {} matches no file",
                path.display(),
                from.display()
            ));
        }
        for m in matches {
            if m.is_dir() {
                self.directory(&m, depth + 1)?;
            } else {
                self.file(&m, depth + 1)?;
            }
        }
        Ok(())
    }

    fn directory(&mut self, dir: &Path, depth: usize) -> Result<(), ConfError> {
        if depth > MAX_DEPTH {
            return Err(ConfError::TooDeep(dir.to_owned()));
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                self.directory(&p, depth + 1)?;
            } else {
                self.file(&p, depth)?;
            }
        }
        Ok(())
    }
}

/// Split a directive line into words as httpd does: white space separates, double or single
/// quotes group (a backslash escapes the quote inside them).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return out;
        };
        let mut word = String::new();
        if first == '"' || first == '\'' {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\\' && chars.peek() == Some(&first) {
                    word.push(first);
                    chars.next();
                } else if c == first {
                    break;
                } else {
                    word.push(c);
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word);
    }
}

#[cfg(test)]
mod tests;
