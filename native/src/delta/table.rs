//! Finding and opening the table a statement names: a registered Delta table, `` delta.`path` ``
//! or a quoted path, local or on S3.

use std::sync::Arc;

use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::SchemaRef;
use deltalake::DeltaTable;
use quiver_engine::Session;
use quiver_engine::sql::Target;
use url::Url;

use super::{DeltaWriter, Report, delta_error};
use crate::{Error, Result};

impl DeltaWriter {
    /// The table behind `target`, which must exist.
    pub(super) async fn open(&self, session: &Session, target: &Target) -> Result<DeltaTable> {
        let url = resolve(session, target).await?;
        match load_table(session, url).await {
            Ok(table) if table.version().is_some() => Ok(table),
            Ok(_) => Err(no_table(target)),
            Err(e) if e.to_string().contains("does not exist") => Err(no_table(target)),
            Err(e) => Err(delta_error(target, e)),
        }
    }
}

/// Commits to S3 go through deltalake's default log store over the CLI's own S3 store:
/// each commit file is a conditional put (`If-None-Match: *`), which S3 and compatible
/// stores honour, so two writers can never both write version N, and no lock service is
/// needed.
#[derive(Debug)]
struct ConditionalPutLogStore;

impl deltalake::logstore::LogStoreFactory for ConditionalPutLogStore {
    fn with_options(
        &self,
        prefixed_store: deltalake::logstore::ObjectStoreRef,
        root_store: deltalake::logstore::ObjectStoreRef,
        location: &Url,
        options: &deltalake::logstore::StorageConfig,
    ) -> deltalake::DeltaResult<Arc<dyn deltalake::logstore::LogStore>> {
        Ok(deltalake::logstore::default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// Opens the Delta table at `url` (a handle to a new one when nothing is there yet): local
/// paths with deltalake's own store (it renames commit files into place), others with the
/// session's stores, the ones its queries read.
pub(super) async fn load_table(session: &Session, url: Url) -> deltalake::DeltaResult<DeltaTable> {
    if url.scheme() == "file" {
        return DeltaTable::try_from_url(url).await;
    }
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        for scheme in ["s3://", "s3a://"] {
            deltalake::logstore::logstore_factories().insert(
                Url::parse(scheme).expect("a scheme URL"),
                Arc::new(ConditionalPutLogStore),
            );
        }
    });
    let store = session
        .object_store(&url)
        .map_err(|e| deltalake::DeltaTableError::Generic(e.to_string()))?;
    let mut table = deltalake::DeltaTableBuilder::from_url(url.clone())?
        .with_storage_backend(store, url)
        .build()?;
    match table.load().await {
        Ok(()) | Err(deltalake::DeltaTableError::NotATable(_)) => Ok(table),
        Err(e) => Err(e),
    }
}

/// `quiver delta verify`: checks the Delta table at `location` (a path or URL); see
/// [`verify`].
///
/// # Errors
/// A location that is not usable, or a log that cannot be listed.
pub async fn verify_table(session: &Session, location: &str, deep: bool) -> Result<Report> {
    let url = location_url(location)?;
    super::verify::verify(session, &url, location, deep)
        .await
        .map_err(|reason| Error::BadLocation {
            location: location.to_string(),
            reason,
        })
}

fn no_table(target: &Target) -> Error {
    Error::NoDeltaTable {
        table: target.to_string(),
    }
}

/// True when a write to `target` goes to a Delta table: a path always does (whether a table
/// is there is found when it is opened), a name when it is registered as a Delta table.
pub async fn is_delta_target(session: &Session, target: &Target) -> bool {
    match target {
        Target::Path(_) => true,
        Target::Name(name) => session.delta_table_url(name).await.is_some(),
    }
}

/// The URL of a path or `file://`/`s3://` location.
pub(super) fn location_url(location: &str) -> Result<Url> {
    let bad = |reason: String| Error::BadLocation {
        location: location.to_string(),
        reason,
    };
    if location.contains("://") {
        return Url::parse(location).map_err(|e| bad(e.to_string()));
    }
    let path = std::path::absolute(location).map_err(|e| bad(e.to_string()))?;
    Url::from_directory_path(&path).map_err(|()| bad("not a usable path".into()))
}

/// The location of the table a statement names.
async fn resolve(session: &Session, target: &Target) -> Result<Url> {
    match target {
        Target::Path(path) => location_url(path),
        Target::Name(name) => {
            let url = session.delta_table_url(name).await.ok_or_else(|| {
                if session.table_names().iter().any(|t| t == name) {
                    Error::NotDelta { name: name.clone() }
                } else {
                    Error::Engine(quiver_engine::Error::TableNotFound {
                        name: name.clone(),
                        known: session.table_names(),
                        original: None,
                    })
                }
            })?;
            location_url(&url)
        }
    }
}

pub(super) fn table_schema(table: &DeltaTable, target: &Target) -> Result<SchemaRef> {
    let snapshot = table.snapshot().map_err(|e| delta_error(target, e))?;
    Ok(snapshot.snapshot().arrow_schema())
}

/// How a query names the table: its quoted path or its registered name.
fn table_sql(target: &Target) -> String {
    match target {
        Target::Path(path) => format!("'{}'", path.replace('\'', "''")),
        Target::Name(name) => name.clone(),
    }
}

/// Rows of the table at `version` (the newest when `None`), read by the engine.
pub(super) async fn count_rows(
    session: &Session,
    target: &Target,
    version: Option<i64>,
) -> Result<i64> {
    let at = version
        .map(|v| format!(" VERSION AS OF {v}"))
        .unwrap_or_default();
    let sql = format!("SELECT count(*) AS n FROM {}{at}", table_sql(target));
    let batches = session.query(&sql).await?;
    Ok(batches
        .first()
        .and_then(|b| b.column(0).as_any().downcast_ref::<Int64Array>())
        .map_or(0, |a| a.value(0)))
}

/// The version of the table that `TIMESTAMP AS OF at` reads: the newest committed at or before
/// `at`, as the engine's reader finds it.
pub(super) async fn version_at(
    session: &Session,
    target: &Target,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<i64> {
    let sql = format!(
        "SELECT value FROM delta_info({}, timestamp => '{}') WHERE property = 'version'",
        table_sql(target),
        at.to_rfc3339()
    );
    let batches = session.query(&sql).await?;
    batches
        .iter()
        .flat_map(|b| datafusion::arrow::util::display::array_value_to_string(b.column(0), 0))
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            quiver_engine::Error::Internal(format!("no version of {target} at {at}")).into()
        })
}
