//! Group commit for single upserts (`POST /api/v1/contacts`).
//!
//! Written one transaction per request, an upsert pays every fixed cost alone: the property
//! catalog and the workflows that are on are read and compiled, the write lock is taken, the
//! commit is made durable. With many clients at once those costs, not the contact's own work,
//! set the pace (measured: 972 upserts/s with 8 clients on SQLite). So concurrent upserts are
//! gathered and written together:
//!
//! - A request queues its input and waits. If fewer writer tasks run than may (one on SQLite,
//!   a few on PostgreSQL: [`max_writers`]), it starts one (on the blocking pool), which takes
//!   everything queued (up to [`MAX_GROUP`]), writes it as one contact batch ([`super::batch::write_rows`]: one catalog and workflow load, one
//!   transaction, one commit), answers each request, and loops while more have queued
//!   meanwhile; then it ends. Nothing waits on a timer: a request alone is written at once, and
//!   under load a group is whatever arrived while the previous one was being written.
//! - Each request is answered only after the commit, so an acknowledged write is durable (a
//!   `kill -9` after the 2xx keeps it, `tests/crash.rs`).
//! - Each input is validated on its own: a bad one gets its own 422 and is left out of the
//!   group. If the group's transaction fails anyway (after the retries for losing to another
//!   writer), its inputs are written again one per transaction, so a write that fails, fails
//!   alone.
//! - Inputs are applied in the order they queued, each answered with the contact as its own
//!   input left it: two requests for one email in one group are one contact, the first
//!   answered 201 (created) and the second 200 with both writes in it, as if sent one after
//!   the other.
//!
//! Each process groups its own requests; several `serve` processes on PostgreSQL write their
//! groups concurrently, as they did single upserts.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use tokio::sync::oneshot;

use super::{batch, Catalog, ContactError, ContactInput, Written};
use crate::db::DbPool;

/// The most inputs one group writes. Under 50 clients a group rarely holds more than 50; the
/// cap bounds how long one commit keeps the requests of a burst waiting.
pub const MAX_GROUP: usize = 256;

/// A request's answer: the contact as its input left it, with the catalog it was validated
/// against (the API shows values typed by it).
pub type Outcome = Result<(Written, Arc<Catalog>), ContactError>;

/// A request waiting for its group's commit.
struct Waiting {
    input: ContactInput,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Waiting>,
    /// How many writer tasks are running; each takes what queues until the queue is empty.
    writers: usize,
}

/// How many groups may be written at once. SQLite has one writer at a time, so one group
/// at a time. PostgreSQL writes transactions concurrently, and a group is round trips as much
/// as work (a contact whose event a workflow listens for is written with its own statements),
/// so a few groups are written side by side there, as single upserts were.
fn max_writers(backend: crate::db::Backend) -> usize {
    match backend {
        crate::db::Backend::Sqlite => 1,
        crate::db::Backend::Postgres => 4,
    }
}

/// The single upserts of one app, gathered into group commits.
pub struct ContactWrites {
    pool: DbPool,
    max_writers: usize,
    queue: Mutex<Queue>,
    /// How many groups were written (each with one transaction, unless it failed).
    groups: AtomicU64,
}

impl ContactWrites {
    pub fn new(pool: DbPool) -> Arc<ContactWrites> {
        Arc::new(ContactWrites {
            max_writers: max_writers(pool.backend()),
            pool,
            queue: Mutex::new(Queue::default()),
            groups: AtomicU64::new(0),
        })
    }

    /// How many groups this app has written.
    pub fn groups_written(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    /// Upserts `input` by email (API semantics, fields named `properties.<name>`), answered
    /// after the commit of the group it was written with.
    pub async fn upsert(self: &Arc<Self>, input: ContactInput) -> Outcome {
        let (reply, answer) = oneshot::channel();
        let start_writer = {
            let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.waiting.push_back(Waiting { input, reply });
            // Otherwise a running writer takes it with its next group.
            let start = q.writers < self.max_writers;
            if start {
                q.writers += 1;
            }
            start
        };
        if start_writer {
            let me = Arc::clone(self);
            tokio::task::spawn_blocking(move || me.write_while_queued());
        }
        answer
            .await
            .context("the write was abandoned before its commit")?
    }

    /// The writer task: writes groups until the queue is empty.
    fn write_while_queued(&self) {
        // If a group panics, the requests still queued are answered with an error (their
        // senders are dropped) and the next request starts a new writer.
        let mut guard = WriterGuard {
            writes: self,
            ended: false,
        };
        while let Some(group) = guard.next_group() {
            self.write_group(group);
        }
    }

    fn write_group(&self, group: Vec<Waiting>) {
        let mut conn = match self.pool.get().context("getting a database connection") {
            Ok(c) => c,
            Err(e) => return answer_all_with(group, &e),
        };
        let catalog = match Catalog::load(&mut conn) {
            Ok(c) => Arc::new(c),
            Err(e) => return answer_all_with(group, &e),
        };
        let mut rows = Vec::with_capacity(group.len());
        let mut replies = Vec::with_capacity(group.len());
        for w in group {
            match batch::api_row(&catalog, &w.input) {
                Ok(row) => {
                    rows.push(row);
                    replies.push(w.reply);
                }
                Err(errors) => {
                    let _ = w.reply.send(Err(ContactError::Invalid(errors)));
                }
            }
        }
        if rows.is_empty() {
            return;
        }
        metrics::histogram!(GROUP_SIZE).record(rows.len() as f64);
        self.groups.fetch_add(1, Ordering::Relaxed);
        match batch::write_rows(&mut conn, &catalog, &rows) {
            Ok(written) => answer(replies, written, &catalog),
            Err(e) if rows.len() > 1 => {
                tracing::warn!(inputs = rows.len(), error = %describe(&e), "a group of contact writes failed; writing its inputs one by one");
                for (row, reply) in rows.iter().zip(replies) {
                    let one = batch::write_rows(&mut conn, &catalog, std::slice::from_ref(row));
                    let _ = reply.send(one.and_then(|mut w| {
                        w.pop()
                            .map(|w| (w, Arc::clone(&catalog)))
                            .context("the write returned nothing")
                            .map_err(ContactError::Internal)
                    }));
                }
            }
            Err(e) => {
                if let Some(reply) = replies.pop() {
                    let _ = reply.send(Err(e));
                }
            }
        }
        crate::db::wake_workers_if_marked(&self.pool, &mut conn);
    }
}

/// The histogram of how many inputs each group commit wrote (`GET /metrics`).
pub const GROUP_SIZE: &str = "perennial_contact_write_group_size";

fn answer(replies: Vec<oneshot::Sender<Outcome>>, written: Vec<Written>, catalog: &Arc<Catalog>) {
    for (reply, w) in replies.into_iter().zip(written) {
        let _ = reply.send(Ok((w, Arc::clone(catalog))));
    }
}

fn answer_all_with(group: Vec<Waiting>, e: &anyhow::Error) {
    for w in group {
        let _ = w.reply.send(Err(ContactError::Internal(anyhow::anyhow!(
            "{}",
            crate::telemetry::chain(e)
        ))));
    }
}

fn describe(e: &ContactError) -> String {
    match e {
        ContactError::Internal(e) => crate::telemetry::chain(e),
        other => other.to_string(),
    }
}

/// Held by the writer task; if the task panics, its drop lets the next request start a
/// writer, and the requests queued are answered with an error if no other writer is left.
struct WriterGuard<'a> {
    writes: &'a ContactWrites,
    /// Set when the queue was found empty and the writer's end recorded.
    ended: bool,
}

