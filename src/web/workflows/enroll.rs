//! Manual enrollment from the pages: the contact page's "Enroll in workflow"
//! (`GET/POST /contacts/{id}/enroll`) and the Test page's "Enroll this contact now". Both go
//! through `services::enrollment::manual_enroll`, the same path as the API; a refusal (off,
//! suppressed, no date, already enrolled) comes back as a flash with the reason.

use crate::db::DbConnection;
use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::describe::Names;
use super::support;
use crate::db::models::workflow::Workflow;
use crate::db::models::{ContactId, WorkflowId};
use crate::services::contacts::Catalog;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{render, see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/{id}/enroll", web::get().to(choose))
        .route("/contacts/{id}/enroll", web::post().to(enroll_contact));
}

fn sentence(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// "suppression list 3" → "suppression list “VIP”", so the reason names the list.
fn name_lists(message: &str, names: &Names) -> String {
    const KEY: &str = "suppression list ";
    let Some(at) = message.find(KEY) else {
        return message.to_string();
    };
    let rest = &message[at + KEY.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match digits
        .parse::<i64>()
        .ok()
        .and_then(|id| names.lists.get(&id))
    {
        Some(name) => format!("{}{KEY}“{name}”{}", &message[..at], &rest[digits.len()..]),
        None => message.to_string(),
    }
}

/// Enrolls a contact manually now. `Ok(message)` when enrolled, `Err(reason)` when refused;
/// both are sentences for a flash.
pub fn enroll_now(
    conn: &mut DbConnection,
    wf_id: WorkflowId,
    contact: ContactId,
) -> anyhow::Result<Result<String, String>> {
    let outcome = crate::services::enrollment::manual_enroll(conn, wf_id, contact, Utc::now())?;
    let names = Names::load(conn)?;
    let (e, wf) = match outcome {
        Ok(done) => done,
        Err(e) => return Ok(Err(sentence(&name_lists(&e.to_string(), &names)))),
    };
    let catalog = Catalog::load(conn)?;
    let who = crate::services::contacts::load(conn, &catalog, contact)?
        .map(|r| r.display_name())
        .unwrap_or_else(|| format!("Contact {}", contact.0));
    let mut msg = format!("Enrolled {who} in “{}”.", wf.row.name);
    if e.status == crate::db::models::enrollment::COMPLETED {
        msg.push_str(" Every step's date had already passed, so the enrollment completed at once.");
    } else if let Some(due) = e.next_due_at.as_deref() {
        msg.push_str(&format!(
            " Next step due {}.",
            support::local_text(due, wf.tz)
        ));
    }
    Ok(Ok(msg))
}

pub struct WorkflowOption {
    pub id: i64,
    pub name: String,
}

#[derive(Template)]
#[template(path = "workflows/enroll_contact.html")]
struct ChoosePage {
    ctx: Ctx,
    contact_id: i64,
    contact_name: String,
    workflows: Vec<WorkflowOption>,
}

async fn choose(user: SignedIn, state: web::Data<AppState>, path: web::Path<i64>) -> WebResult {
    let id = ContactId(path.into_inner());
    let loaded = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        let Some(rec) = crate::services::contacts::load(conn, &catalog, id)? else {
            return Ok(None);
        };
        let mut on = Workflow::active(conn)?;
        on.sort_by_key(|a| a.name.to_lowercase());
        Ok(Some((rec.display_name(), on)))
    })
    .await?;
    let Some((contact_name, on)) = loaded else {
        return Err(WebError::NotFound);
    };
    render(&ChoosePage {
        ctx: user.ctx("contacts"),
        contact_id: id.0,
        contact_name,
        workflows: on
            .into_iter()
            .map(|w| WorkflowOption {
                id: w.id,
                name: w.name,
            })
            .collect(),
    })
}

#[derive(Deserialize)]
struct EnrollForm {
    workflow_id: Option<String>,
}

async fn enroll_contact(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<EnrollForm>,
) -> WebResult {
    let contact = ContactId(path.into_inner());
    let back = format!("/contacts/{}", contact.0);
    let Some(wf_id) = form
        .workflow_id
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
    else {
        user.set_flash("error", "Choose a workflow to enroll the contact in.");
        return Ok(see_other(&format!("/contacts/{}/enroll", contact.0)));
    };
    let result = crate::db::run(&state.pool, move |conn| {
        enroll_now(conn, WorkflowId(wf_id), contact)
    })
    .await?;
    match result {
        Ok(msg) => user.set_flash("success", msg),
        Err(reason) => user.set_flash("error", reason),
    }
    Ok(see_other(&back))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_sentences_naming_the_list() {
        let names = Names {
            lists: [(3, "Do not contact".to_string())].into_iter().collect(),
            ..Default::default()
        };
        assert_eq!(
            sentence(&name_lists(
                "not enrolled: suppressed: the contact is in suppression list 3",
                &names
            )),
            "Not enrolled: suppressed: the contact is in suppression list “Do not contact”."
        );
        assert_eq!(
            name_lists("suppression list 9 gone", &names),
            "suppression list 9 gone"
        );
    }
}
