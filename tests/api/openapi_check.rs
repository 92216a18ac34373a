//! Every API response the suite receives through `TestApp::api` is checked against the app's
//! own OpenAPI document (`perennial::api::openapi::document()`, the same one
//! `/api/v1/openapi.json` serves): the operation must document the status, and a JSON body
//! must match the documented schema. A mismatch fails the test that made the call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

fn doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::to_value(perennial::api::openapi::document()).expect("the document is JSON")
    })
}

/// The documented path matching a concrete one (`/api/v1/contacts/7` → `/api/v1/contacts/{id}`),
/// literal segments winning over parameters.
fn template_of(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let paths = doc()["paths"].as_object()?;
    paths
        .keys()
        .filter(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            ts.len() == segments.len()
                && ts
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && t.ends_with('}')) || t == s)
        })
        .min_by_key(|t| t.matches('{').count())
        .cloned()
}

type Cache = Mutex<HashMap<(String, String, u16), Option<Arc<jsonschema::Validator>>>>;

/// The validator of a response, `None` when it documents no JSON body.
fn validator(template: &str, method: &str, status: u16) -> Option<Arc<jsonschema::Validator>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (template.to_string(), method.to_string(), status);
    if let Some(v) = cache.lock().unwrap().get(&key) {
        return v.clone();
    }
    let op = &doc()["paths"][template][method];
    assert!(
        op.is_object(),
        "{} {template} is not in the OpenAPI document",
        method.to_uppercase()
    );
    let responses = &op["responses"];
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get(format!("{}XX", status / 100)))
        .or_else(|| responses.get("default"))
        .unwrap_or_else(|| {
            panic!(
                "{} {template} answered {status}, which the OpenAPI document does not list (it lists {:?})",
                method.to_uppercase(),
                responses.as_object().map(|o| o.keys().collect::<Vec<_>>())
            )
        });
    let schema = response["content"]["application/json"]["schema"].clone();
    let compiled = if schema.is_null() {
        None
    } else {
        // The schema with the document's components beside it, so `#/components/...` refs
        // resolve.
        let mut root =
            serde_json::json!({ "$schema": "https://json-schema.org/draft/2020-12/schema" });
        root["components"] = doc()["components"].clone();
        match schema {
            Value::Object(map) => {
                for (k, v) in map {
                    root[k] = v;
                }
            }
            other => panic!("a response schema that is not an object: {other}"),
        }
        Some(Arc::new(
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&root)
                .unwrap_or_else(|e| panic!("the schema of {method} {template} {status}: {e}")),
        ))
    };
    cache.lock().unwrap().insert(key, compiled.clone());
    compiled
}

/// Checks one response (`path` as requested, with `/api/v1`).
pub fn check(method: &str, path: &str, status: u16, body: &str) {
    let Some(template) = template_of(path) else {
        // Unknown endpoints answer the API's JSON 404; nothing to compare with.
        assert_eq!(
            status, 404,
            "{method} {path} is not in the OpenAPI document"
        );
        return;
    };
    let method = method.to_ascii_lowercase();
    let Some(validator) = validator(&template, &method, status) else {
        return;
    };
    let value: Value = serde_json::from_str(body).unwrap_or_else(|e| {
        panic!("{method} {path} answered {status} with a body that is not JSON ({e}): {body}")
    });
    let problems: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{} {path} answered {status} with a body the OpenAPI document does not describe:\n  {}\nbody: {body}",
        method.to_uppercase(),
        problems.join("\n  ")
    );
}
