//! `perennial demo`: realistic sample contacts so a newcomer sees the product working at once.

use crate::db::DbConnection;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::db::models::property::{Property, PropertyInput};
use crate::services::contacts::{self, Catalog, ContactInput};

pub const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Katherine",
    "Donald",
    "Sophie",
    "Ingrid",
    "Lars",
    "Nora",
    "Ole",
    "Kari",
    "Jonas",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Elias",
    "Maja",
    "Aksel",
    "Sara",
    "Henrik",
    "Ida",
    "Magnus",
    "Thea",
    "Mohammed",
    "Amira",
    "Yuki",
    "Chen",
    "Priya",
    "Diego",
    "Lucia",
    "Mateo",
    "Fatima",
    "Kwame",
    "Zanele",
    "Anders",
    "Sofie",
    "Erik",
];
pub const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "McCarthy",
    "Johnson",
    "Knuth",
    "Wilson",
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Berg",
    "Haugen",
    "Hagen",
    "Eriksen",
    "Bakken",
    "Smith",
    "Garcia",
    "Nakamura",
    "Wang",
    "Patel",
    "Okafor",
    "Silva",
    "Rossi",
    "Novak",
];
const STAGES: &[&str] = &[
    "subscriber",
    "lead",
    "opportunity",
    "customer",
    "customer",
    "evangelist",
];

/// The custom date properties the demo (and the browser test) use.
pub fn ensure_property(
    conn: &mut DbConnection,
    name: &str,
    label: &str,
    field_type: &str,
) -> anyhow::Result<()> {
    if Property::find_by_name(conn, name)?.is_none() {
        let input = PropertyInput {
            name: name.into(),
            label: label.into(),
            field_type: field_type.into(),
            options: vec![],
        };
        Property::create(conn, &input)?
            .map_err(|e| anyhow::anyhow!("creating property {name}: {e:?}"))?;
    }
    Ok(())
}

/// A plausible (firstname, lastname, email, birthday, renewal, customer_since) for index `i`.
pub fn sample(rng: &mut StdRng, i: usize, today: NaiveDate) -> [String; 6] {
    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    let email = format!(
        "{}.{}{}@example.com",
        first.to_lowercase(),
        last.to_lowercase().replace(' ', ""),
        i
    );
    let birthday = NaiveDate::from_ymd_opt(1950 + rng.gen_range(0..55), 1, 1)
        .map(|d| d + Duration::days(rng.gen_range(0..365)))
        .unwrap_or(today);
    let renewal = today + Duration::days(rng.gen_range(-30..400));
    let since = NaiveDate::from_ymd_opt(today.year() - rng.gen_range(1..10), 1, 1)
        .map(|d| d + Duration::days(rng.gen_range(0..365)))
        .unwrap_or(today);
    [
        first.to_string(),
        last.to_string(),
        email,
        birthday.format("%Y-%m-%d").to_string(),
        renewal.format("%Y-%m-%d").to_string(),
        since.format("%Y-%m-%d").to_string(),
    ]
}

/// Loads `n` sample contacts (upsert by email, so running it twice does not duplicate).
pub fn load_demo(conn: &mut DbConnection, n: usize) -> anyhow::Result<usize> {
    ensure_property(conn, "birthday", "Birthday", "date")?;
    ensure_property(conn, "renewal_date", "Renewal date", "date")?;
    ensure_property(conn, "customer_since", "Customer since", "date")?;
    let catalog = Catalog::load(conn)?;
    let mut rng = StdRng::seed_from_u64(20_200_120);
    let today = Utc::now().date_naive();
    let mut loaded = 0;
    for chunk_start in (0..n).step_by(500) {
        crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            for i in chunk_start..(chunk_start + 500).min(n) {
                let [first, last, email, birthday, renewal, since] = sample(&mut rng, i, today);
                let stage = STAGES[rng.gen_range(0..STAGES.len())];
                let mut props = vec![
                    ("firstname".to_string(), Value::String(first)),
                    ("lastname".to_string(), Value::String(last)),
                    ("lifecyclestage".to_string(), Value::String(stage.into())),
                    ("birthday".to_string(), Value::String(birthday)),
                    ("renewal_date".to_string(), Value::String(renewal)),
                ];
                if stage == "customer" || stage == "evangelist" {
                    props.push(("customer_since".to_string(), Value::String(since)));
                }
                let input = ContactInput {
                    email: Some(Some(email)),
                    properties: props,
                };
                let (email, changes) = contacts::validate(&catalog, &input, "")
                    .map_err(|e| anyhow::anyhow!("demo row invalid: {e:?}"))?;
                contacts::upsert_validated(conn, &catalog, email.flatten().as_deref(), &changes)
                    .map_err(|e| anyhow::anyhow!("demo row: {e}"))?;
                loaded += 1;
            }
            Ok(())
        })?;
    }
    Ok(loaded)
}
