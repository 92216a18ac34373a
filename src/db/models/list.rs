//! Static lists and their members.

use crate::db::types::Ts;
use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;

use super::{ContactId, ListId};
use crate::clock::now_text;
use crate::db::schema::{list_members, lists};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = lists)]
pub struct List {
    pub id: i64,
    pub name: String,
    pub source_workflow_id: Option<i64>,
    pub created_at: String,
}

/// Local methods
impl List {
    pub fn id(&self) -> ListId {
        ListId(self.id)
    }
}

/// Database methods
impl List {
    pub fn all(conn: &mut DbConnection) -> anyhow::Result<Vec<(List, i64)>> {
        let lists: Vec<List> = lists::table
            .order(lists::id.desc())
            .select(List::as_select())
            .load(conn)
            .context("listing lists")?;
        let counts: Vec<(i64, i64)> = list_members::table
            .group_by(list_members::list_id)
            .select((list_members::list_id, diesel::dsl::count_star()))
            .load(conn)
            .context("counting list members")?;
        Ok(lists
            .into_iter()
            .map(|l| {
                let n = counts
                    .iter()
                    .find(|(id, _)| *id == l.id)
                    .map(|c| c.1)
                    .unwrap_or(0);
                (l, n)
            })
            .collect())
    }

    pub fn ids(conn: &mut DbConnection) -> anyhow::Result<Vec<i64>> {
        lists::table
            .select(lists::id)
            .load(conn)
            .context("listing list ids")
    }

    pub fn find(conn: &mut DbConnection, id: ListId) -> anyhow::Result<Option<List>> {
        lists::table
            .find(id.0)
            .select(List::as_select())
            .first(conn)
            .optional()
            .context("loading list")
    }

    pub fn create(
        conn: &mut DbConnection,
        name: &str,
        source_workflow_id: Option<i64>,
    ) -> anyhow::Result<List> {
        diesel::insert_into(lists::table)
            .values((
                lists::name.eq(name.trim()),
                lists::source_workflow_id.eq(source_workflow_id),
                lists::created_at.eq(Ts::from(now_text())),
            ))
            .returning(crate::db::columns_of::<List>())
            .get_result::<List>(conn)
            .context("creating list")
    }

    pub fn delete(conn: &mut DbConnection, id: ListId) -> anyhow::Result<()> {
        diesel::delete(lists::table.find(id.0))
            .execute(conn)
            .context("deleting list")?;
        Ok(())
    }

    pub fn member_ids(
        conn: &mut DbConnection,
        id: ListId,
        after: Option<i64>,
        limit: i64,
    ) -> anyhow::Result<Vec<i64>> {
        let mut q = list_members::table
            .filter(list_members::list_id.eq(id.0))
            .select(list_members::contact_id)
            .order(list_members::contact_id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(a) = after {
            q = q.filter(list_members::contact_id.gt(a));
        }
        q.load(conn).context("listing list members")
    }

    pub fn member_count(conn: &mut DbConnection, id: ListId) -> anyhow::Result<i64> {
        list_members::table
            .filter(list_members::list_id.eq(id.0))
            .count()
            .get_result(conn)
            .context("counting list members")
    }

    /// Adds a contact; true when it was not a member before.
    pub fn add_member(
        conn: &mut DbConnection,
        id: ListId,
        contact: ContactId,
    ) -> anyhow::Result<bool> {
        let now = Ts(now_text());
        let n = crate::on_backend!(conn, |c| diesel::insert_into(list_members::table)
            .values((
                list_members::list_id.eq(id.0),
                list_members::contact_id.eq(contact.0),
                list_members::added_at.eq(&now),
            ))
            .on_conflict_do_nothing()
            .execute(c))
        .context("adding list member")?;
        Ok(n > 0)
    }

    /// Removes a contact; true when it was a member.
    pub fn remove_member(
        conn: &mut DbConnection,
        id: ListId,
        contact: ContactId,
    ) -> anyhow::Result<bool> {
        let n = diesel::delete(
            list_members::table
                .filter(list_members::list_id.eq(id.0))
                .filter(list_members::contact_id.eq(contact.0)),
        )
        .execute(conn)
        .context("removing list member")?;
        Ok(n > 0)
    }

    pub fn lists_of(conn: &mut DbConnection, contact: ContactId) -> anyhow::Result<Vec<i64>> {
        list_members::table
            .filter(list_members::contact_id.eq(contact.0))
            .select(list_members::list_id)
            .load(conn)
            .context("loading list memberships")
    }
}
