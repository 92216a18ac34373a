//! One file per aggregate, each with "local methods" (pure) and "database methods" blocks.

pub mod api_token;
pub mod app_setting;
pub mod contact;
pub mod draft;
pub mod enrollment;
pub mod event;
pub mod history;
pub mod history_stats;
pub mod import_job;
pub mod inbox;
pub mod list;
pub mod property;
pub mod user;
pub mod user_session;
pub mod worker_heartbeat;
pub mod workflow;

diesel::define_sql_function! {
    /// SQLite: the rowid of the last row this connection inserted (an id read back without
    /// `RETURNING`, which makes SQLite journal the statement's pages).
    fn last_insert_rowid() -> diesel::sql_types::BigInt;
}

/// SQLite: the id of the row this connection just inserted, read on SQLite's own connection
/// (through the multi-backend one diesel would write the statement's text again on every
/// call to find it in its cache). The three inserts that need an id back without
/// `RETURNING` (a contact, an enrollment, a contact event) share it.
pub(crate) fn last_rowid(conn: &mut crate::db::DbConnection) -> diesel::QueryResult<i64> {
    use diesel::RunQueryDsl;
    match conn {
        crate::db::DbConnection::Sqlite(c) => diesel::select(last_insert_rowid()).get_result(c),
        crate::db::DbConnection::Postgres(_) => Err(diesel::result::Error::QueryBuilderError(
            "last_insert_rowid() is SQLite's; PostgreSQL reads ids with RETURNING".into(),
        )),
    }
}

/// Newtype ids keep a contact id from being passed where a workflow id is expected.
macro_rules! id_type {
    ($name:ident) => {
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(ContactId);
id_type!(PropertyId);
id_type!(ListId);
id_type!(WorkflowId);
id_type!(EnrollmentId);
id_type!(UserId);
