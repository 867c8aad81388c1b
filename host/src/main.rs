/// mimalloc instead of the system allocator: a run allocates and frees many small buffers
/// from several threads (request, bindings, events, records); glibc's malloc took about a fifth
/// of the replica's CPU at thousands of runs a second (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wasmcron::cli::main()
}
