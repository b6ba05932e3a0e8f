use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = sme::cli::Cli::parse();
    match sme::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
