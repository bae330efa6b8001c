//! The YAML configuration of `quiver serve`.
//!
//! The shape is the one Murr 0.1 configs have (`server`, `tables.<name>.source`, `key`,
//! `columns`), so such a file loads unchanged; Quiver's additions are optional. Every struct
//! refuses unknown fields, and the parser's message names the field and its line.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use arrow::datatypes::{DataType, TimeUnit};
use serde::{Deserialize, Deserializer};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub tables: BTreeMap<String, TableConfig>,
}

/// `server:`: where to listen and the limits every request is held to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Arrow Flight (DoGet) on this port too; absent means no Flight.
    pub flight_port: Option<u16>,
    /// Where converted partitions (Arrow IPC files) and each table's manifest live.
    pub data_dir: PathBuf,
    /// Keys per request.
    pub max_keys: usize,
    /// Columns per request.
    pub max_columns: usize,
    /// Bytes of a request body.
    #[serde(deserialize_with = "size")]
    pub max_body: usize,
    /// How long a client may take to send its request headers (slowloris).
    #[serde(deserialize_with = "duration", alias = "header_read_timeout")]
    pub header_timeout: Duration,
    /// How long a request may take once its headers are in.
    #[serde(deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// Requests served at once; beyond it the answer is 503 `OVERLOADED`.
    pub max_concurrent_requests: usize,
    /// Bearer tokens; none means no authentication.
    pub tokens: Vec<String>,
    /// On SIGTERM, how long in-flight requests may take to finish.
    #[serde(deserialize_with = "duration")]
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            flight_port: None,
            data_dir: PathBuf::from("/var/lib/quiver-serve"),
            max_keys: 100_000,
            max_columns: 1024,
            max_body: 64 << 20,
            header_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_concurrent_requests: 256,
            tokens: Vec::new(),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// `tables.<name>:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    pub source: Source,
    /// How often the source is looked at for a newer partition (or Delta version).
    #[serde(default = "default_poll", deserialize_with = "duration")]
    pub poll_interval: Duration,
    /// The key columns; several make a composite key.
    pub key: Vec<String>,
    /// The columns served, in order; empty serves every column of the data, unchecked.
    #[serde(default, deserialize_with = "ordered_columns")]
    pub columns: Vec<(String, ColumnConfig)>,
    /// What a key that appears on two rows means.
    #[serde(default, alias = "on_duplicate_key")]
    pub duplicates: Duplicates,
    /// Whether `/readyz` waits for this table.
    #[serde(default = "yes")]
    pub required: bool,
    /// Accepted for Murr configs; Quiver converts a partition in one pass.
    #[serde(default)]
    pub parts: Option<u32>,
    /// A partition with fewer rows is refused (the old version keeps serving).
    #[serde(default)]
    pub min_rows: Option<u64>,
    /// How a converted file is held: memory-mapped (the default), or read into memory.
    #[serde(default)]
    pub load: LoadMode,
}

/// How a converted Arrow IPC file is held while it serves.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LoadMode {
    /// Mapped read-only, pages populated up front: the page cache is the only copy.
    #[default]
    Mmap,
    /// Read into the process's memory: no map, at the cost of a copy of the file.
    Memory,
}

fn default_poll() -> Duration {
    Duration::from_secs(60)
}

fn yes() -> bool {
    true
}

/// Where a table's data comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum Source {
    /// Date partitions under a bucket prefix.
    S3 {
        bucket: String,
        #[serde(default)]
        prefix: String,
        #[serde(default = "default_region")]
        region: String,
        #[serde(default)]
        endpoint: Option<String>,
    },
    /// Date partitions under a local folder.
    Local { path: PathBuf },
    /// The newest version of a Delta table (a folder, `s3://` or `file://` URL).
    Delta { uri: String },
}

fn default_region() -> String {
    "us-east-1".into()
}

/// One declared column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    pub dtype: Dtype,
    #[serde(default = "yes")]
    pub nullable: bool,
    /// What a dense answer holds for a key that is not in the table.
    #[serde(default)]
    pub default: Option<Scalar>,
}

