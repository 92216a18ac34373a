use crate::db::types::Ts;
use crate::db::DbConnection;
use anyhow::Context;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use diesel::prelude::*;

use super::UserId;
use crate::clock::now_text;
use crate::db::schema::users;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub created_at: String,
}

/// Local methods
impl User {
    pub fn id(&self) -> UserId {
        UserId(self.id)
    }

    pub fn verify_password(&self, password: &str) -> bool {
        PasswordHash::new(&self.password_hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks a new account's email and password; the message names what is wrong.
pub fn check_new_user(email: &str, password: &str) -> Result<(), (&'static str, String)> {
    if !crate::domain::values::looks_like_email(email) {
        return Err(("email", "Enter a valid email address.".into()));
    }
    if password.chars().count() < 8 {
        return Err(("password", "Use at least 8 characters.".into()));
    }
    Ok(())
}

/// Database methods
impl User {
    pub fn count(conn: &mut DbConnection) -> anyhow::Result<i64> {
        users::table
            .count()
            .get_result(conn)
            .context("counting users")
    }

    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> anyhow::Result<Option<User>> {
        users::table
            .filter(users::email.eq(email.trim()))
            .select(User::as_select())
            .first(conn)
            .optional()
            .context("loading user")
    }

    pub fn find(conn: &mut DbConnection, id: UserId) -> anyhow::Result<Option<User>> {
        users::table
            .find(id.0)
            .select(User::as_select())
            .first(conn)
            .optional()
            .context("loading user")
    }

    pub fn create(conn: &mut DbConnection, email: &str, password: &str) -> anyhow::Result<User> {
        let hash = hash_password(password)?;
        diesel::insert_into(users::table)
            .values((
                users::email.eq(email.trim()),
                users::password_hash.eq(hash),
                users::created_at.eq(Ts::from(now_text())),
            ))
            .returning(crate::db::columns_of::<User>())
            .get_result::<User>(conn)
            .context("creating user")
    }
}
