//! How a file is read: its kind, compression and format options.

use datafusion::common::config::CsvOptions;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;

use crate::delta::{AsOf, DeltaReadOptions};
use crate::{Error, Result};

/// The file formats the engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Apache Parquet.
    Parquet,
    /// Comma- (or otherwise) separated values.
    Csv,
    /// JSON: newline-delimited objects or one array of objects.
    Json,
    /// Arrow IPC, file or stream format.
    Ipc,
    /// A Delta Lake table (a folder holding `_delta_log/`).
    Delta,
}

const COMPRESSION_SUFFIXES: [(&str, FileCompressionType); 5] = [
    (".gz", FileCompressionType::GZIP),
    (".gzip", FileCompressionType::GZIP),
    (".bz2", FileCompressionType::BZIP2),
    (".xz", FileCompressionType::XZ),
    (".zst", FileCompressionType::ZSTD),
];

impl FileKind {
    /// The name of the table function that reads this kind.
    pub fn function(self) -> &'static str {
        match self {
            FileKind::Parquet => "read_parquet",
            FileKind::Csv => "read_csv",
            FileKind::Json => "read_json",
            FileKind::Ipc => "read_ipc",
            FileKind::Delta => "read_delta",
        }
    }

    /// The kind for a table function name.
    pub fn from_function(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "read_parquet" | "parquet_scan" => FileKind::Parquet,
            "read_csv" | "read_csv_auto" => FileKind::Csv,
            "read_json" | "read_ndjson" | "read_json_auto" => FileKind::Json,
            "read_ipc" | "read_arrow" => FileKind::Ipc,
            "read_delta" | "delta_scan" | "delta_history" | "delta_info" => FileKind::Delta,
            _ => return None,
        })
    }

    /// The compression a path's suffix announces.
    pub fn compression_of(path: &str) -> FileCompressionType {
        let lower = path.to_ascii_lowercase();
        COMPRESSION_SUFFIXES
            .iter()
            .find(|(suffix, _)| lower.ends_with(suffix))
            .map(|(_, c)| *c)
            .unwrap_or(FileCompressionType::UNCOMPRESSED)
    }

    /// The full data suffix of a path, compression included (`.csv.gz`).
    pub fn extension_of(path: &str) -> String {
        let name = path.rsplit('/').next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        let mut stem = lower.as_str();
        let mut suffix_len = 0;
        if let Some((s, _)) = COMPRESSION_SUFFIXES.iter().find(|(s, _)| stem.ends_with(s)) {
            stem = &stem[..stem.len() - s.len()];
            suffix_len += s.len();
        }
        match stem.rfind('.') {
            Some(dot) => name[dot..].to_string(),
            None => name[name.len() - suffix_len..].to_string(),
        }
    }

    /// The kind and compression announced by a path's extension.
    pub fn from_path(path: &str) -> Option<(FileKind, FileCompressionType)> {
        let compression = Self::compression_of(path);
        let ext = Self::extension_of(path).to_ascii_lowercase();
        let data_ext = ext.split('.').nth(1).unwrap_or("");
        let kind = match data_ext {
            "parquet" | "parq" | "pq" => FileKind::Parquet,
            "csv" | "tsv" | "tab" | "psv" => FileKind::Csv,
            "json" | "ndjson" | "jsonl" | "geojson" => FileKind::Json,
            "arrow" | "ipc" | "feather" | "arrows" | "arrowstream" => FileKind::Ipc,
            _ => return None,
        };
        Some((kind, compression))
    }
}

