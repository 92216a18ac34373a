//! The API's JSON body: `web::Json<Value>` (size cap, depth limit, the 422/413 of
//! `api::json_config`), then refused with a 422 naming the field when any text in it holds a
//! NUL character — PostgreSQL cannot store one, and no integration means to send it.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde_json::Value;

use super::error::ApiError;

pub struct JsonBody(pub Value);

impl JsonBody {
    pub fn into_inner(self) -> Value {
        self.0
    }
}

impl FromRequest for JsonBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if let Some(path) = nul_path(&value, String::new()) {
                let field = if path.is_empty() { "body".into() } else { path };
                return Err(ApiError::field(
                    field,
                    "contains a NUL character (\\0), which cannot be stored",
                )
                .into());
            }
            Ok(JsonBody(value))
        })
    }
}

/// Where the first NUL character sits (`properties.firstname`, `steps[2].subject`).
fn nul_path(v: &Value, at: String) -> Option<String> {
    match v {
        Value::String(s) => s.contains('\0').then_some(at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let here = if at.is_empty() {
                k.replace('\0', "\\0")
            } else {
                format!("{at}.{}", k.replace('\0', "\\0"))
            };
            if k.contains('\0') {
                Some(here)
            } else {
                nul_path(item, here)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::nul_path;
    use serde_json::json;

    #[test]
    fn the_path_of_a_nul_names_the_field() {
        let v = json!({"email": "a@b.co", "properties": {"firstname": "A\u{0}da"}});
        assert_eq!(
            nul_path(&v, String::new()).as_deref(),
            Some("properties.firstname")
        );
        let v = json!({"inputs": [{"email": "x"}, {"email": "y\u{0}"}]});
        assert_eq!(
            nul_path(&v, String::new()).as_deref(),
            Some("inputs[1].email")
        );
        assert_eq!(nul_path(&json!({"a": [1, "b"]}), String::new()), None);
    }
}
