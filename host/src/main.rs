fn main() -> std::process::ExitCode {
    wasmcron::cli::main()
}
