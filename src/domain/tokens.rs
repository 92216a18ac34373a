//! Personalisation tokens: `{{ contact.firstname }}` in email subjects and bodies, task titles
//! and notifications. Unknown or empty properties render as nothing; text that is not a token
//! is left exactly as written.

/// Replaces each `{{ contact.<name> }}` (spaces optional) with `lookup(name)`.
pub fn render(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let inner = after[..end].trim();
                match inner.strip_prefix("contact.") {
                    Some(name)
                        if !name.is_empty()
                            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                    {
                        out.push_str(&lookup(name).unwrap_or_default());
                    }
                    _ => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Everything written between `{{` and `}}`, trimmed, in order (for validation: each must be
/// `contact.<property>`). An unclosed `{{` yields the rest of the text, so it is reported too.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                out.push(after[..end].trim());
                rest = &after[end + 2..];
            }
            None => {
                out.push(after.trim());
                break;
            }
        }
    }
    out
}

/// Why a placeholder is not a token of a property in `known`, or `None` when it is one.
pub fn problem(placeholder: &str, known: &dyn Fn(&str) -> bool) -> Option<String> {
    let shown = format!("{{{{ {placeholder} }}}}");
    let Some(name) = placeholder.strip_prefix("contact.") else {
        return Some(format!(
            "“{shown}” is not a personalization token: tokens look like {{{{ contact.firstname }}}}."
        ));
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(format!(
            "“{shown}” is not a personalization token: after “contact.” comes a property’s internal name, with nothing else (no filters)."
        ));
    }
    (!known(name)).then(|| format!("“{shown}”: there is no contact property named “{name}”."))
}

/// The property names a text refers to (for validation and previews).
pub fn referenced(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        if let Some(name) = after[..end].trim().strip_prefix("contact.") {
            if !name.is_empty() && !out.iter().any(|n: &String| n == name) {
                out.push(name.to_string());
            }
        }
        rest = &after[end + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_checked_against_the_properties() {
        let known = |n: &str| n == "firstname";
        let cases: &[(&str, &[bool])] = &[
            ("Hi {{ contact.firstname }}", &[false]),
            (
                "Hi {{contact.firstname}} {{ contact.no_such }}",
                &[false, true],
            ),
            ("{{ contact.firstname | upper }}", &[true]),
            ("{{ contatc.firstname }}", &[true]),
            ("{{ contact. }}", &[true]),
            ("unclosed {{ contact.firstname", &[false]),
            ("unclosed {{ contact.nope", &[true]),
            ("no tokens at all", &[]),
        ];
        for (text, expected) in cases {
            let got: Vec<bool> = placeholders(text)
                .iter()
                .map(|p| problem(p, &known).is_some())
                .collect();
            assert_eq!(&got, expected, "{text}");
        }
        let m = problem("contact.no_such", &known).unwrap_or_default();
        assert!(m.contains("no contact property named “no_such”"), "{m}");
    }

    #[test]
    fn renders_tokens_and_leaves_the_rest() {
        let look = |n: &str| match n {
            "firstname" => Some("Ada".to_string()),
            _ => None,
        };
        let cases = [
            ("Hi {{ contact.firstname }}!", "Hi Ada!"),
            ("Hi {{contact.firstname}}", "Hi Ada"),
            ("Hi {{ contact.lastname }}.", "Hi ."),
            ("{{ other }} stays", "{{ other }} stays"),
            (
                "unclosed {{ contact.firstname",
                "unclosed {{ contact.firstname",
            ),
            ("no tokens", "no tokens"),
            ("{{ contact.firstname }}{{ contact.firstname }}", "AdaAda"),
        ];
        for (input, want) in cases {
            assert_eq!(render(input, &look), want, "{input}");
        }
    }

    #[test]
    fn lists_referenced_properties() {
        assert_eq!(
            referenced("{{ contact.a }} {{contact.b}} {{ contact.a }}"),
            vec!["a", "b"]
        );
    }
}
