//! Result encoders: pretty table, CSV, JSON, NDJSON, Markdown, Arrow IPC stream and Parquet.
//!
//! Each encoder takes batches as they arrive, so a large result streams to a file without
//! being held in memory. The human formats (table and Markdown) keep only the rows they
//! show.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use quiver_engine::arrow::array::Int64Array;
//! use quiver_engine::arrow::datatypes::{DataType, Field, Schema};
//! use quiver_engine::arrow::record_batch::RecordBatch;
//! use quiver_engine::output::{Format, OutputOptions, writer};
//!
//! let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
//! let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2]))]).unwrap();
//! let mut out = Vec::new();
//! let mut w = writer(Format::Csv, schema, &mut out, &OutputOptions::default()).unwrap();
//! w.write_batch(&batch).unwrap();
//! w.finish().unwrap();
//! assert_eq!(String::from_utf8(out).unwrap(), "n\n1\n2\n");
//! ```

use std::fmt;
use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::json::writer::{
    JsonArray, LineDelimited, Writer as JsonWriter, WriterBuilder as JsonWriterBuilder,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::{Error, Result};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A boxed table for people.
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// An Arrow IPC stream.
    Arrow,
    /// A Parquet file (zstd-compressed).
    Parquet,
    /// A GitHub-flavoured Markdown table.
    Markdown,
}

impl Format {
    /// Every format, by its name.
    pub const ALL: [(&'static str, Format); 7] = [
        ("table", Format::Table),
        ("csv", Format::Csv),
        ("json", Format::Json),
        ("ndjson", Format::Ndjson),
        ("arrow", Format::Arrow),
        ("parquet", Format::Parquet),
        ("markdown", Format::Markdown),
    ];

    /// True for formats that are bytes rather than text.
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Arrow | Format::Parquet)
    }

    /// The format's name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map(|(n, _)| *n)
            .unwrap_or("table")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        let alias = match lower.as_str() {
            "box" | "pretty" | "duckbox" => "table",
            "jsonl" | "jsonlines" | "line" => "ndjson",
            "ipc" | "arrows" => "arrow",
            "md" => "markdown",
            other => other,
        };
        Self::ALL
            .iter()
            .find(|(n, _)| *n == alias)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                Error::invalid(
                    "format",
                    format!("unknown format '{s}'; choose one of {}", names.join(", ")),
                )
            })
    }
}

/// Options for the human formats.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    /// Rows shown by the table and Markdown formats; `None` shows all.
    pub max_rows: Option<usize>,
    /// Print the "N rows" line under a table.
    pub row_count: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        Self {
            max_rows: None,
            row_count: true,
        }
    }
}

/// Receives a result's batches and encodes them.
pub trait ResultWriter {
    /// Encodes one batch.
    ///
    /// # Errors
    /// When the sink fails or the batch cannot be encoded in this format.
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<()>;

    /// Finishes the output (closing brackets, footers) and flushes.
    ///
    /// # Errors
    /// When the sink fails.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// An encoder for `format` writing to `out`.
///
/// # Errors
/// When the format cannot represent the schema.
pub fn writer<'a, W: Write + Send + 'a>(
    format: Format,
    schema: SchemaRef,
    out: W,
    options: &OutputOptions,
) -> Result<Box<dyn ResultWriter + 'a>> {
    Ok(match format {
        Format::Table | Format::Markdown => Box::new(Shown {
            out,
            schema,
            markdown: format == Format::Markdown,
            options: options.clone(),
            kept: Vec::new(),
            kept_rows: 0,
            total_rows: 0,
        }),
        Format::Csv => {
            if let Some(f) = schema.fields().iter().find(|f| f.data_type().is_nested()) {
                return Err(Error::Output(format!(
                    "the csv format cannot hold column '{}' of type {}; use json, ndjson, arrow or parquet",
                    f.name(),
                    f.data_type()
                )));
            }
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            // An empty result still gets its header line.
            w.write(&RecordBatch::new_empty(Arc::clone(&schema)))
                .map_err(output_err)?;
            Box::new(Csv(w))
        }
        Format::Json => Box::new(Json(
            JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, JsonArray>(out),
        )),
        Format::Ndjson => Box::new(Ndjson(
            JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, LineDelimited>(out),
        )),
        Format::Arrow => Box::new(Ipc(StreamWriter::try_new(out, &schema).map_err(output_err)?)),
        Format::Parquet => {
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .build();
            Box::new(Parquet(
                ArrowWriter::try_new(out, schema, Some(props)).map_err(output_err)?,
            ))
        }
    })
}

