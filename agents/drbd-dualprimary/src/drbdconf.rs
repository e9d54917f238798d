//! The DRBD configuration (drbd.conf(5)) read as drbdadm reads it, as far as the agent
//! needs it: whether a resource is defined, and whether its effective net options allow two
//! primaries, with the `common` section merged in as `drbdadm -d -v dump` shows it (plain
//! `drbdadm dump RES` leaves `common` out, which is how an `allow-two-primaries` in
//! `global_common.conf` used to be missed). Read natively, so that validate-all forks
//! nothing and runs the same check as start and promote.
//!
//! The language: statements of words ending in `;`, or in a `{ ... }` block of statements;
//! words may be quoted (`"..."`, with `\` escapes); `#` starts a comment. `include
//! "PATTERN";` (at any level) is replaced by the files the glob pattern names, relative to
//! the including file's directory, in sorted order; `skip ...` statements are ignored.
//! Nothing else is interpreted: drbdadm remains the judge of everything this reader does
//! not ask about (`drbdadm up` reports it at start).

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The largest configuration file read, and the most text read over all included files.
pub const MAX_FILE: u64 = 1024 * 1024;
const MAX_TOTAL: usize = 16 * 1024 * 1024;
/// How deep includes may nest, and how many files may be read in all.
const MAX_DEPTH: usize = 16;
const MAX_FILES: usize = 1024;

/// Where the configuration's files come from: the file system ([`RealFiles`]), or a map in
/// the tests.
pub trait Files {
    /// The text of the file at `path`.
    fn read(&self, path: &Path) -> std::io::Result<String>;
    /// The names in the directory `dir`.
    fn list(&self, dir: &Path) -> std::io::Result<Vec<OsString>>;
}

/// The file system, read safely: a regular file only (a FIFO planted at an included name
/// does not block: the open is non-blocking and the file's type checked on the descriptor),
/// at most [`MAX_FILE`] bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFiles;

impl Files for RealFiles {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits() | nix::fcntl::OFlag::O_NOCTTY.bits())
            .open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        if meta.len() > MAX_FILE {
            return Err(std::io::Error::other(format!(
                "larger than {MAX_FILE} bytes"
            )));
        }
        let mut text = String::new();
        file.take(MAX_FILE).read_to_string(&mut text)?;
        Ok(text)
    }

    fn list(&self, dir: &Path) -> std::io::Result<Vec<OsString>> {
        std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect()
    }
}

/// Why the configuration could not be read.
#[derive(Debug)]
pub enum Error {
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    Syntax {
        path: PathBuf,
        line: usize,
        what: String,
    },
    /// Includes nested too deep, or too many files or too much text.
    TooLarge { path: PathBuf, what: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { path, source } => {
                let why = source.raw_os_error().map_or_else(
                    || source.to_string(),
                    |n| nix::errno::Errno::from_raw(n).desc().to_owned(),
                );
                write!(f, "cannot read {}: {why}", path.display())
            }
            Error::Syntax { path, line, what } => {
                write!(f, "{}, line {line}: {what}", path.display())
            }
            Error::TooLarge { path, what } => write!(f, "{}: {what}", path.display()),
        }
    }
}

impl std::error::Error for Error {}

/// One statement: its words, and its block when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stmt {
    words: Vec<String>,
    block: Option<Vec<Stmt>>,
}

impl Stmt {
    fn is(&self, keyword: &str) -> bool {
        self.words.first().is_some_and(|w| w == keyword)
    }

    /// The statements of its block (none for a `;` statement).
    fn children(&self) -> &[Stmt] {
        self.block.as_deref().unwrap_or_default()
    }
}

/// A DRBD configuration with its includes read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrbdConf {
    top: Vec<Stmt>,
}

/// One resource section, with the `common` section it inherits from.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    section: &'a Stmt,
    common: Option<&'a Stmt>,
}

impl DrbdConf {
    /// Read `path` and everything it includes.
    pub fn load(path: &Path, files: &dyn Files) -> Result<DrbdConf, Error> {
        let mut reader = Reader {
            files,
            read: 0,
            bytes: 0,
        };
        Ok(DrbdConf {
            top: reader.file(path, 0)?,
        })
    }

    /// The section `resource NAME { ... }`, if the configuration has one.
    pub fn resource(&self, name: &str) -> Option<Resource<'_>> {
        let common = self
            .top
            .iter()
            .find(|s| s.is("common") && s.block.is_some());
        self.top
            .iter()
            .find(|s| {
                s.block.is_some() && s.words.len() == 2 && s.is("resource") && s.words[1] == name
            })
            .map(|section| Resource { section, common })
    }
}

