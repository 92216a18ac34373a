// See Cargo.toml: the whole process allocates with mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    perennial::telemetry::init();
    match perennial::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", perennial::telemetry::chain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
