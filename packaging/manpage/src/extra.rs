//! What an agent's man page says beyond its metadata: `xml-metadata/<agent>.man`, a short text
//! file next to the XML.
//!
//! ```text
//! # a comment
//! EXAMPLE
//! Text, in paragraphs separated by blank lines.
//!
//!     pcs resource create ...        (four spaces: shown as typed)
//!
//! EXIT STATUS
//! start: 0 what it means; 1 ...      (one line per action)
//! ```
//!
//! Both sections are required: an administrator porting a cluster needs the `pcs resource
//! create` line and the codes each action answers with.

/// One paragraph of the EXAMPLE section.
#[derive(Debug, PartialEq, Eq)]
pub enum Block {
    /// Running text, its lines joined.
    Text(String),
    /// Lines shown as typed (a command), without their four-space indent.
    Code(Vec<String>),
}

/// The sections of an agent's `.man` file.
#[derive(Debug, PartialEq, Eq)]
pub struct Extra {
    pub example: Vec<Block>,
    /// (action, what its exit codes mean), in file order.
    pub exit_status: Vec<(String, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Example,
    ExitStatus,
}

impl Extra {
    pub fn parse(text: &str) -> Result<Extra, String> {
        let mut extra = Extra {
            example: Vec::new(),
            exit_status: Vec::new(),
        };
        let mut section = Section::None;
        // The paragraph being gathered, and whether it is code.
        let mut lines: Vec<String> = Vec::new();
        let mut code = false;
        let flush = |lines: &mut Vec<String>, code: bool, out: &mut Vec<Block>| {
            if lines.is_empty() {
                return;
            }
            let taken = std::mem::take(lines);
            out.push(if code {
                Block::Code(taken)
            } else {
                Block::Text(taken.join(" "))
            });
        };
        for (n, line) in text.lines().enumerate() {
            let at = || format!("line {}", n + 1);
            if line.starts_with('#') {
                continue;
            }
            let header = match line.trim_end() {
                "EXAMPLE" => Some(Section::Example),
                "EXIT STATUS" => Some(Section::ExitStatus),
                _ => None,
            };
            if let Some(next) = header {
                flush(&mut lines, code, &mut extra.example);
                section = next;
                continue;
            }
            match section {
                Section::None | Section::ExitStatus if line.trim().is_empty() => {}
                Section::None => return Err(format!("{}: text before EXAMPLE", at())),
                Section::Example if line.trim().is_empty() => {
                    flush(&mut lines, code, &mut extra.example);
                }
                Section::Example => {
                    let is_code = line.starts_with("    ");
                    if is_code != code {
                        flush(&mut lines, code, &mut extra.example);
                        code = is_code;
                    }
                    lines.push(if is_code {
                        line[4..].trim_end().to_owned()
                    } else {
                        line.trim().to_owned()
                    });
                }
                Section::ExitStatus => {
                    let (action, meaning) = line
                        .split_once(':')
                        .filter(|(a, m)| !a.contains(' ') && !m.trim().is_empty())
                        .ok_or_else(|| format!("{}: not \"action: exit codes\"", at()))?;
                    extra
                        .exit_status
                        .push((action.to_owned(), meaning.trim().to_owned()));
                }
            }
        }
        flush(&mut lines, code, &mut extra.example);
        if !extra.example.iter().any(|b| matches!(b, Block::Code(_))) {
            return Err("no EXAMPLE command (a line indented by four spaces)".into());
        }
        if extra.exit_status.is_empty() {
            return Err("no EXIT STATUS line".into());
        }
        Ok(extra)
    }
}

#[cfg(test)]
pub const SAMPLE: &str = "\
# comment
EXAMPLE
The floating address,
checked every 30 s:

    pcs resource create VirtualIP ocf:native:ip-thing ip=10.1.1.100 \\
        op monitor interval=30s

Only the agent changes.

EXIT STATUS
start: 0 up; 5 no such interface
monitor: 0 up; 7 down
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_commands_and_exit_codes() {
        let extra = Extra::parse(SAMPLE).unwrap();
        assert_eq!(
            extra.example,
            [
                Block::Text("The floating address, checked every 30 s:".into()),
                Block::Code(vec![
                    "pcs resource create VirtualIP ocf:native:ip-thing ip=10.1.1.100 \\".into(),
                    "    op monitor interval=30s".into(),
                ]),
                Block::Text("Only the agent changes.".into()),
            ]
        );
        assert_eq!(
            extra.exit_status,
            [
                ("start".to_owned(), "0 up; 5 no such interface".to_owned()),
                ("monitor".to_owned(), "0 up; 7 down".to_owned()),
            ]
        );
    }

    #[test]
    fn what_is_missing_or_malformed_is_named() {
        assert!(
            Extra::parse("stray\nEXAMPLE\n    x\nEXIT STATUS\nstart: 0\n")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(
            Extra::parse("EXAMPLE\ntext only\nEXIT STATUS\nstart: 0\n")
                .unwrap_err()
                .contains("command")
        );
        assert!(
            Extra::parse("EXAMPLE\n    x\n")
                .unwrap_err()
                .contains("EXIT STATUS")
        );
        assert!(
            Extra::parse("EXAMPLE\n    x\nEXIT STATUS\nno colon here\n")
                .unwrap_err()
                .contains("line 4")
        );
    }
}
