//! `GET /api/v1/openapi.json`: the JSON API (DESIGN §7) as an OpenAPI 3.1 document, generated
//! by `utoipa` from the `#[utoipa::path]` attributes on the handlers, the workflow definition
//! types (`domain::definition`), and the wire shapes below.
//!
//! The handlers read bodies as `serde_json::Value` (strict, field-naming 422s) and build
//! responses with `json!`, so the shapes they accept and return are written down here as
//! schema types; keep them in step with `contact_json`, `workflow_json`, `enrollment_json`,
//! `event_json` and the preview timeline.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde_json::Value;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::domain::definition::{Definition, SplitPath};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/openapi.json", web::get().to(openapi_json))
        .route("/api/v1/docs", web::get().to(docs));
}

/// The document, built once per process.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// A page listing the endpoints; `static/api-docs.js` fetches openapi.json and fills it in.
async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DOCS_HTML)
}

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Perennial JSON API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/api-docs.css">
<script src="/static/api-docs.js" defer></script>
</head>
<body>
<main>
<h1 id="api-title">Perennial JSON API</h1>
<p>Every endpoint takes <code>Authorization: Bearer &lt;token&gt;</code> (create one under
Settings → API tokens). The machine-readable description is
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>
<p id="api-status">Loading…</p>
<div id="api-endpoints"></div>
</main>
</body>
</html>
"#;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Perennial JSON API",
        description = "Contacts, properties, date-centred workflows, enrollments, history, previews and custom events. Errors are JSON `{\"error\", \"field\", \"errors\"}`; bad input is a 422 naming the field."
    ),
    servers((url = "/", description = "this server")),
    paths(
        crate::api::contacts::create,
        crate::api::contacts::find,
        crate::api::contacts::get,
        crate::api::contacts::patch,
        contacts_batch,
        crate::api::properties::create,
        crate::api::properties::list,
        crate::api::workflows::create,
        crate::api::workflows::list,
        crate::api::workflows::get,
        crate::api::workflows::replace,
        crate::api::workflows::publish,
        crate::api::workflows::turn_off,
        crate::api::workflows::enrollments,
        crate::api::workflows::enroll_manually,
        crate::api::workflows::history_page,
        crate::api::workflows::preview,
        crate::api::events::post_events,
        crate::api::events::contact_events,
    ),
    components(schemas(
        ApiErrorBody, FieldErrorBody, ContactBody, ContactPatch, Contact, ContactList,
        ContactBatch, ContactBatchResults, PropertyBody, Property, PropertyList, Workflow,
        WorkflowList, Published, EnrollmentReport, PublishBody, EnrollBody, Enrollment,
        EnrollmentList, HistoryEvent, HistoryPage, Preview, PreviewStep, EventBody, EventBatch,
        ContactEvent, ContactEventList, ContactEventPage, Definition, EventsInput, EventsPosted,
        SplitPath,
    )),
    modifiers(&BearerAuth, &CommonResponses),
    security(("bearer" = [])),
    tags(
        (name = "contacts", description = "Contacts and their property values"),
        (name = "properties", description = "Contact properties (the schema of a contact)"),
        (name = "workflows", description = "Workflows, enrollments, history and preview"),
        (name = "events", description = "Custom events from other systems"),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme: an API token from Settings → API tokens.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token: `Authorization: Bearer <token>`"))
                    .build(),
            ),
        );
    }
}

/// The answers every operation can give, added where a handler's attribute does not list
/// them: 401 (token), 429 (too many wrong tokens), 422 (bad query or body), 413 (a body over
/// the cap), 404 (a path id that names nothing).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            utoipa::openapi::RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ApiErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let has_body = op.request_body.is_some();
                let r = &mut op.responses.responses;
                r.entry("401".into()).or_insert_with(|| {
                    error("Missing, wrong or revoked token, or its user is disabled")
                });
                r.entry("429".into()).or_insert_with(|| {
                    error("Too many wrong tokens from this address; wait as Retry-After says")
                });
                r.entry("422".into())
                    .or_insert_with(|| error("Bad input; `field` names where"));
                if has_body {
                    r.entry("413".into())
                        .or_insert_with(|| error("The body is larger than 4 MB"));
                }
                if path.contains('{') {
                    r.entry("404".into())
                        .or_insert_with(|| error("No such resource"));
                }
            }
        }
    }
}

