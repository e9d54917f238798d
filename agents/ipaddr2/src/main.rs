fn main() -> std::process::ExitCode {
    ipaddr2::main()
}