/// The last `allow-two-primaries` of the `net` blocks among `stmts`: `allow-two-primaries
/// yes;` or the bare `allow-two-primaries;` is true, any other value false.
fn two_primaries_in(stmts: &[Stmt]) -> Option<bool> {
    stmts
        .iter()
        .rev()
        .filter(|s| s.is("net"))
        .flat_map(|net| net.children().iter().rev())
        .find(|s| s.is("allow-two-primaries") && s.block.is_none())
        .map(|s| matches!(s.words.get(1).map(String::as_str), None | Some("yes")))
}

impl Resource<'_> {
    /// Whether every connection of the resource allows two primaries: its own setting
    /// (DRBD 9's `connection`/`connection-mesh` net sections), else the resource's net
    /// section, else `common`'s; unset is no.
    pub fn allows_two_primaries(&self) -> bool {
        let inherited = two_primaries_in(self.section.children())
            .or_else(|| self.common.and_then(|c| two_primaries_in(c.children())))
            .unwrap_or(false);
        let connections: Vec<Option<bool>> = self
            .section
            .children()
            .iter()
            .filter(|s| (s.is("connection") || s.is("connection-mesh")) && s.block.is_some())
            .map(|c| two_primaries_in(c.children()))
            .collect();
        if connections.is_empty() {
            return inherited;
        }
        connections.iter().all(|c| c.unwrap_or(inherited))
    }
}

struct Reader<'a> {
    files: &'a dyn Files,
    read: usize,
    bytes: usize,
}

impl Reader<'_> {
    fn file(&mut self, path: &Path, depth: usize) -> Result<Vec<Stmt>, Error> {
        let too_large = |what: String| Error::TooLarge {
            path: path.to_owned(),
            what,
        };
        if depth > MAX_DEPTH {
            return Err(too_large(format!("includes nest deeper than {MAX_DEPTH}")));
        }
        self.read += 1;
        if self.read > MAX_FILES {
            return Err(too_large(format!("more than {MAX_FILES} files included")));
        }
        let text = self.files.read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        self.bytes += text.len();
        if self.bytes > MAX_TOTAL {
            return Err(too_large(format!(
                "more than {MAX_TOTAL} bytes of configuration"
            )));
        }
        let tokens = tokenize(&text).map_err(|(line, what)| Error::Syntax {
            path: path.to_owned(),
            line,
            what,
        })?;
        let mut at = 0;
        let stmts = parse_block(&tokens, &mut at, false).map_err(|(line, what)| Error::Syntax {
            path: path.to_owned(),
            line,
            what,
        })?;
        self.expand(stmts, path, depth)
    }

    /// Replace every `include` (at any depth) by what it includes, drop `skip`.
    fn expand(&mut self, stmts: Vec<Stmt>, path: &Path, depth: usize) -> Result<Vec<Stmt>, Error> {
        let mut out = Vec::new();
        for mut s in stmts {
            if s.is("skip") {
                continue;
            }
            if s.is("include") && s.block.is_none() && s.words.len() == 2 {
                let dir = path.parent().unwrap_or_else(|| Path::new("/"));
                for file in glob(self.files, &dir.join(&s.words[1])) {
                    out.extend(self.file(&file, depth + 1)?);
                }
                continue;
            }
            if let Some(block) = s.block.take() {
                s.block = Some(self.expand(block, path, depth)?);
            }
            out.push(s);
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Open,
    Close,
    End,
}

/// The tokens of `text` with their line numbers; an unterminated string is an error.
fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, (usize, String)> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => while chars.next_if(|c| *c != '\n').is_some() {},
            '{' => out.push((line, Token::Open)),
            '}' => out.push((line, Token::Close)),
            ';' => out.push((line, Token::End)),
            '"' => {
                let start = line;
                let mut word = String::new();
                loop {
                    match chars.next() {
                        None => return Err((start, "a string is not closed".into())),
                        Some('"') => break,
                        Some('\\') => {
                            if let Some(escaped) = chars.next() {
                                line += usize::from(escaped == '\n');
                                word.push(escaped);
                            }
                        }
                        Some(other) => {
                            line += usize::from(other == '\n');
                            word.push(other);
                        }
                    }
                }
                out.push((start, Token::Word(word)));
            }
            c => {
                let mut word = String::from(c);
                while let Some(next) = chars
                    .next_if(|c| !c.is_whitespace() && !matches!(c, '{' | '}' | ';' | '#' | '"'))
                {
                    word.push(next);
                }
                out.push((line, Token::Word(word)));
            }
        }
    }
    Ok(out)
}

