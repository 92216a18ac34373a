//! Signed-in sessions kept on the server: the session cookie carries a random id, the table its
//! SHA-256. Signing out deletes the row, so a copy of the cookie saved before stops working;
//! disabling or deleting a user deletes all of theirs.

use anyhow::Context;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::user::User;
use super::UserId;
use crate::clock::now_text;
use crate::db::schema::{user_sessions, users};
use crate::db::types::Ts;
use crate::db::DbConnection;

/// A session unused this long is over (the cookie lives as long).
pub const IDLE_DAYS: i64 = 14;

pub struct UserSession;

fn hash(plain: &str) -> String {
    hex::encode(Sha256::digest(plain.as_bytes()))
}

/// Database methods
impl UserSession {
    /// Starts a session for `user`; returns the id for the cookie (never stored as such).
    pub fn start(conn: &mut DbConnection, user: UserId) -> anyhow::Result<String> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let plain = hex::encode(bytes);
        let now = now_text();
        diesel::insert_into(user_sessions::table)
            .values((
                user_sessions::id_hash.eq(hash(&plain)),
                user_sessions::user_id.eq(user.0),
                user_sessions::created_at.eq(Ts::from(&now)),
                user_sessions::seen_at.eq(Ts::from(&now)),
            ))
            .execute(conn)
            .context("starting a session")?;
        Ok(plain)
    }

    /// The active user of a live session. Records use at most once an hour, so browsing is
    /// not a write per page.
    pub fn user(conn: &mut DbConnection, plain: &str) -> anyhow::Result<Option<User>> {
        let found: Vec<(String, User)> = user_sessions::table
            .inner_join(users::table)
            .filter(user_sessions::id_hash.eq(hash(plain)))
            .select((user_sessions::seen_at, User::as_select()))
            .load(conn)
            .context("checking the session")?;
        let Some((seen_at, user)) = found.into_iter().next() else {
            return Ok(None);
        };
        let now = chrono::Utc::now();
        let seen = crate::clock::parse_instant(&seen_at).unwrap_or(now);
        if now - seen > chrono::Duration::days(IDLE_DAYS) || !user.is_active() {
            UserSession::end(conn, plain)?;
            return Ok(None);
        }
        if now - seen > chrono::Duration::hours(1) {
            diesel::update(user_sessions::table.find(hash(plain)))
                .set(user_sessions::seen_at.eq(Ts::from(now_text())))
                .execute(conn)
                .context("recording session use")?;
        }
        Ok(Some(user))
    }

    /// Ends one session (sign-out).
    pub fn end(conn: &mut DbConnection, plain: &str) -> anyhow::Result<()> {
        diesel::delete(user_sessions::table.find(hash(plain)))
            .execute(conn)
            .context("ending the session")?;
        Ok(())
    }

    /// Ends every session of a user (disabled, deleted).
    pub fn end_all(conn: &mut DbConnection, user: UserId) -> anyhow::Result<()> {
        diesel::delete(user_sessions::table.filter(user_sessions::user_id.eq(user.0)))
            .execute(conn)
            .context("ending the user's sessions")?;
        Ok(())
    }

    /// How many live sessions a user has (Settings > Users).
    pub fn count_for(conn: &mut DbConnection, user: UserId) -> anyhow::Result<i64> {
        user_sessions::table
            .filter(user_sessions::user_id.eq(user.0))
            .count()
            .get_result(conn)
            .context("counting sessions")
    }
}
