fn main() -> std::process::ExitCode {
    ocf::run::<apache_clone::Agent>()
}
