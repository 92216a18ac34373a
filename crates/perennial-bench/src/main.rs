//! `perennial-bench`: the benchmark's command line (the flags of [`perennial_bench::BenchArgs`]).
//! `perennial bench …` runs this executable with the same flags.

use clap::Parser;

// As the app's binary (see its Cargo.toml), so the bench measures the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "perennial-bench",
    version,
    about = "Measure performance on a fresh temporary database (see BENCHMARKS.md); prints a \
             table and, last, one JSON line"
)]
struct Cli {
    #[command(flatten)]
    args: perennial_bench::BenchArgs,
}

fn main() -> std::process::ExitCode {
    perennial::telemetry::init();
    match perennial_bench::run(Cli::parse().args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", perennial::telemetry::chain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