/// Options given to a `read_*` function, or implied by a quoted path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// The format, when the caller fixed it.
    pub kind: Option<FileKind>,
    /// CSV: whether the first line holds column names.
    pub header: Option<bool>,
    /// CSV: the field separator.
    pub delimiter: Option<u8>,
    /// CSV: the quote character.
    pub quote: Option<u8>,
    /// CSV: the escape character.
    pub escape: Option<u8>,
    /// CSV: lines starting with this are skipped.
    pub comment: Option<u8>,
    /// CSV: a regex; matching values read as NULL.
    pub null_regex: Option<String>,
    /// JSON: `true` for one array of objects, `false` for newline-delimited objects.
    pub json_array: Option<bool>,
    /// Folders: whether `key=value` folder names become columns (default true).
    pub hive_partitioning: Option<bool>,
    /// Rows read to infer a schema.
    pub schema_infer_max_records: Option<usize>,
    /// Delta: the version to read, and whether the rows, the history or a summary.
    pub delta: DeltaReadOptions,
}

impl ReadOptions {
    /// Options for reading `kind`.
    pub fn for_kind(kind: Option<FileKind>) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }

    /// The function these options belong to, for error messages.
    pub fn function(&self) -> &'static str {
        self.kind.map(FileKind::function).unwrap_or("path")
    }

    /// Sets one named option, as written in `read_csv('x.csv', delim => ';')`.
    ///
    /// # Errors
    /// An unknown option name, or a value of the wrong kind.
    pub fn set(&mut self, name: &str, value: OptionValue) -> Result<()> {
        let function = self.function();
        let want_char = |v: &OptionValue| -> Result<u8> {
            match v {
                OptionValue::Str(s) if s == "\\t" => Ok(b'\t'),
                OptionValue::Str(s) if s.len() == 1 => Ok(s.as_bytes()[0]),
                other => Err(Error::invalid(
                    function,
                    format!("option '{name}' takes one character, got {other}"),
                )),
            }
        };
        let want_bool = |v: &OptionValue| -> Result<bool> {
            match v {
                OptionValue::Bool(b) => Ok(*b),
                OptionValue::Str(s) if s.eq_ignore_ascii_case("true") => Ok(true),
                OptionValue::Str(s) if s.eq_ignore_ascii_case("false") => Ok(false),
                other => Err(Error::invalid(
                    function,
                    format!("option '{name}' takes true or false, got {other}"),
                )),
            }
        };
        let lower = name.to_ascii_lowercase();
        if self.kind == Some(FileKind::Delta) && !matches!(lower.as_str(), "version" | "timestamp")
        {
            return Err(Error::invalid(
                function,
                format!("unknown option '{name}'; known options: version, timestamp"),
            ));
        }
        match lower.as_str() {
            "header" | "has_header" => self.header = Some(want_bool(&value)?),
            "delim" | "delimiter" | "sep" | "separator" => {
                self.delimiter = Some(want_char(&value)?)
            }
            "quote" => self.quote = Some(want_char(&value)?),
            "escape" => self.escape = Some(want_char(&value)?),
            "comment" => self.comment = Some(want_char(&value)?),
            "nullstr" | "null_string" | "null_regex" => match value {
                OptionValue::Str(s) => self.null_regex = Some(format!("^{}$", regex_escape(&s))),
                other => {
                    return Err(Error::invalid(
                        function,
                        format!("option '{name}' takes a string, got {other}"),
                    ));
                }
            },
            "format" => match value {
                OptionValue::Str(s) if s.eq_ignore_ascii_case("array") => {
                    self.json_array = Some(true)
                }
                OptionValue::Str(s)
                    if ["newline_delimited", "ndjson", "jsonl", "records"]
                        .iter()
                        .any(|f| s.eq_ignore_ascii_case(f)) =>
                {
                    self.json_array = Some(false)
                }
                OptionValue::Str(s) if s.eq_ignore_ascii_case("auto") => self.json_array = None,
                other => {
                    return Err(Error::invalid(
                        function,
                        format!(
                            "option 'format' takes 'array', 'newline_delimited' or 'auto', got {other}"
                        ),
                    ));
                }
            },
            "hive_partitioning" => self.hive_partitioning = Some(want_bool(&value)?),
            "version" if self.kind == Some(FileKind::Delta) => match value {
                OptionValue::Int(v) if v >= 0 => self.delta.as_of = AsOf::Version(v),
                other => {
                    return Err(Error::invalid(
                        function,
                        format!("option 'version' takes a version number, got {other}"),
                    ));
                }
            },
            "timestamp" if self.kind == Some(FileKind::Delta) => match value {
                OptionValue::Str(s) => self.delta.as_of = AsOf::parse_timestamp(&s)?,
                other => {
                    return Err(Error::invalid(
                        function,
                        format!("option 'timestamp' takes an ISO 8601 string, got {other}"),
                    ));
                }
            },
            "sample_size" | "schema_infer_max_records" => match value {
                OptionValue::Int(n) if n > 0 => self.schema_infer_max_records = Some(n as usize),
                other => {
                    return Err(Error::invalid(
                        function,
                        format!("option '{name}' takes a positive number, got {other}"),
                    ));
                }
            },
            other => {
                return Err(Error::invalid(
                    function,
                    format!(
                        "unknown option '{other}'; known options: {}",
                        if self.kind == Some(FileKind::Delta) {
                            "version, timestamp"
                        } else {
                            "header, delim, quote, escape, comment, nullstr, format, hive_partitioning, sample_size"
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Applies the CSV options to DataFusion's, with `.tsv` files tab-separated by default.
    pub(crate) fn apply_csv(&self, csv: &mut CsvOptions, first_path: &str) -> Result<()> {
        let ext = FileKind::extension_of(first_path).to_ascii_lowercase();
        if ext.starts_with(".tsv") || ext.starts_with(".tab") {
            csv.delimiter = b'\t';
        } else if ext.starts_with(".psv") {
            csv.delimiter = b'|';
        }
        csv.has_header = Some(self.header.unwrap_or(true));
        if let Some(d) = self.delimiter {
            csv.delimiter = d;
        }
        if let Some(q) = self.quote {
            csv.quote = q;
        }
        if self.escape.is_some() {
            csv.escape = self.escape;
        }
        if self.comment.is_some() {
            csv.comment = self.comment;
        }
        if self.null_regex.is_some() {
            csv.null_regex = self.null_regex.clone();
        }
        if let Some(n) = self.schema_infer_max_records {
            csv.schema_infer_max_rec = Some(n);
        }
        Ok(())
    }

    /// A stable key for these options, used to name resolved `read_*` calls.
    pub(crate) fn key(&self, locations: &[String]) -> String {
        format!("{locations:?}{self:?}")
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A literal value given to a read option.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl std::fmt::Display for OptionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionValue::Str(s) => write!(f, "'{s}'"),
            OptionValue::Int(i) => write!(f, "{i}"),
            OptionValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_extensions_through_compression_suffixes() {
        assert_eq!(
            FileKind::from_path("a/b.csv.gz").map(|k| k.0),
            Some(FileKind::Csv)
        );
        assert_eq!(
            FileKind::from_path("x.PARQUET").map(|k| k.0),
            Some(FileKind::Parquet)
        );
        assert_eq!(
            FileKind::from_path("x.arrows").map(|k| k.0),
            Some(FileKind::Ipc)
        );
        assert_eq!(
            FileKind::from_path("x.jsonl").map(|k| k.0),
            Some(FileKind::Json)
        );
        assert_eq!(FileKind::from_path("README"), None);
        assert_eq!(FileKind::extension_of("d/part-0.csv.gz"), ".csv.gz");
        assert_eq!(
            FileKind::compression_of("d/part-0.csv.gz"),
            FileCompressionType::GZIP
        );
    }

    #[test]
    fn unknown_options_are_named() {
        let mut o = ReadOptions::for_kind(Some(FileKind::Csv));
        let err = o.set("bogus", OptionValue::Int(1)).unwrap_err().to_string();
        assert!(err.contains("unknown option 'bogus'"), "{err}");
        o.set("delim", OptionValue::Str(";".into())).unwrap();
        assert_eq!(o.delimiter, Some(b';'));
    }
}
