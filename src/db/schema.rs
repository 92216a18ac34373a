// Diesel table definitions, kept by hand in step with `migrations/sqlite` and
// `migrations/postgres` (the same tables and columns on both). `Instant` and `Day`
// (`db::types`) are text on SQLite, `timestamptz` and `date` on PostgreSQL.

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        created_at -> Instant,
        disabled_at -> Nullable<Instant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    app_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_at -> Instant,
        last_used_at -> Nullable<Instant>,
        revoked_at -> Nullable<Instant>,
        user_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    properties (id) {
        id -> BigInt,
        name -> Text,
        label -> Text,
        field_type -> Text,
        options -> Text,
        builtin -> Bool,
        type_locked -> Bool,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    contacts (id) {
        id -> BigInt,
        email -> Nullable<Text>,
        created_at -> Instant,
        updated_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    contact_values (contact_id, property_id) {
        contact_id -> BigInt,
        property_id -> BigInt,
        value -> Text,
        num -> Nullable<Double>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    lists (id) {
        id -> BigInt,
        name -> Text,
        source_workflow_id -> Nullable<BigInt>,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    list_members (list_id, contact_id) {
        list_id -> BigInt,
        contact_id -> BigInt,
        added_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    workflows (id) {
        id -> BigInt,
        name -> Text,
        start_type -> Text,
        status -> Text,
        revision -> Integer,
        definition -> Text,
        enroll_existing -> Bool,
        backfill_state -> Text,
        backfill_total -> BigInt,
        backfill_done -> BigInt,
        published_at -> Nullable<Instant>,
        created_at -> Instant,
        updated_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    workflow_drafts (workflow_id) {
        workflow_id -> BigInt,
        definition -> Text,
        base_revision -> Integer,
        author -> Text,
        updated_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    workflow_revisions (workflow_id, revision) {
        workflow_id -> BigInt,
        revision -> Integer,
        definition -> Text,
        author -> Text,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    enrollments (id) {
        id -> BigInt,
        workflow_id -> BigInt,
        contact_id -> BigInt,
        cycle_year -> Integer,
        status -> Text,
        revision -> Integer,
        anchor_date -> Nullable<Day>,
        next_step -> Nullable<Text>,
        next_due_at -> Nullable<Instant>,
        lease_until -> Nullable<Instant>,
        attempts -> Integer,
        reason -> Nullable<Text>,
        enrolled_at -> Instant,
        ended_at -> Nullable<Instant>,
        last_run_at -> Nullable<Instant>,
        lease_owner -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    action_runs (enrollment_id, step) {
        enrollment_id -> BigInt,
        step -> Text,
        state -> Text,
        result -> Nullable<Text>,
        started_at -> Instant,
        finished_at -> Nullable<Instant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    history_events (id) {
        id -> BigInt,
        workflow_id -> BigInt,
        enrollment_id -> Nullable<BigInt>,
        contact_id -> BigInt,
        at -> Instant,
        event -> Text,
        step -> Nullable<Text>,
        detail -> Text,
        revision -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    outbox (id) {
        id -> BigInt,
        workflow_id -> Nullable<BigInt>,
        enrollment_id -> Nullable<BigInt>,
        contact_id -> Nullable<BigInt>,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        delivery -> Text,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    notifications (id) {
        id -> BigInt,
        workflow_id -> Nullable<BigInt>,
        contact_id -> Nullable<BigInt>,
        message -> Text,
        read_at -> Nullable<Instant>,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    tasks (id) {
        id -> BigInt,
        workflow_id -> Nullable<BigInt>,
        contact_id -> Nullable<BigInt>,
        title -> Text,
        notes -> Text,
        due_date -> Nullable<Day>,
        done -> Bool,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    import_jobs (id) {
        id -> BigInt,
        filename -> Text,
        state -> Text,
        total_rows -> BigInt,
        processed_rows -> BigInt,
        imported_rows -> BigInt,
        errors -> Text,
        created_at -> Instant,
        finished_at -> Nullable<Instant>,
        owner -> Nullable<Text>,
        beat_at -> Nullable<Instant>,
    }
}

diesel::joinable!(contact_values -> contacts (contact_id));
diesel::joinable!(contact_values -> properties (property_id));
diesel::joinable!(list_members -> lists (list_id));
diesel::joinable!(list_members -> contacts (contact_id));
diesel::joinable!(enrollments -> workflows (workflow_id));
diesel::joinable!(enrollments -> contacts (contact_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    app_settings,
    api_tokens,
    properties,
    contacts,
    contact_values,
    lists,
    list_members,
    workflows,
    workflow_revisions,
    workflow_drafts,
    enrollments,
    action_runs,
    history_events,
    outbox,
    notifications,
    tasks,
    import_jobs,
);

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    contact_events (id) {
        id -> BigInt,
        contact_id -> BigInt,
        name -> Text,
        source -> Text,
        occurred_at -> Instant,
        properties -> Text,
        created_at -> Instant,
    }
}

diesel::joinable!(contact_events -> contacts (contact_id));
diesel::allow_tables_to_appear_in_same_query!(contact_events, contacts);

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::Instant;

    worker_heartbeats (worker_id) {
        worker_id -> Text,
        host -> Text,
        pid -> BigInt,
        started_at -> Instant,
        beat_at -> Instant,
    }
}

// Hardening (issue 16): server-side sessions, import files and undo records.
diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::Instant;

    user_sessions (id_hash) {
        id_hash -> Text,
        user_id -> BigInt,
        created_at -> Instant,
        seen_at -> Instant,
    }
}

diesel::table! {
    import_files (job_id) {
        job_id -> BigInt,
        content_b64 -> Text,
    }
}

diesel::table! {
    import_changes (job_id, contact_id) {
        job_id -> BigInt,
        contact_id -> BigInt,
        created -> Bool,
        before_values -> Text,
    }
}

diesel::joinable!(user_sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(user_sessions, users);
