//! A reader of the few Apache httpd configuration facts the agent needs: `ServerRoot`,
//! `PidFile`, `DefaultRuntimeDir`, `Listen`, `Mutex file:` directories, and the `<Location>`
//! whose `SetHandler` is `server-status`. It follows `Include` and `IncludeOptional` (with
//! wildcards, and directories read recursively in sorted order) and substitutes `${VAR}` from
//! httpd's environment and `Define`, as httpd does when it reads the file. Conditional
//! sections (`<IfModule>`, `<IfDefine>`) are not evaluated: their directives count.

use crate::glob;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// httpd refuses deeper Include nesting too (and this stops include loops).
const MAX_DEPTH: usize = 64;

/// What the configuration says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub server_root: PathBuf,
    /// The PidFile directive as resolved (absolute), if any.
    pub pid_file: Option<PathBuf>,
    pub runtime_dir: Option<PathBuf>,
    /// Listen arguments in order (`80`, `127.0.0.1:8080`, `[::1]:80`).
    pub listen: Vec<String>,
    /// Directories of `Mutex file:DIR` directives.
    pub mutex_dirs: Vec<PathBuf>,
    /// The path of the last `<Location>` with `SetHandler server-status`.
    pub status_location: Option<String>,
    /// Every file read, in order.
    pub files: Vec<PathBuf>,
    /// Problems httpd would report (missing includes, undefined variables).
    pub warnings: Vec<String>,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Include nesting deeper than {MAX_DEPTH} at {0} (an include loop?)")]
    TooDeep(PathBuf),
}

impl Config {
    /// Read `file` with `server_root` as the initial ServerRoot and `vars` as httpd's
    /// environment.
    pub fn read(
        file: &Path,
        server_root: &Path,
        vars: &BTreeMap<String, String>,
    ) -> Result<Config, ConfError> {
        let mut reader = Reader {
            vars: vars.clone(),
            config: Config {
                server_root: server_root.to_owned(),
                ..Config::default()
            },
            locations: Vec::new(),
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
        let listen = self.listen.first()?;
        let (host, port) = match listen.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !p.contains(']') => (h.trim_matches(['[', ']']), p),
            _ => ("localhost", listen.as_str()),
        };
        Some((host.to_owned(), port.parse().ok()?))
    }
}

struct Reader {
    vars: BTreeMap<String, String>,
    config: Config,
    /// Open `<Location>` sections (None for other sections), innermost last.
    locations: Vec<Option<String>>,
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
        let text = std::fs::read(path).map_err(|source| ConfError::Read {
            path: path.to_owned(),
            source,
        })?;
        self.config.files.push(path.to_owned());
        let text = String::from_utf8_lossy(&text);
        let mut pending = String::new();
        for line in text.lines() {
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
            let logical = self.substitute(&logical);
            self.directive(&logical, path, depth)?;
        }
        Ok(())
    }

    /// `${VAR}` from the environment and Define; undefined ones stay as written (httpd
    /// warns and does the same).
    fn substitute(&mut self, line: &str) -> String {
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
                out.push_str(v);
            } else {
                self.config
                    .warnings
                    .push(format!("Config variable ${{{name}}} is not defined"));
                out.push_str(&rest[at..at + 3 + end]);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn directive(&mut self, line: &str, file: &Path, depth: usize) -> Result<(), ConfError> {
        let words = words(line);
        let Some(name) = words.first() else {
            return Ok(());
        };
        let arg = words.get(1).map(String::as_str);
        let name = name.to_ascii_lowercase();
        if let Some(section) = name.strip_prefix("</") {
            let _ = section;
            self.locations.pop();
            return Ok(());
        }
        if let Some(section) = name.strip_prefix('<') {
            let section = section.trim_end_matches('>');
            let path = arg.map(|a| a.trim_end_matches('>').to_owned());
            self.locations.push(path.filter(|_| section == "location"));
            return Ok(());
        }
        match (name.as_str(), arg) {
            ("serverroot", Some(a)) => self.config.server_root = PathBuf::from(a),
            ("pidfile", Some(a)) => self.config.pid_file = Some(PathBuf::from(a)),
            ("defaultruntimedir", Some(a)) => self.config.runtime_dir = Some(self.resolve(a)),
            ("listen", Some(a)) => self.config.listen.push(a.to_owned()),
            ("mutex", Some(a)) => {
                if let Some(dir) = a.strip_prefix("file:") {
                    let dir = self.resolve(dir);
                    self.config.mutex_dirs.push(dir);
                }
            }
            ("define", Some(a)) => {
                let value = words.get(2).cloned().unwrap_or_default();
                self.vars.insert(a.to_owned(), value);
            }
            ("sethandler", Some(h)) if h.eq_ignore_ascii_case("server-status") => {
                if let Some(Some(loc)) = self.locations.iter().rev().find(|l| l.is_some()) {
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
