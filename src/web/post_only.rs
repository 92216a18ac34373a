//! A URL that only takes a form post, opened with GET (a reload after an error re-rendered the
//! form, a pasted or bookmarked link): redirect to the page the form lives on instead of
//! answering "not found" (issue 13). Only paths that some route matches are touched, so every
//! real page and every unknown path's 404 stays as it is.

use actix_web::http::Method;
use actix_web::HttpRequest;

/// The page a POST-only path belongs to.
pub fn page_for(path: &str) -> String {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["workflows", id, "test", ..] => format!("/workflows/{id}/test"),
        ["workflows", id, "review", ..] => format!("/workflows/{id}/review"),
        ["workflows", id, "revisions", ..] => format!("/workflows/{id}/revisions"),
        ["workflows", id, ..] => format!("/workflows/{id}"),
        ["contacts", id, _, ..] => format!("/contacts/{id}"),
        ["settings", "properties", id, _, ..] => format!("/settings/properties/{id}"),
        ["settings", "tokens", ..] => "/settings/tokens".to_string(),
        ["settings", area, ..] => format!("/settings/{area}"),
        ["tasks", ..] => "/tasks".to_string(),
        ["inbox", ..] => "/inbox".to_string(),
        ["lists", id, _, ..] => format!("/lists/{id}"),
        ["logout"] | ["login"] | ["setup"] => "/".to_string(),
        [first, ..] if !first.is_empty() => format!("/{first}"),
        _ => "/".to_string(),
    }
}

/// Where the router's fallback sends a request: a GET or HEAD of a path that a route matches
/// but only for other methods (the fallback then runs with that route's pattern) goes to its
/// page; anything else is not found.
pub fn redirect_for(req: &HttpRequest) -> Option<String> {
    let is_read = matches!(*req.method(), Method::GET | Method::HEAD);
    (is_read && req.match_pattern().is_some()).then(|| page_for(req.path()))
}

#[cfg(test)]
mod tests {
    use super::page_for;

    #[test]
    fn post_only_paths_lead_to_their_page() {
        for (path, page) in [
            ("/workflows/new", "/workflows/new"),
            ("/workflows/7/trigger", "/workflows/7"),
            ("/workflows/7/steps/2/delete", "/workflows/7"),
            ("/workflows/7/publish", "/workflows/7"),
            ("/workflows/7/test/enroll", "/workflows/7/test"),
            ("/workflows/7/review/save-list", "/workflows/7/review"),
            ("/workflows/7/revisions/3/restore", "/workflows/7/revisions"),
            ("/contacts/4/delete", "/contacts/4"),
            ("/contacts/import", "/contacts"),
            ("/settings/properties/5/delete", "/settings/properties/5"),
            ("/settings/tokens/2/revoke", "/settings/tokens"),
            ("/settings/account", "/settings/account"),
            ("/tasks/9/done", "/tasks"),
            ("/inbox/read-all", "/inbox"),
            ("/lists/3/delete", "/lists/3"),
            ("/logout", "/"),
        ] {
            assert_eq!(page_for(path), page, "{path}");
        }
    }
}