impl WriterGuard<'_> {
    /// The next group, or `None` (and the writer's end recorded) when nothing is queued.
    fn next_group(&mut self) -> Option<Vec<Waiting>> {
        let mut q = self
            .writes
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if q.waiting.is_empty() {
            q.writers -= 1;
            self.ended = true;
            return None;
        }
        let n = q.waiting.len().min(MAX_GROUP);
        Some(q.waiting.drain(..n).collect())
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let mut q = self
            .writes
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        q.writers -= 1;
        if q.writers == 0 {
            q.waiting.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::scratch::ScratchDb;
    use crate::db::Backend;
    use serde_json::json;

    async fn wait_until(ready: impl Fn(&Queue) -> bool, writes: &ContactWrites) {
        let start = std::time::Instant::now();
        while !ready(&writes.queue.lock().expect("queue")) {
            assert!(start.elapsed().as_secs() < 20, "the queue never got there");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    fn input(email: &str, firstname: &str) -> ContactInput {
        ContactInput {
            email: Some(Some(email.into())),
            properties: vec![("firstname".into(), json!(firstname))],
        }
    }

    /// Requests that arrive while a group is being written wait, and are then written together
    /// as ONE group, each answered with the contact as its own input left it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_queued_behind_a_write_are_written_as_one_group_in_order() {
        let db = ScratchDb::of(Backend::Sqlite).expect("scratch");
        let pool = crate::db::connect(db.url(), 4).expect("pool");
        let writes = ContactWrites::new(pool.clone());

        // Another writer holds the write turn until told to let go.
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let mut other = pool.get().expect("connection");
        let holder = std::thread::spawn(move || {
            crate::db::write_transaction(&mut other, |_| {
                held_tx.send(()).ok();
                release_rx.recv().ok();
                Ok::<_, diesel::result::Error>(())
            })
        });
        held_rx.recv().expect("the turn is held");

        // The first request starts a writer, which waits for the turn; 19 more queue.
        let first = tokio::spawn({
            let w = Arc::clone(&writes);
            async move { w.upsert(input("first@example.com", "First")).await }
        });
        // Until the writer has taken it (and waits for the turn with it).
        wait_until(|q| q.writers == 1 && q.waiting.is_empty(), &writes).await;
        let mut rest = Vec::new();
        for i in 0..19 {
            let w = Arc::clone(&writes);
            // Every fourth request writes the same contact; the others each a new one.
            let email = if i % 4 == 0 {
                "same@example.com".to_string()
            } else {
                format!("c{i}@example.com")
            };
            rest.push(tokio::spawn(async move {
                w.upsert(input(&email, &format!("Name {i}"))).await
            }));
        }
        wait_until(|q| q.waiting.len() == 19, &writes).await;
        release_tx.send(()).expect("release");
        holder.join().expect("holder").expect("its transaction");

        let (w, _) = first.await.expect("task").expect("the first write");
        assert!(w.created);
        let mut same_created = 0;
        for (i, task) in rest.into_iter().enumerate() {
            let (w, catalog) = task.await.expect("task").expect("a write");
            assert!(catalog.get("firstname").is_some());
            // Each answer shows its own input's value, whoever wrote the contact later.
            assert_eq!(
                w.record.values.get("firstname").map(String::as_str),
                Some(format!("Name {i}").as_str())
            );
            if i % 4 == 0 {
                same_created += usize::from(w.created);
            } else {
                assert!(w.created, "c{i} is new");
            }
        }
        assert_eq!(same_created, 1, "one contact for the repeated email");
        assert_eq!(
            writes.groups_written(),
            2,
            "the first alone, then the 19 queued"
        );
    }
}
