#![allow(clippy::unwrap_used)]

//! Journey 1 (in this package, because Cargo hands a package's binary only to its own
//! integration tests): the built binary starts on a fresh directory with `--demo`, serves the
//! campus's public branding and a demo learner's dashboard, seeds only once, and refuses a busy
//! port before seeding anything.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Cargo builds the `spaces` binary for this package's integration tests and says where.
fn spaces_binary() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_spaces"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `spaces serve --demo` in `dir` on `port`; its logs go to standard output.
fn serve_demo(dir: &std::path::Path, port: u16, stderr: Stdio) -> tokio::process::Child {
    tokio::process::Command::new(spaces_binary())
        .args(["serve", "--demo"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SPACES_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// What the server printed up to "listening on", or everything if it never got there. The rest
/// of its output is drained in the background, so the server never blocks on a full pipe.
async fn until_listening(child: &mut tokio::process::Child) -> (bool, String) {
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
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (listening, printed)
}

async fn post(port: u16, token: Option<&str>, query: &str) -> serde_json::Value {
    let mut r = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .header("X-Tenant", "ocapiat");
    if let Some(t) = token {
        r = r.header("Authorization", format!("Bearer {t}"));
    }
    r.json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn sign_in(port: u16, email: &str) -> String {
    let v = post(
        port,
        None,
        &format!("mutation {{ signIn(input: {{ email: \"{email}\", password: \"demo-password-2026\" }}) {{ accessToken }} }}"),
    )
    .await;
    v["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{email} signs in: {v}"))
        .to_owned()
}

/// Titles of Léa's dashboard and of the editions she may join.
async fn learner_view(port: u16) -> (Vec<String>, Vec<String>) {
    let token = sign_in(port, "lea@durand.localhost").await;
    let v = post(
        port,
        Some(&token),
        "{ viewer { enrolments { edges { node { status edition { title } } } } } editions(joinable: true) { edges { node { title } } } }",
    )
    .await;
    let titles = |list: &serde_json::Value, at: &str| -> Vec<String> {
        list["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|e| e["node"].pointer(at).unwrap().as_str().unwrap().to_owned())
            .collect()
    };
    (
        titles(&v["data"]["viewer"]["enrolments"], "/edition/title"),
        titles(&v["data"]["editions"], "/title"),
    )
}

#[tokio::test]
async fn the_binary_starts_fresh_with_demo_data_and_serves_branding() {
    let dir = std::env::temp_dir().join(format!("spaces-first-run-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();

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
    let mut child = serve_demo(&dir, port, Stdio::null());
    let (listening, printed) = until_listening(&mut child).await;
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

    // The demo learner's dashboard and what she may join, as the printed query shows them.
    assert!(
        printed.contains("editions(joinable: true)"),
        "what to try is printed:\n{printed}"
    );
    let (dashboard, joinable) = learner_view(port).await;
    assert_eq!(
        dashboard,
        [
            "HACCP — session de printemps",
            "Allergènes — en libre accès"
        ],
        "Léa's dashboard"
    );
    assert_eq!(
        joinable,
        [
            "Management de la qualité — promotion 2027",
            "Audit et certification — promotion 2027",
            "HACCP — classe virtuelle (bons de formation acceptés)"
        ],
        "on-approval editions offered to the whole campus, and the paid session the printed \
         voucher code is tried on; not the one for Leroy only"
    );
    assert!(
        printed.contains("a code to try"),
        "a voucher code is printed:\n{printed}"
    );
    // HR sees their people's enrolments, and the request waiting for them.
    let hr = sign_in(port, "hr@durand.localhost").await;
    let v = post(
        port,
        Some(&hr),
        "{ people(first: 20) { edges { node { email enrolments { edges { node { status } } } } } } }",
    )
    .await;
    let statuses: Vec<String> = v["data"]["people"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .flat_map(|p| p["node"]["enrolments"]["edges"].as_array().unwrap().clone())
        .map(|e| e["node"]["status"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        statuses.contains(&"ACTIVE".to_owned())
            && statuses.contains(&"PENDING_APPROVAL".to_owned()),
        "HR of Durand sees active enrolments and a request: {v}"
    );

    // A second server on the same port fails at once and seeds nothing in its directory.
    let busy_dir = dir.join("busy");
    std::fs::create_dir_all(&busy_dir).unwrap();
    let busy = serve_demo(&busy_dir, port, Stdio::piped());
    let out = tokio::time::timeout(Duration::from_secs(60), busy.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a busy port is an error: {said}");
    assert!(said.contains("binding"), "it says why: {said}");
    assert!(
        !busy_dir.join("data").exists(),
        "nothing was migrated or seeded: {said}"
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

    // Started again on the same directory, the demo is not seeded twice.
    let port = free_port();
    let mut child = serve_demo(&dir, port, Stdio::null());
    let (listening, printed) = until_listening(&mut child).await;
    assert!(listening, "{printed}");
    assert!(printed.contains("already present"), "{printed}");
    let (dashboard, _) = learner_view(port).await;
    assert_eq!(dashboard.len(), 2, "the same two enrolments: {dashboard:?}");
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
