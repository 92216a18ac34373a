//! The built `perennial` binary against a temp database: migrate, user create, token create,
//! import-contacts, demo; and the app served on the same file sees what the CLI wrote. `bench`
//! runs the `perennial-bench` executable beside it.

use std::path::Path;
use std::process::{Command, Output};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{location, spawn_app_with, table_rows, text, TestApp};

fn perennial(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perennial"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("PERENNIAL_BIND")
        .env_remove("PERENNIAL_LOG")
        .output()
        .expect("the perennial binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    o
}

#[tokio::test]
async fn the_cli_sets_up_a_database_the_server_then_uses() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");

    // migrate: creates the file and applies the migrations; running it again is harmless.
    let out = ok(perennial(&db, &["migrate"]));
    assert!(db.exists(), "the database file was created");
    assert!(stderr(&out).contains("is up to date"), "{}", stderr(&out));
    ok(perennial(&db, &["migrate"]));

    // user create: refuses a short password and a duplicate, with the reason.
    let bad = perennial(
        &db,
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--password",
            "short",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("password: Use at least 8 characters."),
        "{}",
        stderr(&bad)
    );
    ok(perennial(
        &db,
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--password",
            "long enough secret",
        ],
    ));
    let dup = perennial(
        &db,
        &[
            "user",
            "create",
            "--email",
            "OPS@example.com",
            "--password",
            "long enough secret",
        ],
    );
    assert!(!dup.status.success());
    assert!(stderr(&dup).contains("already exists"), "{}", stderr(&dup));

    // token create: the token alone on stdout, one line.
    let out = ok(perennial(
        &db,
        &["token", "create", "--name", "deploy script"],
    ));
    let printed = stdout(&out);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stdout: {printed:?}");
    assert!(printed.ends_with('\n'));
    let token = lines[0].to_string();
    assert!(token.starts_with("prn_") && token.len() == 68, "{token}");
    assert!(
        !perennial(&db, &["token", "create", "--name", " "])
            .status
            .success(),
        "a token needs a name"
    );

    // The server on the same file: the token authenticates, the user signs in.
    let db_url = db.display().to_string();
    let app = spawn_app_with(move |c| c.database_url = db_url).await;
    let (s, body) = app
        .api_get("/contacts?email=nobody@example.com", &token)
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(app.get("/contacts").await.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&app.get("/contacts").await).starts_with("/login"),
        "a user exists: no setup"
    );
    let res = app
        .post_form(
            "/login",
            "/login",
            &[
                ("email", "ops@example.com"),
                ("password", "long enough secret"),
                ("next", "/contacts"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/contacts");
    let html = app.get_html("/settings/tokens").await;
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "deploy script");
    assert_eq!(
        rows[0][1],
        format!("{}…", &token[..10]),
        "listed by its prefix only"
    );

    // import-contacts: good rows imported, rejected ones reported by line.
    let (s, _) = app
        .api_post(
            "/properties",
            &token,
            json!({"name": "renewal_date", "label": "Renewal date", "field_type": "date"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,firstname,renewal_date,shoe size\nann@example.com,Ann,2027-01-15,38\nnot-an-email,Bob,,\ncid@example.com,Cid,2027-13-01,\ndee@example.com,Dee,,44\n",
    )
    .unwrap();
    let out = ok(perennial(
        &db,
        &["import-contacts", &csv.display().to_string()],
    ));
    assert_eq!(
        stdout(&out),
        "Imported 2 of 4 rows (2 created, 0 updated); 2 rejected.\n\
         Ignored columns (no property has this name or label): shoe size\n\
         line 3: Email: \"not-an-email\" is not a valid email address.\n\
         line 4: Renewal date: \"2027-13-01\" is not a valid date (YYYY-MM-DD)\n"
    );
    let (_, found) = app.api_get("/contacts?email=ann@example.com", &token).await;
    assert_eq!(
        found["contacts"][0]["properties"]["renewal_date"],
        "2027-01-15"
    );
    let missing = perennial(&db, &["import-contacts", "/no/such/file.csv"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("reading /no/such/file.csv"),
        "{}",
        stderr(&missing)
    );

    // demo: sample contacts, visible in the app.
    let out = ok(perennial(&db, &["demo", "--contacts", "50"]));
    assert!(
        stderr(&out).contains("Loaded 50 sample contacts."),
        "{}",
        stderr(&out)
    );
    let html = app.get_html("/contacts").await;
    assert_eq!(
        text(&html, ".page-head .muted").as_deref(),
        Some("52 contacts")
    );
    check_a_demo_contact(&app, &token).await;
}

async fn check_a_demo_contact(app: &TestApp, token: &str) {
    // The newest contact is one of the demo's.
    let html = app.get_html("/contacts").await;
    let email = table_rows(&html)[0][1].clone();
    assert!(
        email.ends_with("@example.com") && email.contains('.'),
        "{email}"
    );
    let (_, c) = app
        .api_get(&format!("/contacts?email={email}"), token)
        .await;
    let props = &c["contacts"][0]["properties"];
    assert!(
        props["birthday"].is_string() && props["renewal_date"].is_string(),
        "{props}"
    );
}

#[test]
fn the_cli_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("help.db");
    let out = ok(perennial(&db, &["--help"]));
    let help = stdout(&out);
    for sub in [
        "serve",
        "migrate",
        "user",
        "token",
        "import-contacts",
        "demo",
        "bench",
    ] {
        assert!(help.contains(sub), "{sub} in {help}");
    }
    assert!(!db.exists(), "--help touches no database");
    let out = perennial(&db, &["frobnicate"]);
    assert!(!out.status.success());
}

/// `perennial bench …` runs the `perennial-bench` executable in its own directory with every
/// argument as given, and ends with its exit code; without that executable it says how to
/// build it. A copy of `perennial` in a directory of its own, beside a stand-in script.
#[cfg(unix)]
#[test]
fn bench_runs_the_perennial_bench_executable_beside_it() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let exe = dir.path().join("perennial");
    // A hard link is enough (the kernel reports the path it was started by) and costs nothing.
    if std::fs::hard_link(env!("CARGO_BIN_EXE_perennial"), &exe).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_perennial"), &exe).unwrap();
    }
    let db = dir.path().join("bench.db");
    let run = |args: &[&str]| {
        Command::new(&exe)
            .args(args)
            .env("DATABASE_URL", &db)
            .env_remove("PERENNIAL_LOG")
            .output()
            .expect("the perennial binary runs")
    };

    let missing = run(&["bench", "--quick"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains(
            "the benchmark is a separate binary: build it with \
             `cargo build --release -p perennial-bench`"
        ),
        "{}",
        stderr(&missing)
    );

    // The stand-in prints each argument on a line, complains, and fails with 3. A child shell
    // writes it, so this test process never holds it open for writing (no "text file busy"
    // when it is run while another test's child is being spawned).
    let fake = dir.path().join("perennial-bench");
    let script = "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\necho oops >&2\nexit 3\n";
    let made = Command::new("sh")
        .args(["-c", r#"printf '%s' "$2" > "$1" && chmod +x "$1""#, "sh"])
        .arg(&fake)
        .arg(script)
        .status()
        .unwrap();
    assert!(made.success());

    let out = run(&["bench", "--quick", "--only", "enroll", "--keep", "--help"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "[--quick]\n[--only]\n[enroll]\n[--keep]\n[--help]\n"
    );
    assert_eq!(stderr(&out), "oops\n", "perennial adds nothing of its own");
    let out = run(&["bench", "--help"]);
    assert_eq!(stdout(&out), "[--help]\n", "the bench's own --help");
    assert!(!db.exists(), "bench touches no database of its own");
}
