//! Invitations leave through the outbox over SMTP when `SPACES_SMTP_URL` is set.

use std::time::Duration;

use spaces_tests::fixtures;
use spaces_tests::{Backend, TestApp};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A minimal SMTP server on loopback: accepts every message and hands over (recipients, data).
async fn fake_smtp() -> (u16, mpsc::UnboundedReceiver<(Vec<String>, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut data, mut in_data) = (Vec::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            tx.send((std::mem::take(&mut rcpt), std::mem::take(&mut data)))
                                .unwrap();
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 fake\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

#[tokio::test]
async fn invitations_are_delivered_over_smtp() {
    let (port, mut inbox) = fake_smtp().await;
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.smtp_from = "Ocapiat campus <campus@example.org>".into();
        c.public_url_template = "https://{host}".into();
        // Delivered when the test says so.
        c.outbox_interval = Duration::from_secs(3600);
    })
    .await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Durand").await;
    // Invited, not yet accepted: the link in the delivered message opens her page.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { id } }",
            serde_json::json!({ "i": { "email": "lea@durand.test", "givenName": "Léa", "familyName": "Martin", "organisationId": company, "role": "LEARNER" } }),
        )
        .await;
    spaces_tests::app::ok(&v);
    let n = spaces_gateway::mailer::drain(&app.state).await.unwrap();
    assert_eq!(n, 2, "the admin's invitation and lea's");
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some((rcpt, data)) = inbox.recv().await {
            seen.push(rcpt.clone());
            if rcpt == ["lea@durand.test"] {
                return data;
            }
        }
        String::new()
    })
    .await
    .expect("the invitation reached the SMTP server");
    assert!(
        found.contains(&format!("Subject: Your invitation to Campus {}", c.slug)),
        "the space's name, in its language (English by default): {found}"
    );
    let link = fixtures::link_in(&found).expect("a link in the message");
    assert!(
        link.starts_with(&format!(
            "https://{}.example.org/accept-invitation?token=",
            c.slug
        )),
        "the link opens the page on the space's custom domain, with the token in the query: {link}"
    );
    assert!(
        found.contains("help@example.org"),
        "the space's support contact: {found}"
    );
    assert!(
        found.contains("campus@example.org"),
        "sent from SPACES_SMTP_FROM's address: {found}"
    );
    // Delivered: the outbox keeps who was sent what subject, not the token.
    let token = fixtures::token_of_link(&link);
    let db = &app.state.deps.db;
    let space = spaces_tenants::spaces::by_slug(db, &c.slug)
        .await
        .unwrap()
        .unwrap();
    let tx = spaces_tenants::TenantTx::begin(db, space.id).await.unwrap();
    let msgs = spaces_tenants::outbox::history(&tx).await.unwrap();
    tx.rollback().await.unwrap();
    let sent = msgs
        .iter()
        .find(|m| m.recipient == "lea@durand.test")
        .unwrap();
    assert!(sent.delivered_at.is_some() && sent.payload.is_none());
    assert!(sent.subject.starts_with("Your invitation to"));
    assert!(!format!("{msgs:?}").contains(&token));

    // The journey from the delivered link: open the page on the space's host, choose a
    // password, then sign in with it.
    let rest = link.strip_prefix("https://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let page = app
        .client
        .get(format!("{}{path}", app.base))
        .header("Host", host)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(
        body.contains("<form") && body.contains("password"),
        "{body}"
    );
    let done = app
        .client
        .post(format!("{}/accept-invitation", app.base))
        .header("Host", host)
        .form(&[
            ("token", token.as_str()),
            ("password", fixtures::PASSWORD),
            ("confirm", fixtures::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200, "{}", done.text().await.unwrap());
    let s = fixtures::sign_in(&app, &c.slug, "lea@durand.test", fixtures::PASSWORD).await;
    assert!(
        spaces_tests::app::ok(&s)["signIn"]["accessToken"].is_string(),
        "{s}"
    );
    app.stop().await;
}
