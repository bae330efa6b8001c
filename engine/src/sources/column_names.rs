//! Column names a table can show: repeated names in a file made distinct.
//!
//! Arrow IPC schemas, CSV headers and Parquet footers may repeat a column name; pyarrow and
//! DuckDB read such files, but a DataFusion table needs distinct names ("Schema contains
//! duplicate qualified field name"). So, as DuckDB does, the second `a` reads as `a_1`,
//! the third as `a_2`, a suffix that already names another column of the file is skipped,
//! and a warning names the file and what was renamed.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};

/// The new names of the columns whose name repeats an earlier one, by position. Empty when
/// every name is distinct. Names compare exactly, as DataFusion compares them.
pub(crate) fn renames<'a>(
    names: impl IntoIterator<Item = &'a str> + Clone,
) -> Vec<(usize, String)> {
    // Every original name is taken, including those of later columns, so a suffix never
    // collides with a column further on (`a, a, a_1` reads as `a, a_2, a_1`).
    let taken: HashSet<&str> = names.clone().into_iter().collect();
    let mut given: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        if given.insert(name.to_string()) {
            continue;
        }
        let new_name = (1..)
            .map(|k| format!("{name}_{k}"))
            .find(|c| !taken.contains(c.as_str()) && !given.contains(c))
            .unwrap_or_default();
        given.insert(new_name.clone());
        out.push((i, new_name));
    }
    out
}

/// `schema` with repeated column names made distinct, or `None` when they already are. The
/// renaming is logged as a warning naming `source` (the file, or the first of several).
pub(crate) fn distinct(schema: &Schema, source: &str) -> Option<Schema> {
    let fields = schema.fields();
    let renamed = renames(fields.iter().map(|f| f.name().as_str()));
    if renamed.is_empty() {
        return None;
    }
    let shown: Vec<String> = renamed
        .iter()
        .map(|(i, new)| format!("column {} '{}' as '{new}'", i + 1, fields[*i].name()))
        .collect();
    log::warn!(
        "{source}: repeated column names are read under new names: {}",
        shown.join(", ")
    );
    let mut new_fields: Vec<Arc<Field>> = fields.iter().cloned().collect();
    for (i, new) in renamed {
        new_fields[i] = Arc::new(new_fields[i].as_ref().clone().with_name(new));
    }
    Some(Schema::new_with_metadata(
        new_fields,
        schema.metadata().clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::DataType;

    fn renamed(names: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        for (i, new) in renames(names.iter().copied()) {
            out[i] = new;
        }
        out
    }

    #[test]
    fn repeated_names_get_the_next_free_suffix() {
        assert_eq!(renamed(&["a", "b"]), ["a", "b"]);
        assert_eq!(renamed(&["a", "a", "a"]), ["a", "a_1", "a_2"]);
        assert_eq!(renamed(&["a", "a", "a_1"]), ["a", "a_2", "a_1"]);
        assert_eq!(renamed(&["a_1", "a", "a"]), ["a_1", "a", "a_2"]);
        // Case differs, so DataFusion tells these apart: left alone.
        assert_eq!(renamed(&["A", "a"]), ["A", "a"]);
    }

    #[test]
    fn distinct_keeps_types_and_order() {
        let schema = Schema::new(vec![
            Field::new("x", DataType::Int32, false),
            Field::new("x", DataType::Utf8, true),
        ]);
        let out = distinct(&schema, "t.arrow").unwrap();
        assert_eq!(out.field(0).name(), "x");
        assert_eq!(out.field(1).name(), "x_1");
        assert_eq!(out.field(1).data_type(), &DataType::Utf8);
        assert!(distinct(&out, "t.arrow").is_none());
    }
}