/// A YAML scalar given as a column's default.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// The column types a config may declare.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    #[serde(alias = "string", alias = "str")]
    Utf8,
    #[serde(alias = "boolean")]
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Float32,
    Float64,
    Date32,
    Timestamp,
}

impl Dtype {
    /// The Arrow type a served column of this dtype has.
    pub fn data_type(self) -> DataType {
        match self {
            Dtype::Utf8 => DataType::Utf8,
            Dtype::Bool => DataType::Boolean,
            Dtype::Int8 => DataType::Int8,
            Dtype::Int16 => DataType::Int16,
            Dtype::Int32 => DataType::Int32,
            Dtype::Int64 => DataType::Int64,
            Dtype::Uint8 => DataType::UInt8,
            Dtype::Uint16 => DataType::UInt16,
            Dtype::Uint32 => DataType::UInt32,
            Dtype::Uint64 => DataType::UInt64,
            Dtype::Float32 => DataType::Float32,
            Dtype::Float64 => DataType::Float64,
            Dtype::Date32 => DataType::Date32,
            Dtype::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }
}

/// What to do with a key found on more than one row.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Duplicates {
    /// Refuse the partition (the old version keeps serving).
    #[default]
    Error,
    /// The first row wins.
    First,
    /// The last row wins.
    Last,
}

