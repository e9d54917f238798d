//! The two-node lab (work in progress).
fn main() {
    eprintln!("lab: not built yet");
    std::process::exit(2);
}
