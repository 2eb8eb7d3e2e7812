use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    spaces_gateway::telemetry::init();
    match spaces_gateway::cli::run(spaces_gateway::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
