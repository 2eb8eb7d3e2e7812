#![allow(clippy::unwrap_used)]

//! Journey 1 (in this package, because Cargo hands a package's binary only to its own
//! integration tests): the built binary starts on a fresh directory with `--demo` and serves the
//! campus's public branding.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Cargo builds the `spaces` binary for this package's integration tests and says where.
fn spaces_binary() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_spaces"))
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

    // The other commands, on the same fresh directory.
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut c = std::process::Command::new(spaces_binary())
            .args(args)
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SPACES_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = c.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = run(&["migrate"], "");
    assert!(ok, "migrate: {out}");
    let (ok, out) = run(
        &["create-operator", "--email", "ops@platform.test"],
        "short\n",
    );
    assert!(
        !ok && out.contains("at least 12 characters"),
        "a short password is refused: {out}"
    );
    let (ok, out) = run(
        &["create-operator", "--email", "ops@platform.test"],
        "operator password 2026\n",
    );
    assert!(ok, "create-operator: {out}");
    let (ok, out) = run(&["export-schema", "--out", "exported.graphql"], "");
    assert!(ok, "export-schema: {out}");
    assert_eq!(
        std::fs::read_to_string(dir.join("exported.graphql")).unwrap(),
        spaces_graphql::sdl()
    );
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
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .json(&json!({ "query": "mutation { operatorSignIn(input: { email: \"ops@platform.test\", password: \"operator password 2026\" }) { accessToken } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["data"]["operatorSignIn"]["accessToken"].is_string(),
        "the operator made on the command line signs in: {v}"
    );

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
