fn main() -> std::process::ExitCode {
    ocf::run::<ipaddr2::Agent>()
}
