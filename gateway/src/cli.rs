//! The `spaces` command line.

use std::io::Read;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{App, migrate};
use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "spaces",
    version,
    about = "White-label company learning spaces: the GraphQL gateway"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Runs the server on SPACES_ADDR (default 127.0.0.1:8080).
    Serve {
        /// Seeds, once, a demo operator, a catalogue and the "Ocapiat campus" space with its
        /// editions, pathway and enrolments, and prints the sign-ins and what to try.
        #[arg(long)]
        demo: bool,
    },
    /// Runs the database migrations (as the owner: SPACES_DATABASE_OWNER_URL on PostgreSQL).
    Migrate,
    /// Writes the GraphQL schema (SDL) to a file.
    ExportSchema {
        #[arg(long, default_value = "schema.graphql")]
        out: std::path::PathBuf,
    },
    /// Creates a platform operator; the password is read from standard input.
    CreateOperator {
        #[arg(long)]
        email: String,
    },
    /// Writes sample invoices and a credit note (UBL XML and PDF) to a directory, for checking
    /// the documents with outside validators (bench/einvoice-validate.sh).
    InvoiceSample {
        #[arg(long, default_value = ".")]
        out: std::path::PathBuf,
    },
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { demo } => {
            let config = Config::from_env()?;
            if demo && !config.is_sqlite() {
                // The demo accounts share a published password: never on a real database.
                anyhow::bail!("--demo runs on the embedded SQLite database only");
            }
            // The port first: a busy one fails at once, before migrations or demo data.
            let addr = config.addr;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            let local = listener.local_addr()?;
            let app = App::build(config).await?;
            if demo {
                match crate::demo::seed(&app.state).await? {
                    Some(text) => println!("{text}"),
                    None => println!(
                        "Demo data already present (password {:?}).",
                        crate::demo::DEMO_PASSWORD
                    ),
                }
                println!("{}", crate::demo::what_to_try(&format!("http://{local}")));
            }
            tracing::info!(addr = %local, "listening");
            println!("Spaces is listening on http://{local}/graphql");
            app.serve(listener, shutdown_signal()).await
        }
        Command::Migrate => {
            let config = Config::from_env()?;
            let url = config
                .database_owner_url
                .as_deref()
                .unwrap_or(&config.database_url);
            if config.is_sqlite() {
                std::fs::create_dir_all(&config.data_dir)?;
            }
            migrate(url).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::ExportSchema { out } => {
            std::fs::write(&out, spaces_graphql::sdl())
                .with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {}", out.display());
            Ok(())
        }
        Command::InvoiceSample { out } => {
            use spaces_billing::documents::{pdf, sample, ubl};
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            for (name, doc) in sample::all() {
                let xml = out.join(format!("{name}.xml"));
                std::fs::write(&xml, ubl::invoice_xml(&doc))
                    .with_context(|| format!("writing {}", xml.display()))?;
                let pdf_path = out.join(format!("{name}.pdf"));
                std::fs::write(&pdf_path, pdf::invoice_pdf(&doc))
                    .with_context(|| format!("writing {}", pdf_path.display()))?;
                println!("wrote {} and {}", xml.display(), pdf_path.display());
            }
            Ok(())
        }
        Command::CreateOperator { email } => {
            let config = Config::from_env()?;
            let mut pw = String::new();
            std::io::stdin()
                .read_to_string(&mut pw)
                .context("reading the password from standard input")?;
            let pw = pw.trim_end_matches(['\n', '\r']);
            let password = spaces_tenants::values::Password::parse("password", pw)?;
            let app = App::build(config).await?;
            let id =
                spaces_tenants::spaces::operators::create(&app.state.deps.db, &email, password)
                    .await?;
            println!("operator {id} created");
            Ok(())
        }
    }
}