/// `POST /api/v1/contacts/batch`. The handler lives in `src/api/contacts_batch.rs` (added on
/// its own branch); this stub only describes it, and is never routed.
#[utoipa::path(
    post,
    path = "/api/v1/contacts/batch",
    tag = "contacts",
    summary = "Upsert up to 1,000 contacts in one transaction",
    description = "Each input is upserted by email as `POST /contacts` does. All or nothing: any bad input is a 422 naming the index and field of every bad input (`inputs[3].properties.renewal_date`), and nothing is saved.",
    request_body = ContactBatch,
    responses(
        (status = 200, description = "Every contact, in input order", body = ContactBatchResults),
        (status = 401, description = "Missing or bad token", body = ApiErrorBody),
        (status = 422, description = "Bad inputs (nothing saved)", body = ApiErrorBody),
    )
)]
#[allow(dead_code)]
fn contacts_batch() {}

/// Every error: `error` the message, `field` the first bad field (or null), `errors` all.
#[derive(ToSchema)]
pub struct ApiErrorBody {
    pub error: String,
    pub field: Option<String>,
    #[schema(nullable = false)]
    pub errors: Option<Vec<FieldErrorBody>>,
}

#[derive(ToSchema)]
pub struct FieldErrorBody {
    /// A path into the input, e.g. `properties.renewal_date` or `steps[2].amount`.
    pub field: String,
    pub message: String,
}

/// A contact to create or update (upsert by email).
#[derive(ToSchema)]
pub struct ContactBody {
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    /// Property name → value (typed by the property; `null` clears it).
    #[schema(value_type = Option<Object>)]
    pub properties: Option<BTreeMap<String, Value>>,
}

/// A change to a contact's values (`null` clears one).
#[derive(ToSchema)]
pub struct ContactPatch {
    pub email: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub properties: Option<BTreeMap<String, Value>>,
}

#[derive(ToSchema)]
pub struct Contact {
    pub id: i64,
    pub email: Option<String>,
    #[schema(value_type = Object)]
    pub properties: BTreeMap<String, Value>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

#[derive(ToSchema)]
pub struct ContactList {
    pub contacts: Vec<Contact>,
}

#[derive(ToSchema)]
pub struct ContactBatch {
    /// 1 to 1,000 contacts.
    #[schema(max_items = 1000, min_items = 1)]
    pub inputs: Vec<ContactBody>,
}

#[derive(ToSchema)]
pub struct ContactBatchResults {
    pub results: Vec<Contact>,
}

#[derive(ToSchema)]
pub struct PropertyBody {
    pub name: String,
    /// Defaults to the name.
    pub label: Option<String>,
    #[schema(pattern = "^(date|datetime|text|number|enum|bool)$")]
    pub field_type: String,
    /// The choices of an `enum` property.
    pub options: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub struct Property {
    pub id: i64,
    pub name: String,
    pub label: String,
    pub field_type: String,
    pub builtin: bool,
    pub type_locked: bool,
    pub options: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub struct PropertyList {
    pub properties: Vec<Property>,
}

#[derive(ToSchema)]
pub struct Workflow {
    pub id: i64,
    /// `draft`, `on` or `off`.
    pub status: String,
    pub revision: i64,
    pub definition: Definition,
}

#[derive(ToSchema)]
pub struct WorkflowList {
    pub workflows: Vec<Workflow>,
}

#[derive(ToSchema)]
pub struct PublishBody {
    /// Also enroll every existing contact who qualifies (runs in the background).
    pub enroll_existing: Option<bool>,
}

/// The workflow after publishing; `enrollment` when `enroll_existing` was asked for.
#[derive(ToSchema)]
pub struct Published {
    pub id: i64,
    pub status: String,
    pub revision: i64,
    pub definition: Definition,
    pub enrollment: Option<EnrollmentReport>,
}

#[derive(ToSchema)]
pub struct EnrollmentReport {
    pub state: String,
    pub enrolled: i64,
    pub total: i64,
}

#[derive(ToSchema)]
pub struct EnrollBody {
    pub contact_id: i64,
}

#[derive(ToSchema)]
pub struct Enrollment {
    pub id: i64,
    pub contact_id: i64,
    /// `active`, `completed` or `unenrolled`.
    pub status: String,
    pub cycle_year: Option<i32>,
    /// The top-level index of the next step.
    pub next_step: Option<i64>,
    /// RFC 3339 with the workflow zone's offset.
    pub next_due_at: Option<String>,
    pub anchor_date: Option<String>,
    pub enrolled_at: String,
    pub reason: Option<String>,
}

#[derive(ToSchema)]
pub struct EnrollmentList {
    pub enrollments: Vec<Enrollment>,
}

#[derive(ToSchema)]
pub struct HistoryEvent {
    pub id: i64,
    /// RFC 3339 with the workflow zone's offset.
    pub at: String,
    pub contact_id: Option<i64>,
    /// e.g. `enrolled`, `action_executed`, `action_failed`, `skipped`, `unenrolled`.
    pub event: String,
    /// A top-level step index (a number), or a path such as `3/yes/0` inside a branch (text).
    #[schema(schema_with = step_schema)]
    pub step: Option<Value>,
    pub detail: String,
    pub revision: i64,
}

/// A history event's step: a number, a text path, or null.
fn step_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{OneOfBuilder, Schema, Type};
    use utoipa::openapi::ObjectBuilder;
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Integer))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build(),
    )
}

