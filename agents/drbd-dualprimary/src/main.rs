fn main() -> std::process::ExitCode {
    ocf::run::<drbd_dualprimary::Agent>()
}
