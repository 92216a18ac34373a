//! `POST /api/v1/contacts/batch` (DESIGN §7): up to 1,000 upserts in one transaction, all or
//! nothing, every bad input named by index and field.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::workflows_api::with_properties;

async fn property(app: &TestApp, token: &str, name: &str, field_type: &str) {
    let (s, p) = app
        .api_post(
            "/properties",
            token,
            json!({"name": name, "label": name, "field_type": field_type}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
}

async fn found(app: &TestApp, token: &str, email: &str) -> Vec<Value> {
    let (s, body) = app
        .api_get(&format!("/contacts?email={email}"), token)
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["contacts"].as_array().cloned().unwrap_or_default()
}

/// Posts a batch that must succeed; its answer.
async fn upsert_batch(app: &TestApp, token: &str, inputs: Value) -> Value {
    let (s, body) = app.api_post("/contacts/batch", token, inputs).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_batch_of_three_creates_three_contacts_in_input_order() {
    let (app, token) = TestApp::ready().await;
    property(&app, &token, "seats", "number").await;
    let body = upsert_batch(
        &app,
        &token,
        json!({"inputs": [
            {"email": "a@example.com", "properties": {"firstname": "Ann", "seats": 3}},
            {"email": "b@example.com", "properties": {"firstname": "Bob"}},
            {"email": "c@example.com"},
        ]}),
    )
    .await;
    let results = body["results"].as_array().expect("results");
    let emails: Vec<&str> = results.iter().filter_map(|c| c["email"].as_str()).collect();
    assert_eq!(emails, ["a@example.com", "b@example.com", "c@example.com"]);
    assert_eq!(results[0]["properties"]["firstname"], "Ann");
    assert_eq!(results[0]["properties"]["seats"], 3);
    for (c, email) in results.iter().zip(emails) {
        assert!(c["id"].is_i64() && c["created_at"].is_string() && c["updated_at"].is_string());
        // The same shape and values GET /contacts shows.
        assert_eq!(found(&app, &token, email).await, vec![c.clone()]);
    }
}

#[tokio::test]
async fn a_batch_upserts_existing_emails_and_the_later_of_two_inputs_wins() {
    let (app, token) = TestApp::ready().await;
    let (_, dan) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "dan@example.com", "properties": {"firstname": "Dan", "lastname": "Old"}}),
        )
        .await;
    let body = upsert_batch(
        &app,
        &token,
        json!({"inputs": [
            {"email": "DAN@example.com", "properties": {"lastname": "Brown"}},
            {"email": "new@example.com", "properties": {"firstname": "First"}},
            {"email": "new@example.com", "properties": {"firstname": "Second", "lastname": "Later"}},
        ]}),
    )
    .await;
    let r = &body["results"];
    assert_eq!(r[0]["id"], dan["id"], "updated, not a second contact");
    assert_eq!(r[0]["properties"]["firstname"], "Dan");
    assert_eq!(r[0]["properties"]["lastname"], "Brown");
    assert_eq!(r[1]["id"], r[2]["id"], "one contact for the repeated email");
    assert_eq!(
        r[1], r[2],
        "both results show the contact as the batch left it"
    );
    assert_eq!(r[2]["properties"]["firstname"], "Second");
    assert_eq!(r[2]["properties"]["lastname"], "Later");
    assert_eq!(found(&app, &token, "new@example.com").await.len(), 1);
}

#[tokio::test]
async fn a_batch_lands_as_its_inputs_would_one_by_one_case_repeats_clears_and_no_email() {
    let (app, token) = TestApp::ready().await;
    property(&app, &token, "seats", "number").await;
    let (_, old) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "old@example.com", "properties": {"firstname": "Olga", "seats": 4}}),
        )
        .await;
    let body = upsert_batch(
        &app,
        &token,
        json!({"inputs": [
            {"email": "Mixed@Example.com", "properties": {"firstname": "Mia", "seats": 2}},
            {"properties": {"firstname": "Nobody"}},
            {"email": "mixed@example.COM", "properties": {"seats": null}},
            {"properties": {"firstname": "Nobody"}},
            {"email": "OLD@example.com", "properties": {"seats": 4}},
            {"email": "old@example.com", "properties": {"seats": null, "lastname": "Ivanova"}},
        ]}),
    )
    .await;
    let r = body["results"].as_array().expect("results");
    // The email's first spelling is kept; its repeat in another case is the same contact,
    // and the later input's removal of a value wins.
    assert_eq!(r[0]["id"], r[2]["id"]);
    assert_eq!(r[2]["email"], "Mixed@Example.com");
    assert_eq!(r[2]["properties"]["firstname"], "Mia");
    assert!(
        r[2]["properties"].get("seats").is_none_or(Value::is_null),
        "{}",
        r[2]
    );
    // Each input without an email is a contact of its own.
    assert_ne!(r[1]["id"], r[3]["id"]);
    assert_eq!(r[1]["properties"]["firstname"], "Nobody");
    // An existing contact found by email in any case; writing the value it has changes nothing.
    assert_eq!(r[4]["id"], old["id"]);
    assert_eq!(r[5]["properties"]["firstname"], "Olga");
    assert_eq!(r[5]["properties"]["lastname"], "Ivanova");
    assert!(
        r[5]["properties"].get("seats").is_none_or(Value::is_null),
        "{}",
        r[5]
    );
    assert_ne!(
        r[5]["updated_at"], old["updated_at"],
        "a change moves last modified"
    );
    // What the batch wrote is what a read gives, and the activity records each change.
    for c in [&r[2], &r[5]] {
        let (s, got) = app.api_get(&format!("/contacts/{}", c["id"]), &token).await;
        assert_eq!(s, StatusCode::OK, "{got}");
        assert_eq!(&got, c);
    }
    let (s, events) = app
        .api_get(&format!("/contacts/{}/events", r[0]["id"]), &token)
        .await;
    assert_eq!(s, StatusCode::OK, "{events}");
    let names: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(names.contains(&"contact_created"), "{events}");
    assert!(names.contains(&"property_changed"), "{events}");
}

