//! Journey 1: the built binary starts on a fresh directory with `--demo` and serves the
//! campus's public branding.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

/// `target/<profile>/spaces`, next to this test binary's `deps/` folder; `cargo test
/// --workspace` builds it.
fn spaces_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("spaces");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p spaces-gateway` or `cargo test --workspace`",
        bin.display()
    );
    bin
}

#[tokio::test]
async fn the_binary_starts_fresh_with_demo_data_and_serves_branding() {
    let dir = std::env::temp_dir().join(format!("spaces-first-run-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(spaces_binary())
        .args(["serve", "--demo"])
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SPACES_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let listening = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(l) = lines.next_line().await.unwrap() {
            printed.push_str(&l);
            printed.push('\n');
            if l.contains("listening on") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(
        listening,
        "the server never said it was listening:\n{printed}"
    );
    assert!(
        printed.contains("hr@durand.localhost"),
        "sign-ins printed:\n{printed}"
    );
    assert!(
        dir.join("data/spaces.db").exists(),
        "the SQLite file is created in ./data"
    );
    assert!(
        dir.join("data/signing-key.pem").exists(),
        "a development key is generated into ./data"
    );

    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .header("X-Tenant", "ocapiat")
        .json(&json!({ "query": "{ space { slug displayName branding { primaryColour accentColour } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["space"]["displayName"], "Ocapiat campus");
    assert_eq!(v["data"]["space"]["branding"]["primaryColour"], "#00609c");

    // SIGTERM: the server stops cleanly.
    let pid = child.id().unwrap();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
