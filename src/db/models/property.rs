//! Contact properties: the defaults of DESIGN §1 and custom ones.

use crate::db::types::Ts;
use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;

use super::PropertyId;
use crate::clock::now_text;
use crate::db::schema::{contact_values, properties};
use crate::domain::errors::FieldError;
use crate::domain::values::{valid_internal_name, FieldType};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = properties)]
pub struct Property {
    pub id: i64,
    pub name: String,
    pub label: String,
    pub field_type: String,
    pub options: String,
    pub builtin: bool,
    pub type_locked: bool,
    pub created_at: String,
}

/// What a user asks for when creating or editing a property.
#[derive(Debug, Clone, Default)]
pub struct PropertyInput {
    pub name: String,
    pub label: String,
    pub field_type: String,
    /// One option per line (dropdowns).
    pub options: Vec<String>,
}

/// Local methods
impl Property {
    pub fn id(&self) -> PropertyId {
        PropertyId(self.id)
    }

    pub fn kind(&self) -> FieldType {
        FieldType::parse(&self.field_type).unwrap_or(FieldType::Text)
    }

    pub fn option_list(&self) -> Vec<String> {
        serde_json::from_str(&self.options).unwrap_or_default()
    }

    pub fn type_label(&self) -> &'static str {
        self.kind().label()
    }

    /// `email` lives on the contact row itself, not among the values.
    pub fn is_email(&self) -> bool {
        self.name == "email"
    }
}

impl PropertyInput {
    /// Checks shape only; uniqueness is checked against the database.
    pub fn check(&self) -> Result<FieldType, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !valid_internal_name(&self.name) {
            errors.push(FieldError::new(
                "name",
                "Use lowercase letters, digits and underscores, starting with a letter (at most 64).",
            ));
        }
        if self.label.trim().is_empty() {
            errors.push(FieldError::new("label", "Give the property a label."));
        }
        let ft = FieldType::parse(&self.field_type);
        if ft.is_none() {
            errors.push(FieldError::new(
                "field_type",
                "Choose one of: text, number, date, datetime, enum, bool.",
            ));
        }
        if ft == Some(FieldType::Enum) && self.options.is_empty() {
            errors.push(FieldError::new(
                "options",
                "A dropdown needs at least one option.",
            ));
        }
        match (errors.is_empty(), ft) {
            (true, Some(ft)) => Ok(ft),
            _ => Err(errors),
        }
    }
}

pub fn clean_options(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in raw.lines().map(str::trim).filter(|o| !o.is_empty()) {
        if !out.iter().any(|x| x.eq_ignore_ascii_case(o)) {
            out.push(o.to_string());
        }
    }
    out
}

/// Database methods
impl Property {
    pub fn all(conn: &mut DbConnection) -> anyhow::Result<Vec<Property>> {
        properties::table
            .order((properties::builtin.desc(), properties::label.asc()))
            .select(Property::as_select())
            .load(conn)
            .context("listing properties")
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> anyhow::Result<Option<Property>> {
        properties::table
            .find(id)
            .select(Property::as_select())
            .first(conn)
            .optional()
            .context("loading property")
    }

    pub fn find_by_name(conn: &mut DbConnection, name: &str) -> anyhow::Result<Option<Property>> {
        properties::table
            .filter(properties::name.eq(name))
            .select(Property::as_select())
            .first(conn)
            .optional()
            .context("loading property")
    }

    pub fn create(
        conn: &mut DbConnection,
        input: &PropertyInput,
    ) -> anyhow::Result<Result<Property, Vec<FieldError>>> {
        let ft = match input.check() {
            Ok(ft) => ft,
            Err(e) => return Ok(Err(e)),
        };
        if Property::find_by_name(conn, &input.name)?.is_some() {
            return Ok(Err(vec![FieldError::new(
                "name",
                format!("A property named \"{}\" already exists.", input.name),
            )]));
        }
        let options = if ft == FieldType::Enum {
            input.options.clone()
        } else {
            Vec::new()
        };
        let p = diesel::insert_into(properties::table)
            .values((
                properties::name.eq(&input.name),
                properties::label.eq(input.label.trim()),
                properties::field_type.eq(ft.as_str()),
                properties::options.eq(serde_json::to_string(&options)?),
                properties::builtin.eq(false),
                properties::type_locked.eq(false),
                properties::created_at.eq(Ts::from(now_text())),
            ))
            .returning(crate::db::columns_of::<Property>())
            .get_result::<Property>(conn)
            .context("creating property")?;
        Ok(Ok(p))
    }

    /// How many contacts have a value for this property.
    pub fn usage(&self, conn: &mut DbConnection) -> anyhow::Result<i64> {
        contact_values::table
            .filter(contact_values::property_id.eq(self.id))
            .count()
            .get_result(conn)
            .context("counting property usage")
    }

    /// Updates label, options and (when allowed) type. A type change is refused for locked
    /// properties and for properties that hold values: silently reinterpreting stored values
    /// would corrupt them.
    pub fn update(
        &self,
        conn: &mut DbConnection,
        input: &PropertyInput,
    ) -> anyhow::Result<Result<Property, Vec<FieldError>>> {
        let mut probe = input.clone();
        probe.name = self.name.clone();
        let ft = match probe.check() {
            Ok(ft) => ft,
            Err(e) => return Ok(Err(e)),
        };
        if ft != self.kind() {
            if self.type_locked {
                return Ok(Err(vec![FieldError::new(
                    "field_type",
                    format!(
                        "The type of \"{}\" is fixed and cannot be changed.",
                        self.label
                    ),
                )]));
            }
            let used = self.usage(conn)?;
            if used > 0 {
                return Ok(Err(vec![FieldError::new(
                    "field_type",
                    format!(
                        "{used} contact(s) have a value for this property; its type cannot change. Create a new property instead."
                    ),
                )]));
            }
        }
        let options = if ft == FieldType::Enum {
            input.options.clone()
        } else {
            Vec::new()
        };
        let p = diesel::update(properties::table.find(self.id))
            .set((
                properties::label.eq(input.label.trim()),
                properties::field_type.eq(ft.as_str()),
                properties::options.eq(serde_json::to_string(&options)?),
            ))
            .returning(crate::db::columns_of::<Property>())
            .get_result::<Property>(conn)
            .context("updating property")?;
        Ok(Ok(p))
    }

    pub fn delete(&self, conn: &mut DbConnection) -> anyhow::Result<()> {
        diesel::delete(properties::table.find(self.id))
            .execute(conn)
            .context("deleting property")?;
        Ok(())
    }
}

/// The properties of the account, loaded once per request or batch.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub properties: Vec<Property>,
}

/// Database methods
impl Catalog {
    pub fn load(conn: &mut DbConnection) -> anyhow::Result<Catalog> {
        Ok(Catalog {
            properties: Property::all(conn)?,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    pub fn by_id(&self, id: i64) -> Option<&Property> {
        self.properties.iter().find(|p| p.id == id)
    }
}
