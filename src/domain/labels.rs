//! What people read instead of internal values: the labels of dropdown options (HubSpot's
//! lifecycle stages are stored as `marketingqualifiedlead`, read as "Marketing qualified lead"),
//! checkbox values, and the internal name a property label suggests.

/// HubSpot's internal values of the default lifecycle stages and what people call them.
const KNOWN_OPTIONS: [(&str, &str); 8] = [
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing qualified lead"),
    ("salesqualifiedlead", "Sales qualified lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
];

/// The label of a dropdown option: the known HubSpot label for an internal value, else the
/// option exactly as the person who created the property wrote it.
pub fn option_label(value: &str) -> String {
    KNOWN_OPTIONS
        .iter()
        .find(|(v, _)| v.eq_ignore_ascii_case(value))
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| value.to_string())
}

/// The option among `options` that `text` names, by its internal value or by its label (both
/// case-insensitive): `Marketing qualified lead` finds `marketingqualifiedlead`.
pub fn find_option<'a>(options: &'a [String], text: &str) -> Option<&'a String> {
    let text = text.trim();
    options
        .iter()
        .find(|o| o.eq_ignore_ascii_case(text))
        .or_else(|| {
            options
                .iter()
                .find(|o| option_label(o).eq_ignore_ascii_case(text))
        })
}

/// A single checkbox's stored value as people read it.
pub fn bool_label(value: &str) -> &str {
    match value {
        "true" => "Yes",
        "false" => "No",
        other => other,
    }
}

/// The internal name a label suggests: `Customer since` → `customer_since`, `Kundeår` →
/// `kundear`; always a valid internal name (lowercase letters, digits and underscores,
/// starting with a letter, at most 64), or empty when the label has no letter or digit.
pub fn internal_name_from_label(label: &str) -> String {
    let mut out = String::new();
    for c in label.trim().chars().flat_map(fold) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "p_");
    }
    out.truncate(64);
    out.trim_end_matches('_').to_string()
}

/// Latin letters with marks as plain ASCII (what a person expects in an internal name).
fn fold(c: char) -> Vec<char> {
    let s: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => {
            "a"
        }
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' | 'č' | 'Č' | 'ć' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'œ' | 'Œ' => "oe",
        'ß' => "ss",
        'š' | 'Š' | 'ś' => "s",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ž' | 'Ž' | 'ź' | 'ż' => "z",
        'ł' | 'Ł' => "l",
        'ð' | 'Ð' => "d",
        'þ' | 'Þ' => "th",
        other => return vec![other],
    };
    s.chars().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_stages_read_as_words() {
        assert_eq!(
            option_label("marketingqualifiedlead"),
            "Marketing qualified lead"
        );
        assert_eq!(option_label("customer"), "Customer");
        assert_eq!(option_label("Gold tier"), "Gold tier");
    }

    #[test]
    fn options_are_found_by_value_or_label() {
        let opts: Vec<String> = ["lead", "marketingqualifiedlead", "Gold"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            find_option(&opts, "Marketing qualified lead").map(String::as_str),
            Some("marketingqualifiedlead")
        );
        assert_eq!(find_option(&opts, "LEAD").map(String::as_str), Some("lead"));
        assert_eq!(find_option(&opts, "gold").map(String::as_str), Some("Gold"));
        assert_eq!(find_option(&opts, "silver"), None);
    }

    #[test]
    fn labels_suggest_internal_names() {
        let cases = [
            ("Customer since", "customer_since"),
            ("  Renewal date ", "renewal_date"),
            ("Kundeår", "kundear"),
            ("Straße / Nr.", "strasse_nr"),
            ("2nd email", "p_2nd_email"),
            ("!!!", ""),
        ];
        for (label, want) in cases {
            let got = internal_name_from_label(label);
            assert_eq!(got, want, "{label}");
            assert!(
                got.is_empty() || super::super::values::valid_internal_name(&got),
                "{got}"
            );
        }
        assert_eq!(internal_name_from_label(&"a".repeat(100)).len(), 64);
    }
}