/// Encodes whole batches at once, for callers that already hold a result in memory.
///
/// # Errors
/// As [`writer`] and [`ResultWriter::write_batch`].
pub fn encode(
    format: Format,
    schema: SchemaRef,
    batches: &[RecordBatch],
    options: &OutputOptions,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = writer(format, schema, &mut out, options)?;
    for batch in batches {
        w.write_batch(batch)?;
    }
    w.finish()?;
    Ok(out)
}

fn output_err(e: impl fmt::Display) -> Error {
    Error::Output(e.to_string())
}

struct Csv<W: Write>(datafusion::arrow::csv::Writer<W>);

impl<W: Write> ResultWriter for Csv<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.0.write(batch).map_err(output_err)
    }
    fn finish(self: Box<Self>) -> Result<()> {
        let mut out = self.0.into_inner();
        out.flush().map_err(output_err)
    }
}

struct Json<W: Write>(JsonWriter<W, JsonArray>);

impl<W: Write> ResultWriter for Json<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.0.write(batch).map_err(output_err)
    }
    fn finish(mut self: Box<Self>) -> Result<()> {
        self.0.finish().map_err(output_err)?;
        let mut out = self.0.into_inner();
        out.write_all(b"\n").map_err(output_err)?;
        out.flush().map_err(output_err)
    }
}

struct Ndjson<W: Write>(JsonWriter<W, LineDelimited>);

impl<W: Write> ResultWriter for Ndjson<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.0.write(batch).map_err(output_err)
    }
    fn finish(mut self: Box<Self>) -> Result<()> {
        self.0.finish().map_err(output_err)?;
        self.0.into_inner().flush().map_err(output_err)
    }
}

struct Ipc<W: Write>(StreamWriter<W>);

impl<W: Write> ResultWriter for Ipc<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.0.write(batch).map_err(output_err)
    }
    fn finish(mut self: Box<Self>) -> Result<()> {
        self.0.finish().map_err(output_err)?;
        self.0.get_mut().flush().map_err(output_err)
    }
}

struct Parquet<W: Write + Send>(ArrowWriter<W>);

impl<W: Write + Send> ResultWriter for Parquet<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.0.write(batch).map_err(output_err)
    }
    fn finish(self: Box<Self>) -> Result<()> {
        let mut out = self.0.into_inner().map_err(output_err)?;
        out.flush().map_err(output_err)
    }
}

/// The human formats: keep the rows to show, count the rest.
struct Shown<W: Write> {
    out: W,
    schema: SchemaRef,
    markdown: bool,
    options: OutputOptions,
    kept: Vec<RecordBatch>,
    kept_rows: usize,
    total_rows: usize,
}

impl<W: Write + Send> ResultWriter for Shown<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.total_rows += batch.num_rows();
        let room = self
            .options
            .max_rows
            .map_or(usize::MAX, |m| m.saturating_sub(self.kept_rows));
        if room > 0 && batch.num_rows() > 0 {
            let take = room.min(batch.num_rows());
            self.kept.push(batch.slice(0, take));
            self.kept_rows += take;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        let rows = render_rows(&self.kept)?;
        let text = if self.markdown {
            markdown(&self.schema, &rows)
        } else {
            table(&self.schema, &rows)
        };
        writeln!(self.out, "{text}").map_err(output_err)?;
        if self.options.row_count && !self.markdown {
            let noun = if self.total_rows == 1 { "row" } else { "rows" };
            if self.kept_rows < self.total_rows {
                writeln!(
                    self.out,
                    "{} {noun} ({} shown)",
                    self.total_rows, self.kept_rows
                )
            } else {
                writeln!(self.out, "{} {noun}", self.total_rows)
            }
            .map_err(output_err)?;
        }
        self.out.flush().map_err(output_err)
    }
}

