//! `CREATE [OR REPLACE] TABLE [IF NOT EXISTS] ... USING DELTA`, from columns or a query.

use std::collections::HashMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::sql::sqlparser::ast;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use quiver_engine::Session;
use quiver_engine::sql::{Create, Target};
use url::Url;

use super::table::{load_table, location_url};
use super::{
    DeltaWriter, added_rows, delta_error, delta_state, plan_query, plan_sql, summary, version_of,
};
use crate::{Error, Result};

impl DeltaWriter {
    pub(super) async fn create(&self, session: &Session, create: Create) -> Result<RecordBatch> {
        let (location, name) = match (&create.target, &create.location) {
            (Target::Path(path), None) => (path.clone(), None),
            (Target::Path(_), Some(_)) => {
                return Err(Error::invalid(
                    "CREATE TABLE",
                    "give the table either as delta.`path` or with LOCATION, not both",
                ));
            }
            (Target::Name(name), Some(location)) => (location.clone(), Some(name.clone())),
            // A named table without a location lives in a folder of that name here.
            (Target::Name(name), None) => (name.clone(), Some(name.clone())),
        };
        let target = Target::Path(location.clone());
        if let Some(name) = &name
            && session.table_names().iter().any(|t| t == name)
            && !create.or_replace
            && !create.if_not_exists
        {
            return Err(Error::invalid(
                "CREATE TABLE",
                format!("a table named '{name}' already exists"),
            ));
        }
        let url = location_url(&location)?;
        // A new local table's folder is made first (the log store needs it), and removed
        // again if the table is not created.
        let made = match url.to_file_path() {
            Ok(dir) if url.scheme() == "file" && !dir.exists() => {
                std::fs::create_dir_all(&dir).map_err(|e| delta_error(&target, e))?;
                Some(dir)
            }
            _ => None,
        };
        let result = self
            .create_at(session, create, url, &location, name.as_deref(), &target)
            .await;
        if result.is_err()
            && let Some(dir) = made
            && !dir.join("_delta_log").exists()
        {
            let _ = std::fs::remove_dir_all(dir);
        }
        result
    }

    pub(super) async fn create_at(
        &self,
        session: &Session,
        create: Create,
        url: Url,
        location: &str,
        name: Option<&str>,
        target: &Target,
    ) -> Result<RecordBatch> {
        let table = load_table(session, url)
            .await
            .map_err(|e| delta_error(target, e))?;
        let exists = table.version().is_some();
        if exists && create.if_not_exists {
            if let Some(name) = name {
                session.register_path(name, location).await?;
            }
            return summary(&[("version", version_of(&table)), ("rows_inserted", 0)]);
        }
        if exists && !create.or_replace {
            return Err(Error::DeltaWrite {
                table: location.to_string(),
                message: "a Delta table already exists there; use CREATE OR REPLACE TABLE, or INSERT INTO it".into(),
            });
        }
        let configuration: HashMap<String, Option<String>> = create
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        let mode = if exists {
            SaveMode::Overwrite
        } else {
            SaveMode::ErrorIfExists
        };
        let table = match &create.query {
            // Columns only: a CREATE TABLE commit with the schema and no data.
            None => {
                use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
                let arrow = column_schema(session, &create.columns).await?;
                let schema: deltalake::kernel::StructType = (&arrow)
                    .try_into_kernel()
                    .map_err(|e| delta_error(target, e))?;
                let mut builder = table
                    .create()
                    .with_columns(schema.fields().cloned())
                    .with_partition_columns(create.partitioned_by.clone())
                    .with_configuration(configuration)
                    .with_save_mode(mode)
                    .with_commit_properties(self.commit_properties());
                if let Some(name) = name {
                    builder = builder.with_table_name(name);
                }
                if let Some(comment) = &create.comment {
                    builder = builder.with_comment(comment.clone());
                }
                builder.await.map_err(|e| delta_error(target, e))?
            }
            Some(query) => {
                let plan = plan_query(session, query).await?;
                let mut write = table
                    .write(Vec::new())
                    .with_input_plan(plan)
                    .with_session_state(delta_state(session))
                    .with_save_mode(mode)
                    .with_partition_columns(create.partitioned_by.clone())
                    .with_configuration(configuration)
                    .with_writer_properties(self.writer_properties())
                    .with_commit_properties(self.commit_properties());
                if exists {
                    write = write.with_schema_mode(SchemaMode::Overwrite);
                }
                if let Some(name) = name {
                    write = write.with_table_name(name);
                }
                if let Some(comment) = &create.comment {
                    write = write.with_description(comment.clone());
                }
                write.await.map_err(|e| delta_error(target, e))?
            }
        };
        let rows = added_rows(&table).await;
        if let Some(name) = name {
            session.deregister_table(name)?;
            session.register_path(name, location).await?;
        }
        self.committed(target, &table, &[("rows_inserted", rows)])
            .await
    }
}

/// The schema a `CREATE TABLE (...)` column list declares: types as the engine reads SQL
/// types (it plans `SELECT CAST(NULL AS type) ...`), `NOT NULL` kept.
async fn column_schema(session: &Session, columns: &[ast::ColumnDef]) -> Result<Schema> {
    let select = columns
        .iter()
        .map(|c| {
            format!(
                "CAST(NULL AS {}) AS \"{}\"",
                c.data_type,
                c.name.value.replace('"', "\"\"")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let typed = plan_sql(session, &format!("SELECT {select}")).await?;
    let fields: Vec<Field> = typed
        .schema()
        .fields()
        .iter()
        .zip(columns)
        .map(|(f, c)| {
            let not_null = c
                .options
                .iter()
                .any(|o| matches!(o.option, ast::ColumnOption::NotNull));
            f.as_ref().clone().with_nullable(!not_null)
        })
        .collect();
    Ok(Schema::new(fields))
}
