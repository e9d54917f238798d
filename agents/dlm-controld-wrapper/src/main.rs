fn main() -> std::process::ExitCode {
    ocf::run::<dlm_controld_wrapper::Agent>()
}
