//! ocf-manpage: an agent's man page (roff, section 7), generated from its OCF metadata XML so
//! that the page and `meta-data` cannot disagree, and from the `.man` file next to it (the
//! EXAMPLE and EXIT STATUS sections, which metadata cannot carry: see [`extra`]). A packaging
//! tool run by `packaging/stage.sh`; it is not installed and no agent links it.
//!
//! ```text
//! ocf-manpage --provider native --version 0.1.0 --date 2026-11-26 \
//!     --agent-dir /usr/lib/ocf/resource.d/native --metadata-dir /usr/share/native-agents \
//!     xml-metadata/ipaddr2.xml > ocf_native_ipaddr2.7       (reads xml-metadata/ipaddr2.man)
//! ```

mod extra;
mod metadata;
mod roff;

use std::process::ExitCode;

/// Where the page says things are, and how it is titled.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub provider: String,
    pub version: String,
    pub date: String,
    pub agent_dir: String,
    pub metadata_dir: String,
    pub file: String,
}

const USAGE: &str = "usage: ocf-manpage --provider P --version V --date YYYY-MM-DD \
                     --agent-dir DIR --metadata-dir DIR AGENT.xml";

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut opts = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--provider" => &mut opts.provider,
            "--version" => &mut opts.version,
            "--date" => &mut opts.date,
            "--agent-dir" => &mut opts.agent_dir,
            "--metadata-dir" => &mut opts.metadata_dir,
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ if opts.file.is_empty() => {
                opts.file = arg;
                continue;
            }
            _ => return Err(format!("one metadata file only, got also {arg}")),
        };
        *slot = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
    }
    let missing = [
        ("--provider", &opts.provider),
        ("--version", &opts.version),
        ("--date", &opts.date),
        ("--agent-dir", &opts.agent_dir),
        ("--metadata-dir", &opts.metadata_dir),
        ("the metadata file", &opts.file),
    ]
    .into_iter()
    .find(|(_, value)| value.is_empty());
    match missing {
        Some((what, _)) => Err(format!("missing {what}")),
        None => Ok(opts),
    }
}

fn main() -> ExitCode {
    let result = parse_args(std::env::args().skip(1)).and_then(|opts| {
        let xml = std::fs::read_to_string(&opts.file)
            .map_err(|e| format!("reading {}: {e}", opts.file))?;
        let agent = metadata::Agent::parse(&xml).map_err(|e| format!("{}: {e}", opts.file))?;
        let man = std::path::Path::new(&opts.file).with_extension("man");
        let text = std::fs::read_to_string(&man)
            .map_err(|e| format!("reading {} (EXAMPLE and EXIT STATUS): {e}", man.display()))?;
        let extra = extra::Extra::parse(&text).map_err(|e| format!("{}: {e}", man.display()))?;
        Ok(roff::page(&agent, &extra, &opts))
    });
    match result {
        Ok(page) => {
            print!("{page}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ocf-manpage: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn all_options_and_the_file() {
        let opts = parse_args(args(&[
            "--provider",
            "native",
            "--version",
            "0.1.0",
            "--date",
            "2026-11-26",
            "--agent-dir",
            "/a",
            "--metadata-dir",
            "/m",
            "x.xml",
        ]))
        .unwrap();
        assert_eq!(opts.provider, "native");
        assert_eq!(opts.agent_dir, "/a");
        assert_eq!(opts.file, "x.xml");
    }

    #[test]
    fn a_missing_option_is_named() {
        let err = parse_args(args(&["--provider", "native", "x.xml"])).unwrap_err();
        assert_eq!(err, "missing --version");
        let err = parse_args(args(&["--provider"])).unwrap_err();
        assert_eq!(err, "--provider needs a value");
        let err = parse_args(args(&["--bogus", "1"])).unwrap_err();
        assert_eq!(err, "unknown option --bogus");
    }
}