/// Statements up to the end of the text (or, `nested`, up to the block's `}`).
fn parse_block(
    tokens: &[(usize, Token)],
    at: &mut usize,
    nested: bool,
) -> Result<Vec<Stmt>, (usize, String)> {
    let mut stmts = Vec::new();
    let mut words = Vec::new();
    while let Some((line, token)) = tokens.get(*at) {
        *at += 1;
        match token {
            Token::Word(w) => words.push(w.clone()),
            Token::End => {
                // A lone ';' (after a block, or doubled) is nothing.
                if !words.is_empty() {
                    stmts.push(Stmt {
                        words: std::mem::take(&mut words),
                        block: None,
                    });
                }
            }
            Token::Open => {
                if words.is_empty() {
                    return Err((*line, "a block without a name".into()));
                }
                let block = parse_block(tokens, at, true)?;
                stmts.push(Stmt {
                    words: std::mem::take(&mut words),
                    block: Some(block),
                });
            }
            Token::Close if nested => {
                if !words.is_empty() {
                    return Err((
                        *line,
                        format!("\"{}\" is not ended by ';'", words.join(" ")),
                    ));
                }
                return Ok(stmts);
            }
            Token::Close => return Err((*line, "a '}' closes no block".into())),
        }
    }
    let last = tokens.last().map_or(1, |(line, _)| *line);
    if nested {
        return Err((last, "a block is not closed".into()));
    }
    if !words.is_empty() {
        return Err((last, format!("\"{}\" is not ended by ';'", words.join(" "))));
    }
    Ok(stmts)
}

/// The files `pattern` names, sorted, as glob(3) finds them: `*`, `?` and `[...]` in any
/// component; a name starting with `.` only when the pattern's component does. A pattern
/// without wildcards names its file, whether it exists or not (reading it then says so).
fn glob(files: &dyn Files, pattern: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::from("/")];
    for component in pattern.components() {
        let part = component.as_os_str().to_string_lossy();
        if component == std::path::Component::RootDir {
            continue;
        }
        if !part.contains(['*', '?', '[']) {
            for p in &mut found {
                p.push(component);
            }
            continue;
        }
        let mut next = Vec::new();
        for dir in &found {
            let Ok(mut names) = files.list(dir) else {
                continue;
            };
            names.sort();
            for name in names {
                let name = name.to_string_lossy().into_owned();
                if name.starts_with('.') && !part.starts_with('.') {
                    continue;
                }
                if matches(part.as_bytes(), name.as_bytes()) {
                    next.push(dir.join(name));
                }
            }
        }
        found = next;
    }
    found
}

/// fnmatch(3) without flags, on bytes: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`.
fn matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            matches(&pattern[1..], name) || (!name.is_empty() && matches(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => matches(&pattern[1..], &name[1..]),
        (Some(b'['), Some(c)) => match class(&pattern[1..], *c) {
            Some((hit, rest)) => hit && matches(rest, &name[1..]),
            None => *c == b'[' && matches(&pattern[1..], &name[1..]),
        },
        (Some(p), Some(c)) => p == c && matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// Whether `c` is in the bracket expression at the start of `pattern` (after its `[`), and
/// what follows the `]`; None when the expression is not closed.
fn class(pattern: &[u8], c: u8) -> Option<(bool, &[u8])> {
    let (negate, mut i) = match pattern.first() {
        Some(b'!' | b'^') => (true, 1),
        _ => (false, 0),
    };
    let mut hit = false;
    let mut first = true;
    while let Some(&p) = pattern.get(i) {
        if p == b']' && !first {
            return Some((hit != negate, &pattern[i + 1..]));
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|e| *e != b']') {
            hit |= (p..=pattern[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= p == c;
            i += 1;
        }
    }
    None
}

/// Files held in memory, for tests: path to text; a directory lists the files below it.
#[cfg(test)]
#[derive(Debug, Default, Clone)]
pub struct MemFiles(pub std::collections::BTreeMap<PathBuf, String>);

#[cfg(test)]
impl MemFiles {
    pub fn with(files: &[(&str, &str)]) -> MemFiles {
        MemFiles(
            files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
                .collect(),
        )
    }
}

#[cfg(test)]
impl Files for MemFiles {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::from_raw_os_error(2))
    }

    fn list(&self, dir: &Path) -> std::io::Result<Vec<OsString>> {
        let names: Vec<OsString> = self
            .0
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(ToOwned::to_owned))
            .collect();
        if names.is_empty() {
            return Err(std::io::Error::from_raw_os_error(2));
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests;