/// Newest first; pass `next` as `before` for the next page.
#[derive(ToSchema)]
pub struct HistoryPage {
    pub events: Vec<HistoryEvent>,
    pub next: Option<String>,
}

/// The timeline this contact would get if enrolled at `now`.
#[derive(ToSchema)]
pub struct Preview {
    pub contact_id: i64,
    /// `YYYY-MM-DD`, null for a blank workflow.
    pub anchor_date: Option<String>,
    pub cycle_year: Option<i32>,
    pub time_zone: String,
    pub steps: Vec<PreviewStep>,
    pub note: Option<String>,
}

#[derive(ToSchema)]
pub struct PreviewStep {
    pub index: i64,
    #[schema(rename = "type")]
    pub type_: String,
    /// RFC 3339 with offset: when a date delay ends, or when an action will run.
    pub due_at: String,
    /// `due` or `skipped_past`.
    pub status: String,
}

/// One custom event, about a contact by id or by email.
#[derive(ToSchema, serde::Serialize)]
pub struct EventBody {
    pub contact_id: Option<i64>,
    pub email: Option<String>,
    /// Letters, digits, `_ - . :` (1–100 characters).
    pub name: String,
    /// RFC 3339; defaults to now.
    pub occurred_at: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub properties: Option<BTreeMap<String, Value>>,
    /// Create the contact when `email` matches none.
    pub create_contact: Option<bool>,
}

/// Up to 1,000 events in one transaction (a bare JSON array is accepted too).
#[derive(ToSchema, serde::Serialize)]
pub struct EventBatch {
    #[schema(max_items = 1000, min_items = 1)]
    pub events: Vec<EventBody>,
}

#[derive(ToSchema, serde::Serialize)]
pub struct ContactEvent {
    pub id: i64,
    pub contact_id: i64,
    pub name: String,
    pub source: String,
    pub occurred_at: String,
    #[schema(value_type = Object)]
    pub properties: BTreeMap<String, Value>,
}

#[derive(ToSchema, serde::Serialize)]
pub struct ContactEventList {
    pub events: Vec<ContactEvent>,
}

#[derive(ToSchema)]
pub struct ContactEventPage {
    pub events: Vec<ContactEvent>,
    pub next: Option<String>,
}

/// What `POST /events` takes: one event, `{ "events": [...] }`, or a bare array of events.
#[derive(ToSchema, serde::Serialize)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum EventsInput {
    One(EventBody),
    Batch(EventBatch),
    List(Vec<EventBody>),
}

/// What `POST /events` answers: the event, or `{ "events": [...] }` for a batch.
#[derive(ToSchema, serde::Serialize)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum EventsPosted {
    One(ContactEvent),
    Batch(ContactEventList),
}