#[tokio::test]
async fn emails_that_differ_beyond_ascii_case_match_as_a_single_upsert_would() {
    // SQLite compares emails without ASCII case only, PostgreSQL without any letter's case:
    // whichever it is, a batch finds the contact a single upsert of that email would.
    let (app, token) = TestApp::ready().await;
    let (s, jose) = app
        .api_post("/contacts", &token, json!({"email": "josé@example.com"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{jose}");
    let body = upsert_batch(
        &app,
        &token,
        json!({"inputs": [
            {"email": "JOSÉ@example.com", "properties": {"firstname": "José"}},
            {"email": "zoë@example.com", "properties": {"firstname": "Zoë"}},
            {"email": "ZOË@example.com", "properties": {"lastname": "Ng"}},
        ]}),
    )
    .await;
    let r = &body["results"];
    for (i, email) in [(0, "JOSÉ@example.com"), (2, "ZOË@example.com")] {
        let hits = found(&app, &token, email).await;
        assert_eq!(hits.len(), 1, "{email}: {hits:?}");
        assert_eq!(hits[0]["id"], r[i]["id"], "{email}");
    }
}

#[tokio::test]
async fn bad_inputs_are_all_named_by_index_and_field_and_nothing_is_saved() {
    let (app, token) = TestApp::ready().await;
    property(&app, &token, "start_day", "date").await;
    property(&app, &token, "seats", "number").await;
    let (s, e) = app
        .api_post(
            "/contacts/batch",
            &token,
            json!({"inputs": [
                {"email": "ok@example.com", "properties": {"start_day": "2027-01-05"}},
                {"email": "bad-date@example.com", "properties": {"start_day": "2027-02-30"}},
                {"email": "bad-number@example.com", "properties": {"seats": "lots"}},
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "inputs[1].properties.start_day", "{e}");
    assert!(e["error"].is_string());
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|x| x["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "inputs[1].properties.start_day",
            "inputs[2].properties.seats"
        ]
    );
    for email in [
        "ok@example.com",
        "bad-date@example.com",
        "bad-number@example.com",
    ] {
        assert!(found(&app, &token, email).await.is_empty(), "{email} saved");
    }
    // Shape errors of single inputs are named the same way, alongside value errors.
    let (s, e) = app
        .api_post(
            "/contacts/batch",
            &token,
            json!({"inputs": [
                {"email": "x@example.com", "colour": "red"},
                "not an object",
                {"email": "not-an-email"},
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|x| x["field"].as_str())
        .collect();
    assert_eq!(fields, ["inputs[0].colour", "inputs[1]", "inputs[2].email"]);
    assert!(found(&app, &token, "x@example.com").await.is_empty());
}

#[tokio::test]
async fn more_than_1000_inputs_or_no_inputs_get_422_naming_inputs() {
    let (app, token) = TestApp::ready().await;
    let inputs: Vec<Value> = (0..1001)
        .map(|i| json!({"email": format!("c{i}@example.com")}))
        .collect();
    let cases = [
        json!({ "inputs": inputs }),
        json!({ "inputs": [] }),
        json!({}),
        json!({ "inputs": {"email": "a@example.com"} }),
        json!([{"email": "a@example.com"}]),
    ];
    for body in cases {
        let (s, e) = app.api_post("/contacts/batch", &token, body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["field"], "inputs", "{e}");
    }
    assert!(found(&app, &token, "c0@example.com").await.is_empty());
    // Exactly 1,000 is allowed.
    let inputs: Vec<Value> = (0..1000)
        .map(|i| json!({"email": format!("c{i}@example.com")}))
        .collect();
    let (s, body) = app
        .api_post("/contacts/batch", &token, json!({ "inputs": inputs }))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["results"].as_array().map(Vec::len), Some(1000));
    assert_eq!(body["results"][999]["email"], "c999@example.com");
}

async fn enrollments(app: &TestApp, token: &str, wf: i64, contact: &Value) -> Vec<Value> {
    let (s, list) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={}", contact["id"]),
            token,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    list["enrollments"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_batch_enrolls_contacts_into_a_live_workflow_as_single_upserts_do() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({ "name": "Renewal", "start": {"type": "contact_date_property", "property": "renewal_date"},
        "triggers": {"filter_groups": [[{"property": "lifecyclestage", "operator": "eq", "value": "customer"}]]},
        "steps": [ {"type": "date_delay", "when": "before", "amount": 7, "unit": "days", "time_of_day": "09:00"},
                   {"type": "send_email", "subject": "Soon", "body": "Hi {{ contact.firstname }}"} ],
        "settings": {"time_zone": "UTC"} });
    let wf = app.publish_workflow(&token, def, false).await;
    // A lead before the batch: the batch makes them a customer (the transition enrolls).
    let (_, lead) = app
        .api_post("/contacts", &token, json!({"email": "lead@example.com", "properties": {"lifecyclestage": "lead", "renewal_date": "2099-06-20"}}))
        .await;
    assert!(enrollments(&app, &token, wf, &lead).await.is_empty());
    // The single-upsert reference.
    let (_, single) = app
        .api_post("/contacts", &token, json!({"email": "single@example.com", "properties": {"lifecyclestage": "customer", "renewal_date": "2099-06-20"}}))
        .await;
    let reference = enrollments(&app, &token, wf, &single).await;
    assert_eq!(reference.len(), 1, "single upsert enrolls");
    let body = upsert_batch(
        &app,
        &token,
        json!({"inputs": [
            {"email": "new@example.com", "properties": {"lifecyclestage": "customer", "renewal_date": "2099-06-20"}},
            {"email": "lead@example.com", "properties": {"lifecyclestage": "customer"}},
            {"email": "nodate@example.com", "properties": {"lifecyclestage": "customer"}},
            {"email": "other@example.com", "properties": {"lifecyclestage": "lead", "renewal_date": "2099-06-20"}},
        ]}),
    )
    .await;
    let r = &body["results"];
    assert_eq!(r[1]["id"], lead["id"]);
    for c in [&r[0], &r[1]] {
        let list = enrollments(&app, &token, wf, c).await;
        assert_eq!(list.len(), 1, "{c} enrolled: {list:?}");
        for key in ["status", "next_step", "next_due_at", "cycle_year"] {
            assert_eq!(
                list[0][key], reference[0][key],
                "{key} as for a single upsert"
            );
        }
    }
    assert!(
        enrollments(&app, &token, wf, &r[2]).await.is_empty(),
        "no date"
    );
    assert!(
        enrollments(&app, &token, wf, &r[3]).await.is_empty(),
        "not a customer"
    );
    // Upserting the enrolled contacts again changes nothing (enroll once).
    let (s, _) = app
        .api_post(
            "/contacts/batch",
            &token,
            json!({"inputs": [{"email": "new@example.com", "properties": {"firstname": "N"}}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(enrollments(&app, &token, wf, &r[0]).await.len(), 1);
}

#[tokio::test]
async fn concurrent_batches_over_the_same_contacts_in_opposite_orders_all_succeed() {
    // On PostgreSQL two such batches used to deadlock halfway (each holding contacts the other
    // needed) and one answered 500; every batch must now succeed, with nothing lost.
    let (app, token) = TestApp::ready().await;
    let emails: Vec<String> = (0..200).map(|i| format!("shared{i}@example.com")).collect();
    let create: Vec<Value> = emails.iter().map(|e| json!({"email": e})).collect();
    let (s, _) = app
        .api_post("/contacts/batch", &token, json!({"inputs": create}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let batch = |reverse: bool, round: usize| {
        let mut list: Vec<Value> = emails
            .iter()
            .map(|e| json!({"email": e, "properties": {"lastname": format!("round {round}")}}))
            .collect();
        if reverse {
            list.reverse();
        }
        json!({ "inputs": list })
    };
    for round in 0..3 {
        let (a, b, c, d) = tokio::join!(
            app.api_post("/contacts/batch", &token, batch(false, round)),
            app.api_post("/contacts/batch", &token, batch(true, round)),
            app.api_post("/contacts/batch", &token, batch(false, round)),
            app.api_post("/contacts/batch", &token, batch(true, round)),
        );
        for (s, body) in [a, b, c, d] {
            assert_eq!(s, StatusCode::OK, "round {round}: {body}");
        }
    }
    let got = found(&app, &token, "shared7@example.com").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["properties"]["lastname"], "round 2");
}
