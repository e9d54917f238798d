fn main() -> std::process::ExitCode {
    ocf::run::<gfs2_fs::Agent>()
}
