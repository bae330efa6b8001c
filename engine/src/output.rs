//! Result encoders: pretty table, CSV, JSON, NDJSON, Markdown, Arrow IPC stream and Parquet.
//!
//! Each encoder takes batches as they arrive, so a large result streams to a file without
//! being held in memory. The human formats (table and Markdown) keep only the rows they
//! show.
//!
//! A table can be fitted to a terminal's width ([`OutputOptions::max_width`]): long cells are
//! cut with `…` and, if that is not enough, middle columns are left out and counted under
//! the table. The caller supplies the width, since only a native host has a terminal to ask.
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

mod layout;

use layout::{ELLIPSIS, Layout};

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
    /// Terminal columns the table format may take, borders included; `None` never shortens.
    /// Only the table format is fitted: the others are for programs and files, which want
    /// every character.
    pub max_width: Option<usize>,
}

impl Default for OutputOptions {
    fn default() -> Self {
        Self {
            max_rows: None,
            row_count: true,
            max_width: None,
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
                return Err(Error::Output {
                    message: format!(
                        "the csv format cannot hold column '{}' of type {}; use json, ndjson, arrow or parquet",
                        f.name(),
                        f.data_type()
                    ),
                    kind: None,
                });
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

/// An encoder's error, keeping the kind of the I/O error beneath it (if any), so a host can
/// tell a closed pipe from a real failure without reading the message.
fn output_err(e: impl std::error::Error + 'static) -> Error {
    let mut kind = None;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            kind = Some(io.kind());
            break;
        }
        cause = c.source();
    }
    Error::Output {
        message: e.to_string(),
        kind,
    }
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
        let (text, shown_columns) = if self.markdown {
            (markdown(&self.schema, &rows), self.schema.fields().len())
        } else {
            table(&self.schema, &rows, self.options.max_width)
        };
        writeln!(self.out, "{text}").map_err(output_err)?;
        let mut footer = Vec::new();
        if self.options.row_count && !self.markdown {
            let noun = if self.total_rows == 1 { "row" } else { "rows" };
            footer.push(if self.kept_rows < self.total_rows {
                format!("{} {noun} ({} shown)", self.total_rows, self.kept_rows)
            } else {
                format!("{} {noun}", self.total_rows)
            });
        }
        // Hidden columns are always counted, even without the row count: a table missing
        // columns must not pass for the whole result.
        let columns = self.schema.fields().len();
        if shown_columns < columns {
            footer.push(format!("{columns} columns ({shown_columns} shown)"));
        }
        if !footer.is_empty() {
            writeln!(self.out, "{}", footer.join(", ")).map_err(output_err)?;
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

/// The boxed table, fitted to `max_width` when given, and how many columns it shows.
fn table(schema: &SchemaRef, rows: &[Vec<String>], max_width: Option<usize>) -> (String, usize) {
    let header: Vec<(&str, String)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), short_type(f.data_type())))
        .collect();
    // The columns in the order drawn, each with the widest text it may hold (`None`: no
    // limit); a `None` column is the `…` that stands for hidden ones.
    let drawn: Vec<Option<(usize, Option<usize>)>> = match max_width {
        None => (0..header.len()).map(|i| Some((i, None))).collect(),
        Some(max) => {
            let mut natural: Vec<usize> = header
                .iter()
                .map(|(name, ty)| layout::text_width(name).max(layout::text_width(ty)))
                .collect();
            for row in rows {
                for (w, cell) in natural.iter_mut().zip(row) {
                    *w = (*w).max(layout::text_width(cell));
                }
            }
            let fitted = Layout::fit(&natural, max);
            let mut drawn: Vec<_> = fitted
                .shown
                .iter()
                .zip(&fitted.widths)
                .map(|(&i, &w)| Some((i, Some(w))))
                .collect();
            if let Some(gap) = fitted.gap {
                drawn.insert(gap, None);
            }
            drawn
        }
    };
    let fit = |text: &str, width: Option<usize>| match width {
        Some(w) => layout::shorten(text, w).into_owned(),
        None => text.to_string(),
    };

    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(drawn.iter().map(|column| match column {
        Some((i, w)) => {
            let (name, ty) = &header[*i];
            Cell::new(format!("{}\n{}", fit(name, *w), fit(ty, *w)))
        }
        None => Cell::new(ELLIPSIS),
    }));
    for (position, column) in drawn.iter().enumerate() {
        if let Some((i, _)) = column
            && schema.field(*i).data_type().is_numeric()
            && let Some(col) = t.column_mut(position)
        {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    for row in rows {
        t.add_row(drawn.iter().map(|column| match column {
            Some((i, w)) => Cell::new(fit(&row[*i], *w)),
            None => Cell::new(ELLIPSIS),
        }));
    }
    let shown = drawn.iter().filter(|c| c.is_some()).count();
    (t.to_string(), shown)
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
            ..OutputOptions::default()
        };
        let t = String::from_utf8(render(Format::Table, &limited)).unwrap();
        assert!(
            t.contains("NULL") && t.ends_with("3 rows (2 shown)\n"),
            "{t}"
        );
    }

