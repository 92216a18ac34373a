//! Crash test: the server is killed with SIGKILL while the worker executes a batch of due
//! actions, then restarted. Every action must have run exactly once (Outbox and history).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::json;

const CONTACTS: i64 = 3000;

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<N>(conn)
        .map(|r| r.n)
        .unwrap_or(-1)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn perennial(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_perennial"));
    c.env("DATABASE_URL", db)
        .env("PERENNIAL_LOG", "warn")
        .stdin(Stdio::null());
    c
}

fn serve(db: &str, port: u16) -> Child {
    perennial(db)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .expect("server starts")
}

fn wait_up(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn killed_mid_batch_every_action_runs_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db").display().to_string();
    let out = perennial(&db)
        .args(["demo", "--contacts", &CONTACTS.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = perennial(&db)
        .args(["token", "create", "--name", "crash"])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let port = free_port();
    let mut server = serve(&db, port);
    wait_up(port);
    let client = reqwest::blocking::Client::new();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let def = json!({"name": "Welcome everyone", "start": {"type": "blank"},
        "triggers": {"filter_groups": [[{"property": "email", "operator": "known"}]]},
        "steps": [{"type": "send_email", "subject": "Welcome {{ contact.firstname }}", "body": "Hello"}]});
    let wf: serde_json::Value = client
        .post(format!("{base}/workflows"))
        .bearer_auth(&token)
        .json(&def)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = wf["id"].as_i64().unwrap();

    let mut conn = SqliteConnection::establish(&db).unwrap();
    diesel::sql_query("PRAGMA busy_timeout = 10000")
        .execute(&mut conn)
        .unwrap();
    let res = client
        .post(format!("{base}/workflows/{id}/publish"))
        .bearer_auth(&token)
        .json(&json!({"enroll_existing": true}))
        .send()
        .unwrap();
    assert!(res.status().is_success());
    // Kill as soon as the worker has committed part of the work, but not all of it.
    let start = Instant::now();
    loop {
        let sent = count(&mut conn, "SELECT COUNT(*) AS n FROM outbox");
        if sent > 0 && sent < CONTACTS {
            break;
        }
        assert!(
            sent < CONTACTS,
            "the worker finished before it could be killed; raise CONTACTS"
        );
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the worker never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let at_kill = count(&mut conn, "SELECT COUNT(*) AS n FROM outbox");
    assert!(at_kill < CONTACTS, "killed mid-way ({at_kill} sent)");

    let port = free_port();
    let mut server = serve(&db, port);
    wait_up(port);
    let start = Instant::now();
    while count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM enrollments WHERE status = 'active'",
    ) > 0
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the restarted worker did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill().ok();
    server.wait().ok();

    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM outbox"),
        CONTACTS,
        "every email exactly once"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(DISTINCT enrollment_id) AS n FROM outbox"
        ),
        CONTACTS
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM history_events WHERE event = 'action_executed'"
        ),
        CONTACTS,
        "one action_executed event per action"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM enrollments WHERE status = 'completed'"
        ),
        CONTACTS
    );
}

/// Issue 16 item 2: single upserts are written in group commits, and each is answered only
/// after its group's commit. So every upsert a client saw a 2xx for must survive a SIGKILL that
/// comes while fifty clients are still writing.
#[test]
fn killed_while_fifty_clients_write_every_acknowledged_upsert_is_kept() {
    const CLIENTS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("acked.db").display().to_string();
    let out = perennial(&db)
        .args(["token", "create", "--name", "crash"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let port = free_port();
    let mut server = serve(&db, port);
    wait_up(port);
    let base = format!("http://127.0.0.1:{port}/api/v1/contacts");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (base, token, stop) = (base.clone(), token.clone(), stop.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                let mut acked = Vec::new();
                for n in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let email = format!("c{c}-{n}@example.com");
                    let res = client
                        .post(&base)
                        .bearer_auth(&token)
                        .json(&json!({"email": email, "properties": {"firstname": "Acked"}}))
                        .send();
                    match res {
                        Ok(r) if r.status().is_success() => acked.push(email),
                        // The server is gone: this write was never acknowledged.
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().unwrap(); // SIGKILL, mid-load
    server.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: Vec<String> = clients
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(
        acked.len() > CLIENTS,
        "the load ran ({} acked)",
        acked.len()
    );

    let mut conn = SqliteConnection::establish(&db).unwrap();
    diesel::sql_query("PRAGMA busy_timeout = 10000")
        .execute(&mut conn)
        .unwrap();
    let stored = count(&mut conn, "SELECT COUNT(*) AS n FROM contacts") as usize;
    assert!(
        stored >= acked.len(),
        "{stored} stored < {} acked",
        acked.len()
    );
    #[derive(QueryableByName)]
    struct Email {
        #[diesel(sql_type = diesel::sql_types::Text)]
        email: String,
    }
    let emails: std::collections::HashSet<String> =
        diesel::sql_query("SELECT email FROM contacts WHERE email IS NOT NULL")
            .load::<Email>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|e| e.email)
            .collect();
    let lost: Vec<&String> = acked.iter().filter(|e| !emails.contains(*e)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}