fn render_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(output_err)?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(rows)
}

fn short_type(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "blob".into(),
        DataType::Dictionary(_, v) => short_type(v),
        other => other.to_string().to_lowercase(),
    }
}

fn table(schema: &SchemaRef, rows: &[Vec<String>]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(
        schema
            .fields()
            .iter()
            .map(|f| Cell::new(format!("{}\n{}", f.name(), short_type(f.data_type())))),
    );
    for (i, field) in schema.fields().iter().enumerate() {
        if field.data_type().is_numeric()
            && let Some(col) = t.column_mut(i)
        {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    for row in rows {
        t.add_row(row.iter().map(Cell::new));
    }
    t.to_string()
}

fn markdown(schema: &SchemaRef, rows: &[Vec<String>]) -> String {
    let escape = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::new();
    out.push('|');
    for f in schema.fields() {
        out.push_str(&format!(" {} |", escape(f.name())));
    }
    out.push_str("\n|");
    for f in schema.fields() {
        out.push_str(if f.data_type().is_numeric() {
            " ---: |"
        } else {
            " --- |"
        });
    }
    for row in rows {
        out.push_str("\n|");
        for v in row {
            out.push_str(&format!(" {} |", escape(v)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    fn sample() -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec![Some("a|b"), None, Some("c")])),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    fn render(format: Format, options: &OutputOptions) -> Vec<u8> {
        let (schema, batch) = sample();
        let mut out = Vec::new();
        let mut w = writer(format, schema, &mut out, options).unwrap();
        w.write_batch(&batch).unwrap();
        w.finish().unwrap();
        out
    }

    #[test]
    fn text_formats() {
        let d = OutputOptions::default();
        assert_eq!(
            String::from_utf8(render(Format::Csv, &d)).unwrap(),
            "id,name\n1,a|b\n2,\n3,c\n"
        );
        assert_eq!(
            String::from_utf8(render(Format::Json, &d)).unwrap(),
            "[{\"id\":1,\"name\":\"a|b\"},{\"id\":2,\"name\":null},{\"id\":3,\"name\":\"c\"}]\n"
        );
        assert_eq!(
            String::from_utf8(render(Format::Ndjson, &d))
                .unwrap()
                .lines()
                .count(),
            3
        );
        let md = String::from_utf8(render(Format::Markdown, &d)).unwrap();
        assert!(
            md.starts_with("| id | name |\n| ---: | --- |\n| 1 | a\\|b |"),
            "{md}"
        );
        let limited = OutputOptions {
            max_rows: Some(2),
            row_count: true,
        };
        let t = String::from_utf8(render(Format::Table, &limited)).unwrap();
        assert!(
            t.contains("NULL") && t.ends_with("3 rows (2 shown)\n"),
            "{t}"
        );
    }

    #[test]
    fn binary_formats_read_back() {
        let (_, batch) = sample();
        let arrow = render(Format::Arrow, &OutputOptions::default());
        let reader =
            datafusion::arrow::ipc::reader::StreamReader::try_new(&arrow[..], None).unwrap();
        let back: Vec<_> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(back, vec![batch.clone()]);
        let pq = render(Format::Parquet, &OutputOptions::default());
        let reader = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
            bytes::Bytes::from(pq),
            1024,
        )
        .unwrap();
        let back: Vec<_> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(back, vec![batch]);
    }

    #[test]
    fn empty_results_keep_their_shape() {
        let (schema, _) = sample();
        let mut out = Vec::new();
        writer(
            Format::Csv,
            schema.clone(),
            &mut out,
            &OutputOptions::default(),
        )
        .unwrap()
        .finish()
        .unwrap();
        assert_eq!(out, b"id,name\n");
        let mut out = Vec::new();
        writer(Format::Json, schema, &mut out, &OutputOptions::default())
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(out, b"[]\n");
    }

    #[test]
    fn format_names_parse() {
        assert_eq!("JSONL".parse::<Format>().unwrap(), Format::Ndjson);
        assert!(
            "xml"
                .parse::<Format>()
                .unwrap_err()
                .to_string()
                .contains("choose one of")
        );
    }
}
