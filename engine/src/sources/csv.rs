//! CSV schema inference, file by file.
//!
//! DataFusion infers a CSV table's schema by merging the schemas of its files by column
//! name, and a header that repeats a name (`id,value,value`) loses a column that way: the
//! reader, which goes by position, then meets rows with more fields than the schema has.
//! So each file's header is inferred on its own, its repeated names made distinct (see
//! [`super::column_names`]), and only then are the files' schemas merged.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::datasource::file_format::DEFAULT_SCHEMA_INFER_MAX_RECORD;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::context::SessionState;
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::location::display_location;

/// The schema of the CSV files `files` (in reading order), read as `format` says, from at
/// most the format's `schema_infer_max_rec` rows in all. `store_url` names files in notices.
///
/// # Errors
/// A file that cannot be read, or files whose columns' types cannot be merged.
pub(crate) async fn infer_schema(
    state: &SessionState,
    format: &CsvFormat,
    store: &Arc<dyn ObjectStore>,
    files: &[&ObjectMeta],
    store_url: &str,
) -> DfResult<SchemaRef> {
    let mut budget = format
        .options()
        .schema_infer_max_rec
        .unwrap_or(DEFAULT_SCHEMA_INFER_MAX_RECORD);
    let mut schemas = Vec::with_capacity(files.len());
    for meta in files {
        let bytes = store
            .get(&meta.location)
            .await
            .map_err(|e| DataFusionError::ObjectStore(Box::new(e)))?
            .into_stream()
            .map_err(|e| DataFusionError::ObjectStore(Box::new(e)))
            .boxed();
        let chunks = format.read_to_delimited_chunks_from_stream(bytes);
        let (schema, read) = format
            .infer_schema_from_stream(state, budget, chunks)
            .await?;
        let path = display_location(store_url, meta.location.as_ref());
        schemas.push(super::column_names::distinct(&schema, &path).unwrap_or(schema));
        budget = budget.saturating_sub(read);
        if budget == 0 {
            break;
        }
    }
    Ok(Arc::new(Schema::try_merge(schemas)?))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use object_store::ObjectStoreExt;

    #[tokio::test]
    async fn a_header_that_repeats_a_name_keeps_every_column() {
        let store = Arc::new(object_store::memory::InMemory::new());
        let csv = "id,v,v,v_1\n1,x,y,z\n2,,w,q\n";
        store
            .put(&"dup.csv".into(), csv.as_bytes().to_vec().into())
            .await
            .unwrap();
        let session = crate::Session::new(crate::HostConfig::in_memory(store)).unwrap();
        let batches = session
            .query("SELECT * FROM 'dup.csv' ORDER BY id")
            .await
            .unwrap();
        let shown = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        let expected = [
            "+----+---+-----+-----+",
            "| id | v | v_2 | v_1 |",
            "+----+---+-----+-----+",
            "| 1  | x | y   | z   |",
            "| 2  |   | w   | q   |",
            "+----+---+-----+-----+",
        ];
        assert_eq!(shown, expected.join("\n"));
    }
}
