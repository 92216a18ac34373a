//! Account-wide key/value settings.

use crate::db::DbConnection;
use anyhow::Context;
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::db::schema::app_settings;

pub const ACCOUNT_TIME_ZONE: &str = "account_time_zone";
pub const COOKIE_KEY: &str = "cookie_key";

pub fn get(conn: &mut DbConnection, key: &str) -> anyhow::Result<Option<String>> {
    // `load` rather than `first`: a bound LIMIT makes SQLite re-prepare the statement on
    // every call, and this runs on every contact write.
    Ok(app_settings::table
        .filter(app_settings::key.eq(key))
        .select(app_settings::value)
        .load::<String>(conn)
        .with_context(|| format!("reading setting {key}"))?
        .into_iter()
        .next())
}

pub fn set(conn: &mut DbConnection, key: &str, value: &str) -> anyhow::Result<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(app_settings::table)
        .values((app_settings::key.eq(key), app_settings::value.eq(value)))
        .on_conflict(app_settings::key)
        .do_update()
        .set(app_settings::value.eq(value))
        .execute(c))
    .with_context(|| format!("writing setting {key}"))?;
    Ok(())
}

/// The account time zone, UTC until someone chooses one.
pub fn account_time_zone(conn: &mut DbConnection) -> anyhow::Result<Tz> {
    Ok(get(conn, ACCOUNT_TIME_ZONE)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(Tz::UTC))
}

/// The secret that signs session cookies, made once and kept so sessions survive restarts.
pub fn cookie_key(conn: &mut DbConnection) -> anyhow::Result<Vec<u8>> {
    if let Some(hex_key) = get(conn, COOKIE_KEY)? {
        if let Ok(bytes) = hex::decode(hex_key) {
            if bytes.len() >= 64 {
                return Ok(bytes);
            }
        }
    }
    let key: [u8; 64] = {
        use rand::RngCore;
        let mut k = [0u8; 64];
        rand::rngs::OsRng.fill_bytes(&mut k);
        k
    };
    set(conn, COOKIE_KEY, &hex::encode(key))?;
    Ok(key.to_vec())
}

/// The key of the account's email pacing (JSON of `domain::definition::Pacing`).
pub const ACCOUNT_PACING: &str = "account_pacing";

/// The account's email pacing (Settings > Account), if one is set.
pub fn account_pacing(
    conn: &mut DbConnection,
) -> anyhow::Result<Option<crate::domain::definition::Pacing>> {
    Ok(get(conn, ACCOUNT_PACING)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .filter(crate::domain::pacing::is_active))
}

/// Sets (or, with `None`, removes) the account's email pacing.
pub fn set_account_pacing(
    conn: &mut DbConnection,
    pacing: Option<&crate::domain::definition::Pacing>,
) -> anyhow::Result<()> {
    let json = match pacing {
        Some(p) => serde_json::to_string(p)?,
        None => "null".to_string(),
    };
    set(conn, ACCOUNT_PACING, &json)
}
