//! A minimal direct SQLite handle for the benchmark: the "raw limit" (the simplest prepared
//! statement loop SQLite can run, with no ORM in between) and fast bulk data generation.
//!
//! Only the handful of C calls the benchmark needs, each checked; statements are finalized and
//! the connection closed on drop.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::ptr;

use anyhow::{bail, Context};
use libsqlite3_sys as ffi;

pub struct RawDb {
    db: *mut ffi::sqlite3,
}

// The handle is used by one thread at a time (moved, never shared).
unsafe impl Send for RawDb {}

impl RawDb {
    /// Opens an existing database file with the app's PRAGMAs (WAL, synchronous NORMAL, …).
    pub fn open(path: &str) -> anyhow::Result<RawDb> {
        let c_path = CString::new(path).context("database path contains NUL")?;
        let mut db = ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_NOMUTEX;
        // SAFETY: valid C string and out-pointer; the handle is closed in Drop even on error.
        let rc = unsafe { ffi::sqlite3_open_v2(c_path.as_ptr(), &mut db, flags, ptr::null()) };
        let raw = RawDb { db };
        if rc != ffi::SQLITE_OK {
            bail!("opening {path}: {}", raw.errmsg());
        }
        raw.exec(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;",
        )?;
        Ok(raw)
    }

    fn errmsg(&self) -> String {
        if self.db.is_null() {
            return "out of memory".into();
        }
        // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by the connection.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.db)) }
            .to_string_lossy()
            .into_owned()
    }

    /// Runs one or more statements without results.
    pub fn exec(&self, sql: &str) -> anyhow::Result<()> {
        let c_sql = CString::new(sql).context("SQL contains NUL")?;
        // SAFETY: valid handle and C string; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.db,
                c_sql.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            bail!("{}: {}", first_line(sql), self.errmsg());
        }
        Ok(())
    }

    pub fn prepare(&self, sql: &str) -> anyhow::Result<Stmt<'_>> {
        let mut stmt = ptr::null_mut();
        // SAFETY: the length is given explicitly, so the SQL needs no NUL terminator.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.db,
                sql.as_ptr() as *const c_char,
                sql.len() as c_int,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            bail!("preparing {}: {}", first_line(sql), self.errmsg());
        }
        Ok(Stmt { db: self, stmt })
    }

    pub fn last_insert_rowid(&self) -> i64 {
        // SAFETY: valid handle.
        unsafe { ffi::sqlite3_last_insert_rowid(self.db) }
    }

    /// One integer from a query (`NULL` and no row read as 0).
    pub fn query_i64(&self, sql: &str) -> anyhow::Result<i64> {
        let mut s = self.prepare(sql)?;
        Ok(if s.step()? { s.column_i64(0) } else { 0 })
    }
}

impl Drop for RawDb {
    fn drop(&mut self) {
        // SAFETY: every Stmt borrows the RawDb, so all are finalized by now.
        unsafe {
            ffi::sqlite3_close(self.db);
        }
    }
}

fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or("")
}

pub struct Stmt<'a> {
    db: &'a RawDb,
    stmt: *mut ffi::sqlite3_stmt,
}

impl Stmt<'_> {
    /// Binds parameter `i` (1-based).
    pub fn bind_i64(&mut self, i: c_int, v: i64) -> anyhow::Result<()> {
        // SAFETY: valid statement.
        self.check(unsafe { ffi::sqlite3_bind_int64(self.stmt, i, v) })
    }

    pub fn bind_text(&mut self, i: c_int, v: &str) -> anyhow::Result<()> {
        // SAFETY: SQLITE_TRANSIENT makes SQLite copy the bytes before returning.
        self.check(unsafe {
            ffi::sqlite3_bind_text(
                self.stmt,
                i,
                v.as_ptr() as *const c_char,
                v.len() as c_int,
                ffi::SQLITE_TRANSIENT(),
            )
        })
    }

    pub fn bind_opt_text(&mut self, i: c_int, v: Option<&str>) -> anyhow::Result<()> {
        match v {
            Some(s) => self.bind_text(i, s),
            // SAFETY: valid statement.
            None => self.check(unsafe { ffi::sqlite3_bind_null(self.stmt, i) }),
        }
    }

    fn check(&self, rc: c_int) -> anyhow::Result<()> {
        if rc != ffi::SQLITE_OK {
            bail!("binding: {}", self.db.errmsg());
        }
        Ok(())
    }

    /// Steps once: `true` when a row is available.
    pub fn step(&mut self) -> anyhow::Result<bool> {
        // SAFETY: valid statement.
        match unsafe { ffi::sqlite3_step(self.stmt) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            _ => bail!("step: {}", self.db.errmsg()),
        }
    }

    /// Runs an INSERT/UPDATE to completion and resets the statement for the next row.
    pub fn execute(&mut self) -> anyhow::Result<()> {
        let r = self.step();
        // SAFETY: valid statement; reset keeps the bindings, which the next row overwrites.
        unsafe {
            ffi::sqlite3_reset(self.stmt);
        }
        r.map(|_| ())
    }

    pub fn column_i64(&self, i: c_int) -> i64 {
        // SAFETY: valid statement positioned on a row.
        unsafe { ffi::sqlite3_column_int64(self.stmt, i) }
    }

    /// A text column; `None` for NULL.
    pub fn column_text(&self, i: c_int) -> Option<&str> {
        // SAFETY: the pointer stays valid until the next step/reset, which needs `&mut self`.
        unsafe {
            if ffi::sqlite3_column_type(self.stmt, i) == ffi::SQLITE_NULL {
                return None;
            }
            let p = ffi::sqlite3_column_text(self.stmt, i);
            let n = ffi::sqlite3_column_bytes(self.stmt, i);
            if p.is_null() {
                return Some("");
            }
            std::str::from_utf8(std::slice::from_raw_parts(p, n as usize)).ok()
        }
    }
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt);
        }
    }
}
