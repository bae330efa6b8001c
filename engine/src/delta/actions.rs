//! The actions of the Delta log, as the protocol spells them in JSON commits and in
//! checkpoints (which [`super::log`] turns into the same JSON lines).

use std::collections::HashMap;

use serde::Deserialize;

/// One line of a commit file: exactly one of these is set. Actions a reader does not need
/// (`txn`, `cdc`, `domainMetadata`) are skipped by the parser.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActionLine {
    pub add: Option<Add>,
    pub remove: Option<Remove>,
    pub meta_data: Option<Metadata>,
    pub protocol: Option<Protocol>,
    pub commit_info: Option<serde_json::Map<String, serde_json::Value>>,
    pub sidecar: Option<Sidecar>,
}

/// What a reader must support to read the table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Protocol {
    pub min_reader_version: i32,
    pub min_writer_version: i32,
    pub reader_features: Option<Vec<String>>,
    pub writer_features: Option<Vec<String>>,
}

/// The table's schema, partitioning and configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The table's columns, as Spark's JSON schema. Some pipelines write a first `metaData`
    /// without it and give it in a later commit, so a version before that has no schema.
    pub schema_string: Option<String>,
    #[serde(default)]
    pub partition_columns: Vec<String>,
    #[serde(default)]
    pub configuration: HashMap<String, Option<String>>,
    pub created_time: Option<i64>,
}

impl Metadata {
    /// A configuration value (`delta.columnMapping.mode` ...).
    pub fn config(&self, key: &str) -> Option<&str> {
        self.configuration.get(key).and_then(|v| v.as_deref())
    }
}

/// A data file that joins the table.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Add {
    pub path: String,
    #[serde(default)]
    pub partition_values: HashMap<String, Option<String>>,
    pub size: i64,
    #[serde(default)]
    pub modification_time: i64,
    /// Column statistics, a JSON document kept as text until a query needs it.
    pub stats: Option<String>,
    pub deletion_vector: Option<DeletionVector>,
}

/// A data file that leaves the table (or changes its deletion vector).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Remove {
    pub path: String,
    pub deletion_vector: Option<DeletionVector>,
}

/// Where the deleted rows of a data file are recorded.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct DeletionVector {
    /// `u` (a file next to the table named by a UUID), `i` (inline) or `p` (an absolute path).
    pub storage_type: String,
    pub path_or_inline_dv: String,
    pub offset: Option<i32>,
    pub size_in_bytes: i32,
    pub cardinality: i64,
}

impl DeletionVector {
    /// The identity the protocol gives a deletion vector, used with the path to tell one
    /// state of a data file from another.
    pub fn unique_id(&self) -> String {
        match self.offset {
            Some(offset) => format!("{}{}@{offset}", self.storage_type, self.path_or_inline_dv),
            None => format!("{}{}", self.storage_type, self.path_or_inline_dv),
        }
    }
}

/// A v2 checkpoint's pointer to a file holding part of its actions.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Sidecar {
    pub path: String,
}

/// The key under which log replay reconciles a data file: its path and deletion vector.
pub(crate) fn file_key(path: &str, dv: Option<&DeletionVector>) -> (String, Option<String>) {
    (canonical_path(path), dv.map(DeletionVector::unique_id))
}

/// One spelling per file for reconciliation: `file:/x`, `file:///x` and `/x` name the same
/// local file, and writers have used each.
fn canonical_path(path: &str) -> String {
    match path.strip_prefix("file:") {
        Some(rest) => format!("/{}", rest.trim_start_matches('/')),
        None => path.to_string(),
    }
}