impl Config {
    /// Parses a config file's text and checks what serde cannot: key columns declared and
    /// typed as keys, defaults that fit their column.
    ///
    /// # Errors
    /// A message naming the field (and for syntax and unknown fields, the line).
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Config = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        if self.server.max_keys == 0 {
            return Err("server.max_keys must be at least 1".into());
        }
        for (name, table) in &self.tables {
            if name.is_empty() || name.contains('/') {
                return Err(format!(
                    "table name '{name}' must be non-empty, without '/'"
                ));
            }
            if table.key.is_empty() {
                return Err(format!("tables.{name}.key: name at least one key column"));
            }
            if table.poll_interval.is_zero() {
                return Err(format!("tables.{name}.poll_interval must be more than 0"));
            }
            let mut seen = std::collections::HashSet::new();
            for k in &table.key {
                if !seen.insert(k) {
                    return Err(format!("tables.{name}.key names '{k}' twice"));
                }
            }
            if table.columns.is_empty() {
                continue;
            }
            for k in &table.key {
                let Some((_, column)) = table.columns.iter().find(|(c, _)| c == k) else {
                    return Err(format!(
                        "tables.{name}.key: '{k}' is not among the declared columns"
                    ));
                };
                if !column.dtype.is_key_type() {
                    return Err(format!(
                        "tables.{name}.columns.{k}: a key column is utf8 or an integer, not {:?}",
                        column.dtype
                    ));
                }
            }
            for (c, column) in &table.columns {
                if let Some(default) = &column.default
                    && !column.dtype.accepts(default)
                {
                    return Err(format!(
                        "tables.{name}.columns.{c}.default: {default:?} is not a {:?}",
                        column.dtype
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Dtype {
    /// Whether columns of this dtype may be keys.
    pub fn is_key_type(self) -> bool {
        matches!(
            self,
            Dtype::Utf8
                | Dtype::Int8
                | Dtype::Int16
                | Dtype::Int32
                | Dtype::Int64
                | Dtype::Uint8
                | Dtype::Uint16
                | Dtype::Uint32
                | Dtype::Uint64
        )
    }

    fn accepts(self, value: &Scalar) -> bool {
        match (self, value) {
            (Dtype::Utf8, Scalar::Text(_)) | (Dtype::Bool, Scalar::Bool(_)) => true,
            (Dtype::Float32 | Dtype::Float64, Scalar::Int(_) | Scalar::Float(_)) => true,
            (Dtype::Date32 | Dtype::Timestamp, Scalar::Text(_)) => true,
            (d, Scalar::Int(_)) => d.is_key_type() && d != Dtype::Utf8,
            _ => false,
        }
    }
}

/// `5s`, `1m`, `250ms`, `1h 30m` (humantime), or a bare number of seconds.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) => Ok(Duration::from_secs(s)),
        Raw::Text(t) => humantime::parse_duration(t.trim())
            .map_err(|e| serde::de::Error::custom(format!("'{t}' is not a duration ({e})"))),
    }
}

/// `64MiB`, `8MB`, or a bare number of bytes.
fn size<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bytes(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Bytes(b) => usize::try_from(b).map_err(serde::de::Error::custom),
        Raw::Text(t) => crate::host::parse_size(&t).map_err(serde::de::Error::custom),
    }
}

/// A map of columns in the order the file gives them (the order answers use).
fn ordered_columns<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, ColumnConfig)>, D::Error> {
    struct Visit;
    impl<'de> serde::de::Visitor<'de> for Visit {
        type Value = Vec<(String, ColumnConfig)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of column names to {dtype, nullable, default}")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out: Vec<(String, ColumnConfig)> = Vec::new();
            while let Some((name, column)) = map.next_entry::<String, ColumnConfig>()? {
                if out.iter().any(|(n, _)| *n == name) {
                    return Err(serde::de::Error::custom(format!(
                        "column '{name}' is declared twice"
                    )));
                }
                out.push((name, column));
            }
            Ok(out)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_map(Visit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MURR: &str = "
server:
  host: localhost
  port: 8080
  data_dir: /tmp/murr
tables:
  user_features:
    source:
      s3:
        bucket: my-bucket
        prefix: features/
        region: us-east-1
        endpoint: http://localhost:9000
    poll_interval: 5m
    parts: 8
    key: [user_id]
    columns:
      user_id: { dtype: utf8, nullable: false }
      click_rate: { dtype: float32 }
      purchases: { dtype: int32 }
";

    #[test]
    fn a_murr_config_loads_unchanged() {
        let c = Config::parse(MURR).unwrap();
        assert_eq!(c.server.host, "localhost");
        let t = &c.tables["user_features"];
        assert_eq!(t.poll_interval, Duration::from_secs(300));
        let names: Vec<_> = t.columns.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["user_id", "click_rate", "purchases"]);
        assert!(
            matches!(&t.source, Source::S3 { endpoint: Some(e), .. } if e == "http://localhost:9000")
        );
        assert_eq!(t.duplicates, Duplicates::Error);
    }

    #[test]
    fn unknown_fields_name_the_field_and_line() {
        let bad = MURR.replace("    parts: 8", "    partz: 8");
        let e = Config::parse(&bad).unwrap_err();
        assert!(e.contains("partz"), "{e}");
        assert!(e.contains("line 15") || e.contains("15:"), "{e}");
    }

    #[test]
    fn sizes_durations_defaults_and_key_checks() {
        let c = Config::parse(
            "server: {max_body: 8MiB, header_timeout: 250ms}\ntables:\n  t:\n    source: {local: {path: /d}}\n    key: [k]\n    columns:\n      k: {dtype: int64}\n      x: {dtype: float32, default: 0}\n",
        )
        .unwrap();
        assert_eq!(c.server.max_body, 8 << 20);
        assert_eq!(c.server.header_timeout, Duration::from_millis(250));
        assert_eq!(c.tables["t"].columns[1].1.default, Some(Scalar::Int(0)));

        let e = Config::parse(
            "tables:\n  t:\n    source: {local: {path: /d}}\n    key: [k]\n    columns:\n      k: {dtype: float64}\n",
        )
        .unwrap_err();
        assert!(e.contains("key column"), "{e}");
        let e = Config::parse(
            "tables:\n  t:\n    source: {local: {path: /d}}\n    key: [k]\n    columns:\n      k: {dtype: utf8}\n      x: {dtype: bool, default: 3}\n",
        )
        .unwrap_err();
        assert!(e.contains("columns.x.default"), "{e}");
    }
}