    /// A three-row batch of `columns` Int64 columns named c0, c1, ...
    fn wide(columns: usize) -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(
            (0..columns)
                .map(|i| Field::new(format!("c{i}"), DataType::Int64, false))
                .collect::<Vec<_>>(),
        ));
        let arrays = (0..columns)
            .map(|i| Arc::new(Int64Array::from(vec![i as i64; 3])) as _)
            .collect();
        (
            Arc::clone(&schema),
            RecordBatch::try_new(schema, arrays).unwrap(),
        )
    }

    fn table_text(schema: SchemaRef, batch: &RecordBatch, max_width: Option<usize>) -> String {
        let options = OutputOptions {
            max_width,
            ..OutputOptions::default()
        };
        let out = encode(Format::Table, schema, std::slice::from_ref(batch), &options).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn widest_line(text: &str) -> usize {
        text.lines()
            .map(unicode_width::UnicodeWidthStr::width)
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn a_wide_table_keeps_its_ends_and_counts_the_hidden_columns() {
        let (schema, batch) = wide(40);
        let text = table_text(schema, &batch, Some(80));
        assert!(widest_line(&text) <= 80, "{text}");
        let header = text.lines().nth(1).unwrap();
        let at = |name: &str| header.find(&format!(" {name} ")).unwrap_or(usize::MAX);
        assert!(at("c0") < at("c1") && at("c1") < at("…"), "{text}");
        assert!(at("…") < at("c39") && at("c39") < usize::MAX, "{text}");
        assert!(!header.contains(" c20 "), "{text}");
        let shown = header.matches(" c").count();
        assert!(shown > 2 && shown < 40, "{text}");
        assert!(
            text.ends_with(&format!("\n3 rows, 40 columns ({shown} shown)\n")),
            "{text}"
        );
        // The count of hidden columns is not part of the optional row count.
        let options = OutputOptions {
            max_width: Some(80),
            row_count: false,
            ..OutputOptions::default()
        };
        let (schema, batch) = wide(40);
        let out = encode(Format::Table, schema, &[batch], &options).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with(&format!("┘\n40 columns ({shown} shown)\n")),
            "{text}"
        );
    }

    #[test]
    fn a_long_cell_is_cut_with_an_ellipsis() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("version", DataType::Int64, false),
            Field::new("operation_parameters", DataType::Utf8, false),
        ]));
        let long = format!("{{\"predicate\":\"{}\"}}", "fare > 10 AND ".repeat(60));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![7])),
                Arc::new(StringArray::from(vec![long.as_str()])),
            ],
        )
        .unwrap();
        let text = table_text(schema.clone(), &batch, Some(60));
        assert_eq!(widest_line(&text), 60, "{text}");
        assert!(text.contains("┆ {\"predicate\":\"fare > 10 AND "), "{text}");
        assert!(text.contains("… │"), "{text}");
        assert!(!text.contains(&long), "{text}");
        // Both columns are still there, so the footer says nothing about columns.
        assert!(
            text.contains(" version ") && text.ends_with("\n1 row\n"),
            "{text}"
        );
        // Other formats keep every character, whatever the width.
        let options = OutputOptions {
            max_width: Some(60),
            ..OutputOptions::default()
        };
        for format in [Format::Csv, Format::Json, Format::Markdown] {
            let out = encode(
                format,
                schema.clone(),
                std::slice::from_ref(&batch),
                &options,
            );
            let out = String::from_utf8(out.unwrap()).unwrap();
            assert!(out.contains("fare > 10 AND fare > 10"), "{format}: {out}");
            assert!(!out.contains('…'), "{format}: {out}");
        }
    }

    #[test]
    fn without_a_width_nothing_is_cut() {
        let (schema, batch) = wide(40);
        let text = table_text(schema.clone(), &batch, None);
        assert!(!text.contains('…'), "{text}");
        assert!(
            text.contains(" c20 ") && text.ends_with("\n3 rows\n"),
            "{text}"
        );
        assert!(widest_line(&text) > 200);
        // A width the table fits in changes nothing either.
        let roomy = table_text(schema, &batch, Some(widest_line(&text)));
        assert_eq!(roomy, text);
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
