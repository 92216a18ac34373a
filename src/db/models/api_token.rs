//! API tokens: shown once, stored as a SHA-256 hash, revocable.

use crate::db::types::Ts;
use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::clock::now_text;
use crate::db::schema::api_tokens;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// The user it acts for; it stops working when that user is disabled or deleted.
    pub user_id: Option<i64>,
}

/// Local methods
impl ApiToken {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Database methods
impl ApiToken {
    /// Creates a token for the earliest active user (scripts and the benchmark, which name
    /// no user). While no user exists at all (a fresh database set up from the command line)
    /// the token waits for one: it works until the first user is created, who then owns it.
    pub fn create(conn: &mut DbConnection, name: &str) -> anyhow::Result<(ApiToken, String)> {
        let owner = super::user::User::first_active(conn)?.map(|u| u.id());
        ApiToken::insert(conn, name, owner)
    }

    /// Creates a token for `user` and returns it with its plain text, which is never stored.
    pub fn create_for(
        conn: &mut DbConnection,
        name: &str,
        user: super::UserId,
    ) -> anyhow::Result<(ApiToken, String)> {
        ApiToken::insert(conn, name, Some(user))
    }

    fn insert(
        conn: &mut DbConnection,
        name: &str,
        user: Option<super::UserId>,
    ) -> anyhow::Result<(ApiToken, String)> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let plain = format!("prn_{}", hex::encode(bytes));
        let token = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::name.eq(name.trim()),
                api_tokens::token_hash.eq(hash_token(&plain)),
                api_tokens::prefix.eq(&plain[..10]),
                api_tokens::created_at.eq(Ts::from(now_text())),
                api_tokens::user_id.eq(user.map(|u| u.0)),
            ))
            .returning(crate::db::columns_of::<ApiToken>())
            .get_result::<ApiToken>(conn)
            .context("creating API token")?;
        Ok((token, plain))
    }

    pub fn all(conn: &mut DbConnection) -> anyhow::Result<Vec<ApiToken>> {
        api_tokens::table
            .order(api_tokens::id.desc())
            .select(ApiToken::as_select())
            .load(conn)
            .context("listing API tokens")
    }

    /// Every token with its owner's email (`None`: the owner is gone).
    pub fn all_with_owner(
        conn: &mut DbConnection,
    ) -> anyhow::Result<Vec<(ApiToken, Option<String>)>> {
        use crate::db::schema::users;
        api_tokens::table
            .left_join(users::table)
            .order(api_tokens::id.desc())
            .select((ApiToken::as_select(), users::email.nullable()))
            .load(conn)
            .context("listing API tokens")
    }

    /// The active token of an active user with this plain text, if any; records its use (Settings > API tokens
    /// shows "Last used"). The write happens at most once a minute per token, so a busy
    /// script does not turn every request into a write.
    pub fn authenticate(conn: &mut DbConnection, plain: &str) -> anyhow::Result<Option<ApiToken>> {
        // Loaded without `.first()` (token_hash is unique): no bound LIMIT, so the statement
        // stays prepared (see `Contact::find`).
        use crate::db::schema::users;
        let found: Vec<(ApiToken, Option<i64>, Option<String>)> = api_tokens::table
            .left_join(users::table)
            .filter(api_tokens::token_hash.eq(hash_token(plain)))
            .filter(api_tokens::revoked_at.is_null())
            .select((
                ApiToken::as_select(),
                users::id.nullable(),
                users::disabled_at.nullable(),
            ))
            .load(conn)
            .context("checking API token")?;
        let Some((mut token, owner, disabled_at)) = found.into_iter().next() else {
            return Ok(None);
        };
        let acts = match (token.user_id, owner) {
            // Its user exists and is not disabled.
            (Some(_), Some(_)) => disabled_at.is_none(),
            // Its user is gone.
            (Some(_), None) => false,
            // Made before any user existed: works until the first user takes it over.
            (None, _) => super::user::User::count(conn)? == 0,
        };
        if !acts {
            return Ok(None);
        }
        let now = now_text();
        let minute = |t: &str| t.get(..16).map(str::to_string);
        if token.last_used_at.as_deref().and_then(minute) != minute(&now) {
            diesel::update(api_tokens::table.find(token.id))
                .set(api_tokens::last_used_at.eq(Ts::from(&now)))
                .execute(conn)
                .context("recording API token use")?;
            token.last_used_at = Some(now);
        }
        Ok(Some(token))
    }

    pub fn revoke(conn: &mut DbConnection, id: i64) -> anyhow::Result<bool> {
        let n = diesel::update(
            api_tokens::table
                .find(id)
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Ts::from(now_text())))
        .execute(conn)
        .context("revoking API token")?;
        Ok(n > 0)
    }
}
