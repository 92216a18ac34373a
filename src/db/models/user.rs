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
    /// Set when an admin disabled the account: it cannot sign in, its sessions ended and its
    /// API tokens answer 401.
    pub disabled_at: Option<String>,
}

/// Local methods
impl User {
    pub fn id(&self) -> UserId {
        UserId(self.id)
    }

    pub fn verify_password(&self, password: &str) -> bool {
        verify(&self.password_hash, password)
    }

    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time of one real password check on a hash made once per process, so a sign-in
/// with an unknown email answers no faster than one with a known email (no account probing
/// by timing). Always false.
pub fn verify_dummy(password: &str) -> bool {
    std::hint::black_box(verify(dummy_hash(), password));
    false
}

/// The dummy hash, made on first use; `startup` makes it before serving, so not even the
/// first unknown email answers differently.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("perennial dummy password").unwrap_or_else(|_| String::from("$invalid"))
    })
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

    /// Every user, oldest first (Settings > Users, `perennial user list`).
    pub fn all(conn: &mut DbConnection) -> anyhow::Result<Vec<User>> {
        users::table
            .order(users::id.asc())
            .select(User::as_select())
            .load(conn)
            .context("listing users")
    }

    /// Users who can sign in.
    pub fn active_count(conn: &mut DbConnection) -> anyhow::Result<i64> {
        users::table
            .filter(users::disabled_at.is_null())
            .count()
            .get_result(conn)
            .context("counting active users")
    }

    /// The earliest active user (who owns API tokens made without naming one).
    pub fn first_active(conn: &mut DbConnection) -> anyhow::Result<Option<User>> {
        Ok(users::table
            .filter(users::disabled_at.is_null())
            .order(users::id.asc())
            .select(User::as_select())
            .load(conn)
            .context("loading users")?
            .into_iter()
            .next())
    }

    /// Disables (`true`) or re-enables a user; disabling ends their sessions. Refuses to
    /// disable the last active user (nobody could sign in again). `Ok(false)`: no such user.
    pub fn set_disabled(
        conn: &mut DbConnection,
        id: UserId,
        disabled: bool,
    ) -> Result<bool, UserChangeError> {
        crate::db::write_transaction(conn, |conn| {
            let Some(user) = User::find(conn, id)? else {
                return Ok(false);
            };
            if disabled {
                if user.is_active() && User::active_count(conn)? <= 1 {
                    return Err(UserChangeError::LastActive);
                }
                diesel::update(users::table.find(id.0))
                    .set(users::disabled_at.eq(Some(Ts::from(now_text()))))
                    .execute(conn)
                    .context("disabling user")?;
                super::user_session::UserSession::end_all(conn, id)?;
            } else {
                diesel::update(users::table.find(id.0))
                    .set(users::disabled_at.eq(None::<Ts>))
                    .execute(conn)
                    .context("enabling user")?;
            }
            Ok(true)
        })
    }

    /// Deletes a user with their sessions and API tokens. Refuses to delete the last active
    /// user. `Ok(false)`: no such user.
    pub fn delete(conn: &mut DbConnection, id: UserId) -> Result<bool, UserChangeError> {
        use crate::db::schema::{api_tokens, user_sessions};
        crate::db::write_transaction(conn, |conn| {
            let Some(user) = User::find(conn, id)? else {
                return Ok(false);
            };
            if user.is_active() && User::active_count(conn)? <= 1 {
                return Err(UserChangeError::LastActive);
            }
            diesel::delete(user_sessions::table.filter(user_sessions::user_id.eq(id.0)))
                .execute(conn)
                .context("ending sessions")?;
            diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(id.0)))
                .execute(conn)
                .context("deleting the user's API tokens")?;
            diesel::delete(users::table.find(id.0))
                .execute(conn)
                .context("deleting user")?;
            Ok(true)
        })
    }

    /// Creates a user. API tokens made before any user existed (from the command line) become
    /// theirs.
    pub fn create(conn: &mut DbConnection, email: &str, password: &str) -> anyhow::Result<User> {
        use crate::db::schema::api_tokens;
        let hash = hash_password(password)?;
        crate::db::write_transaction(conn, |conn| {
            let user = diesel::insert_into(users::table)
                .values((
                    users::email.eq(email.trim()),
                    users::password_hash.eq(&hash),
                    users::created_at.eq(Ts::from(now_text())),
                ))
                .returning(crate::db::columns_of::<User>())
                .get_result::<User>(conn)
                .context("creating user")?;
            diesel::update(api_tokens::table.filter(api_tokens::user_id.is_null()))
                .set(api_tokens::user_id.eq(Some(user.id)))
                .execute(conn)
                .context("giving earlier API tokens to the first user")?;
            Ok(user)
        })
    }
}

/// Why a user could not be disabled or deleted.
#[derive(Debug, thiserror::Error)]
pub enum UserChangeError {
    #[error("this is the only active user: nobody could sign in afterwards")]
    LastActive,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for UserChangeError {
    fn from(e: diesel::result::Error) -> Self {
        UserChangeError::Internal(e.into())
    }
}
