//! A fetch request, from its body (JSON or an Arrow IPC stream) to its answer (one Arrow
//! record batch), and the answer's encodings (an IPC stream with one batch, or JSON).

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, PrimitiveArray, RecordBatch, StringArray,
    UInt32Array, new_null_array,
};
use arrow::compute::{cast, concat};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, Schema, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Deserialize;
use serde_json::Value;

use super::load::widens;
use super::table::{RequestKeys, TableVersion, fill_default};

/// An error answer: status, a stable code and a message for people.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for 503s.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// `{"error": ..., "code": ...}`.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"error": self.message, "code": self.code}))
            .unwrap_or_default()
    }
}

/// Dense answers row i for key i; sparse answers found keys only, with `_idx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Dense,
    Sparse,
}

/// Per-request limits from the config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_keys: usize,
    pub max_columns: usize,
}

/// A parsed request, checked against one table version.
pub struct FetchRequest {
    pub keys: RequestKeys,
    /// Positions in the table's schema, in the order asked.
    pub columns: Vec<usize>,
    pub layout: Layout,
    pub found_column: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonFetch {
    keys: Value,
    #[serde(default)]
    columns: Option<Vec<String>>,
    #[serde(default)]
    layout: Option<String>,
    #[serde(default)]
    found_column: Option<bool>,
    /// Flight tickets name the table in the body.
    #[serde(default)]
    #[allow(dead_code)]
    table: Option<String>,
}

fn layout_of(text: Option<&str>) -> Result<Option<Layout>, ApiError> {
    match text {
        None => Ok(None),
        Some("dense") => Ok(Some(Layout::Dense)),
        Some("sparse") => Ok(Some(Layout::Sparse)),
        Some(other) => Err(ApiError::bad(
            "MALFORMED_BODY",
            format!("layout '{other}' is not dense or sparse"),
        )),
    }
}

/// Parses a JSON fetch body: `{"keys": {"col": [...], ...} | [...], "columns": [...],
/// "layout": "dense"|"sparse", "found_column": bool}`.
///
/// # Errors
/// The API error each kind of bad input gets.
pub fn parse_json(
    body: &[u8],
    table: &TableVersion,
    limits: Limits,
    forced: Option<Layout>,
) -> Result<FetchRequest, ApiError> {
    let parsed: JsonFetch = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad(
            "MALFORMED_BODY",
            format!("the body is not a fetch request: {e}"),
        )
    })?;
    let key_names = key_names(table);
    let mut by_name: Vec<(String, Vec<Value>)> = match parsed.keys {
        Value::Array(list) => {
            if key_names.len() != 1 {
                return Err(ApiError::bad(
                    "BAD_KEYS",
                    format!(
                        "the table's key has {} columns ({}); send keys as {{\"column\": [...]}}",
                        key_names.len(),
                        key_names.join(", ")
                    ),
                ));
            }
            vec![(key_names[0].to_string(), list)]
        }
        Value::Object(map) => {
            let mut out = Vec::with_capacity(map.len());
            for (name, values) in map {
                let Value::Array(values) = values else {
                    return Err(ApiError::bad(
                        "BAD_KEYS",
                        format!("keys.{name} must be a list of values"),
                    ));
                };
                out.push((name, values));
            }
            out
        }
        _ => {
            return Err(ApiError::bad(
                "BAD_KEYS",
                "keys must be a list, or an object of key columns to lists",
            ));
        }
    };
    check_key_names(by_name.iter().map(|(n, _)| n.as_str()), &key_names)?;
    let len = check_lengths(by_name.iter().map(|(n, v)| (n.as_str(), v.len())), limits)?;
    let mut columns = Vec::with_capacity(key_names.len());
    for &k in table.key_columns() {
        let field = table.schema.field(k);
        let at = by_name
            .iter()
            .position(|(n, _)| n == field.name())
            .expect("names checked");
        let (_, values) = by_name.swap_remove(at);
        columns.push(json_keys(field.name(), &values, field.data_type())?);
    }
    let layout = match forced {
        Some(l) => l,
        None => layout_of(parsed.layout.as_deref())?.unwrap_or(Layout::Dense),
    };
    Ok(FetchRequest {
        keys: RequestKeys { columns, len },
        columns: resolve_columns(table, parsed.columns.as_deref(), limits)?,
        layout,
        found_column: parsed.found_column.unwrap_or(false),
    })
}

/// Parses an Arrow IPC stream body whose batches are the key columns; the columns to
/// return are a JSON array under the schema metadata key `columns` (and `layout`,
/// `found_column` may be there too).
///
/// # Errors
/// The API error each kind of bad input gets; a stream the reader cannot decode (or that
/// makes it panic) is `MALFORMED_BODY`.
pub fn parse_ipc(
    body: &[u8],
    table: &TableVersion,
    limits: Limits,
    forced: Option<Layout>,
) -> Result<FetchRequest, ApiError> {
    let malformed = |e: &dyn std::fmt::Display| {
        ApiError::bad(
            "MALFORMED_BODY",
            format!("the body is not an Arrow IPC stream: {e}"),
        )
    };
    // The decoder trusts lengths inside the message; a hostile body must not end the
    // process, so a panic in it is an answer like any other malformed body.
    let decoded = std::panic::catch_unwind(|| -> Result<_, ApiError> {
        let reader =
            StreamReader::try_new(std::io::Cursor::new(body), None).map_err(|e| malformed(&e))?;
        let schema = reader.schema();
        let batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| malformed(&e))?;
        Ok((schema, batches))
    })
    .map_err(|_| malformed(&"the stream's lengths are inconsistent"))??;
    let (schema, batches) = decoded;
    let meta = schema.metadata();
    let wanted: Option<Vec<String>> = match meta.get("columns") {
        None => None,
        Some(text) => Some(serde_json::from_str(text).map_err(|_| {
            ApiError::bad(
                "MALFORMED_BODY",
                "schema metadata 'columns' must be a JSON array of column names",
            )
        })?),
    };
    let layout = match forced {
        Some(l) => l,
        None => layout_of(meta.get("layout").map(String::as_str))?.unwrap_or(Layout::Dense),
    };
    let found_column = meta.get("found_column").is_some_and(|v| v == "true");
    let key_names = key_names(table);
    check_key_names(
        schema.fields().iter().map(|f| f.name().as_str()),
        &key_names,
    )?;
    let len: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if len > limits.max_keys {
        return Err(too_many(len, limits));
    }
    let mut columns = Vec::with_capacity(key_names.len());
    for &k in table.key_columns() {
        let field = table.schema.field(k);
        let at = schema.index_of(field.name()).expect("names checked");
        let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(at).as_ref()).collect();
        let joined = if parts.is_empty() {
            new_null_array(schema.field(at).data_type(), 0)
        } else {
            concat(&parts).map_err(|e| malformed(&e))?
        };
        if joined.null_count() > 0 {
            return Err(ApiError::bad(
                "KEY_TYPE",
                format!("key column '{}' holds a null", field.name()),
            ));
        }
        if !widens(joined.data_type(), field.data_type()) {
            return Err(ApiError::bad(
                "KEY_TYPE",
                format!(
                    "key column '{}' is {} in the request; the table's is {} (only widening casts are made)",
                    field.name(),
                    joined.data_type(),
                    field.data_type()
                ),
            ));
        }
        let cast_to = cast(&joined, field.data_type()).map_err(|e| malformed(&e))?;
        columns.push(cast_to);
    }
    Ok(FetchRequest {
        keys: RequestKeys { columns, len },
        columns: resolve_columns(table, wanted.as_deref(), limits)?,
        layout,
        found_column,
    })
}

fn key_names(table: &TableVersion) -> Vec<&str> {
    table
        .key_columns()
        .iter()
        .map(|&k| table.schema.field(k).name().as_str())
        .collect()
}

fn check_key_names<'a>(
    given: impl Iterator<Item = &'a str>,
    key_names: &[&str],
) -> Result<(), ApiError> {
    let given: Vec<&str> = given.collect();
    for g in &given {
        if !key_names.contains(g) {
            return Err(ApiError::bad(
                "BAD_KEYS",
                format!(
                    "'{g}' is not a key column (the key is {})",
                    key_names.join(", ")
                ),
            ));
        }
    }
    for k in key_names {
        if !given.contains(k) {
            return Err(ApiError::bad(
                "BAD_KEYS",
                format!(
                    "key column '{k}' is missing (the key is {})",
                    key_names.join(", ")
                ),
            ));
        }
    }
    if given.len() != key_names.len() {
        return Err(ApiError::bad("BAD_KEYS", "a key column is given twice"));
    }
    Ok(())
}

fn too_many(len: usize, limits: Limits) -> ApiError {
    ApiError::new(
        413,
        "TOO_MANY_KEYS",
        format!(
            "{len} keys; a request may ask for at most {}",
            limits.max_keys
        ),
    )
}

fn check_lengths<'a>(
    lengths: impl Iterator<Item = (&'a str, usize)>,
    limits: Limits,
) -> Result<usize, ApiError> {
    let mut len = None;
    for (name, n) in lengths {
        if n > limits.max_keys {
            return Err(too_many(n, limits));
        }
        match len {
            None => len = Some((name, n)),
            Some((first, m)) if m != n => {
                return Err(ApiError::bad(
                    "BAD_KEYS",
                    format!("key columns differ in length: {first} has {m}, {name} has {n}"),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(len.map_or(0, |(_, n)| n))
}

/// The columns to answer with: those named, or every column that is not a key.
fn resolve_columns(
    table: &TableVersion,
    wanted: Option<&[String]>,
    limits: Limits,
) -> Result<Vec<usize>, ApiError> {
    let schema = &table.schema;
    let Some(wanted) = wanted else {
        return Ok((0..schema.fields().len())
            .filter(|i| !table.key_columns().contains(i))
            .collect());
    };
    if wanted.len() > limits.max_columns {
        return Err(ApiError::bad(
            "TOO_MANY_COLUMNS",
            format!(
                "{} columns; a request may ask for at most {}",
                wanted.len(),
                limits.max_columns
            ),
        ));
    }
    let mut out = Vec::with_capacity(wanted.len());
    for name in wanted {
        let Ok(i) = schema.index_of(name) else {
            return Err(ApiError::bad(
                "UNKNOWN_COLUMN",
                format!("column '{name}' is not in the table"),
            ));
        };
        if out.contains(&i) {
            return Err(ApiError::bad(
                "UNKNOWN_COLUMN",
                format!("column '{name}' is asked for twice"),
            ));
        }
        out.push(i);
    }
    Ok(out)
}

/// JSON key values as an array of the key column's type.
fn json_keys(name: &str, values: &[Value], target: &DataType) -> Result<ArrayRef, ApiError> {
    let wrong = |i: usize, v: &Value, what: &str| {
        ApiError::bad(
            "KEY_TYPE",
            format!("keys.{name}[{i}] is {v}; the key column is {what}"),
        )
    };
    if *target == DataType::Utf8 {
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            match v {
                Value::String(s) => out.push(s.as_str()),
                _ => return Err(wrong(i, v, "utf8")),
            }
        }
        return Ok(Arc::new(StringArray::from(out)));
    }
    let mut ints: Vec<i128> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let n = match v {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from)),
            // Integers beyond 2^53 travel safely as decimal strings.
            Value::String(s) => s.trim().parse::<i128>().ok(),
            _ => None,
        };
        ints.push(n.ok_or_else(|| wrong(i, v, &target.to_string()))?);
    }
    fn build<T: ArrowPrimitiveType>(name: &str, ints: &[i128]) -> Result<ArrayRef, ApiError>
    where
        T::Native: TryFrom<i128>,
    {
        let mut out = Vec::with_capacity(ints.len());
        for (i, &v) in ints.iter().enumerate() {
            out.push(T::Native::try_from(v).map_err(|_| {
                ApiError::bad(
                    "KEY_TYPE",
                    format!(
                        "keys.{name}[{i}] = {v} does not fit the key column's {}",
                        T::DATA_TYPE
                    ),
                )
            })?);
        }
        Ok(Arc::new(PrimitiveArray::<T>::from_iter_values(out)))
    }
    match target {
        DataType::Int8 => build::<Int8Type>(name, &ints),
        DataType::Int16 => build::<Int16Type>(name, &ints),
        DataType::Int32 => build::<Int32Type>(name, &ints),
        DataType::Int64 => build::<Int64Type>(name, &ints),
        DataType::UInt8 => build::<UInt8Type>(name, &ints),
        DataType::UInt16 => build::<UInt16Type>(name, &ints),
        DataType::UInt32 => build::<UInt32Type>(name, &ints),
        DataType::UInt64 => build::<UInt64Type>(name, &ints),
        other => Err(ApiError::new(
            500,
            "INTERNAL",
            format!("a key column of type {other}"),
        )),
    }
}

/// The defaults of a table's columns, as one-row arrays of each column's type.
pub type Defaults = HashMap<String, ArrayRef>;

/// Answers a request from one table version.
///
/// # Errors
/// Only on an Arrow failure in a kernel (a 500: not the client's fault).
pub fn answer(
    table: &TableVersion,
    request: &FetchRequest,
    defaults: &Defaults,
) -> Result<(RecordBatch, usize), ApiError> {
    let internal = |e: arrow::error::ArrowError| ApiError::new(500, "INTERNAL", e.to_string());
    let rows = table.lookup(&request.keys);
    let found_count = rows.iter().filter(|r| r.is_some()).count();
    let mut fields = Vec::with_capacity(request.columns.len() + 1);
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(request.columns.len() + 1);
    match request.layout {
        Layout::Dense => {
            let found: BooleanArray = rows.iter().map(|r| Some(r.is_some())).collect();
            for &c in &request.columns {
                let field = table.schema.field(c);
                let mut array = table.gather(c, &rows).map_err(internal)?;
                if found_count < rows.len()
                    && let Some(default) = defaults.get(field.name())
                {
                    array = fill_default(&array, &found, default).map_err(internal)?;
                }
                fields.push(Field::new(field.name(), field.data_type().clone(), true));
                arrays.push(array);
            }
            if request.found_column {
                fields.push(Field::new("_found", DataType::Boolean, false));
                arrays.push(Arc::new(found));
            }
        }
        Layout::Sparse => {
            let idx: UInt32Array = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.is_some())
                .map(|(i, _)| i as u32)
                .collect();
            let hits: Vec<Option<u32>> = rows.iter().copied().filter(Option::is_some).collect();
            fields.push(Field::new("_idx", DataType::UInt32, false));
            arrays.push(Arc::new(idx));
            for &c in &request.columns {
                let field = table.schema.field(c);
                fields.push(Field::new(field.name(), field.data_type().clone(), true));
                arrays.push(table.gather(c, &hits).map_err(internal)?);
            }
        }
    }
    let p = &table.provenance;
    let schema = Schema::new(fields).with_metadata(HashMap::from([
        ("quiver.version".to_string(), p.version.to_string()),
        ("quiver.partition".to_string(), p.partition.clone()),
    ]));
    let options =
        arrow::array::RecordBatchOptions::new().with_row_count(Some(match request.layout {
            Layout::Dense => rows.len(),
            Layout::Sparse => found_count,
        }));
    let batch =
        RecordBatch::try_new_with_options(Arc::new(schema), arrays, &options).map_err(internal)?;
    Ok((batch, found_count))
}

/// An Arrow IPC stream holding exactly `batch`.
///
/// # Errors
/// Arrow's (never for batches built by [`answer`]).
pub fn encode_ipc(batch: &RecordBatch) -> Result<Vec<u8>, ApiError> {
    let internal = |e: arrow::error::ArrowError| ApiError::new(500, "INTERNAL", e.to_string());
    let size: usize = batch.get_array_memory_size() + 1024;
    let mut writer =
        StreamWriter::try_new(Vec::with_capacity(size), &batch.schema()).map_err(internal)?;
    writer.write(batch).map_err(internal)?;
    writer.into_inner().map_err(internal)
}

/// `{"columns": {"name": [values...], ...}}`; non-finite floats are `null`, dates and
/// timestamps are ISO 8601 strings.
pub fn encode_json(batch: &RecordBatch) -> Vec<u8> {
    encode_columns(batch, b"{\"columns\":{".to_vec(), (b"", b":", b""), b"}}")
}

/// Murr 0.1's shape: `{"num_rows": N, "columns": [{"name": ..., "values": [...]}]}`.
pub fn encode_json_v0(batch: &RecordBatch) -> Vec<u8> {
    let head = format!("{{\"num_rows\":{},\"columns\":[", batch.num_rows());
    encode_columns(
        batch,
        head.into_bytes(),
        (b"{\"name\":", b",\"values\":", b"}"),
        b"]}",
    )
}

/// `head`, then per column: `open`, its name, `mid`, its values, `close` (comma-separated),
/// then `tail`.
fn encode_columns(
    batch: &RecordBatch,
    head: Vec<u8>,
    (open, mid, close): (&[u8], &[u8], &[u8]),
    tail: &[u8],
) -> Vec<u8> {
    let mut out = head;
    out.reserve(batch.num_rows() * batch.num_columns() * 8 + 64);
    let schema = batch.schema();
    for (i, (field, array)) in schema.fields().iter().zip(batch.columns()).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(open);
        let _ = serde_json::to_writer(&mut out, field.name());
        out.extend_from_slice(mid);
        json_values(array.as_ref(), &mut out);
        out.extend_from_slice(close);
    }
    out.extend_from_slice(tail);
    out
}

fn json_values(array: &dyn Array, out: &mut Vec<u8>) {
    /// `[v0,v1,...]`: `null` for a null, else what `value` writes for row i.
    fn list(array: &dyn Array, out: &mut Vec<u8>, mut value: impl FnMut(usize, &mut Vec<u8>)) {
        out.push(b'[');
        for i in 0..array.len() {
            if i > 0 {
                out.push(b',');
            }
            if array.is_null(i) {
                out.extend_from_slice(b"null");
            } else {
                value(i, out);
            }
        }
        out.push(b']');
    }
    fn floats<T: ArrowPrimitiveType>(array: &dyn Array, out: &mut Vec<u8>)
    where
        T::Native: std::fmt::Display + num_like::Finite,
    {
        let a = array.as_primitive::<T>();
        list(array, out, |i, out| {
            let v = a.value(i);
            if num_like::Finite::finite(v) {
                let _ = write!(out, "{v}");
            } else {
                out.extend_from_slice(b"null");
            }
        });
    }
    fn ints<T: ArrowPrimitiveType>(array: &dyn Array, out: &mut Vec<u8>)
    where
        T::Native: std::fmt::Display,
    {
        let a = array.as_primitive::<T>();
        list(array, out, |i, out| {
            let _ = write!(out, "{}", a.value(i));
        });
    }
    match array.data_type() {
        DataType::Float32 => floats::<Float32Type>(array, out),
        DataType::Float64 => floats::<Float64Type>(array, out),
        DataType::Int8 => ints::<Int8Type>(array, out),
        DataType::Int16 => ints::<Int16Type>(array, out),
        DataType::Int32 => ints::<Int32Type>(array, out),
        DataType::Int64 => ints::<Int64Type>(array, out),
        DataType::UInt8 => ints::<UInt8Type>(array, out),
        DataType::UInt16 => ints::<UInt16Type>(array, out),
        DataType::UInt32 => ints::<UInt32Type>(array, out),
        DataType::UInt64 => ints::<UInt64Type>(array, out),
        DataType::Boolean => {
            let a = array.as_boolean();
            list(array, out, |i, out| {
                out.extend_from_slice(if a.value(i) { b"true" } else { b"false" });
            });
        }
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            list(array, out, |i, out| {
                let _ = serde_json::to_writer(&mut *out, a.value(i));
            });
        }
        _ => {
            // Dates, timestamps and anything else: Arrow's display text, as a string.
            let options = FormatOptions::default();
            match ArrayFormatter::try_new(array, &options) {
                Ok(f) => list(array, out, |i, out| {
                    let _ = serde_json::to_writer(&mut *out, &f.value(i).to_string());
                }),
                Err(_) => list(array, out, |_, out| out.extend_from_slice(b"null")),
            }
        }
    }
}

mod num_like {
    pub trait Finite: Copy {
        fn finite(self) -> bool;
    }
    impl Finite for f32 {
        fn finite(self) -> bool {
            self.is_finite()
        }
    }
    impl Finite for f64 {
        fn finite(self) -> bool {
            self.is_finite()
        }
    }
}

/// A column's YAML default as a one-row array of `target`.
///
/// # Errors
/// A message when the value cannot be that type.
pub fn default_array(value: &super::config::Scalar, target: &DataType) -> Result<ArrayRef, String> {
    use super::config::Scalar;
    let raw: ArrayRef = match value {
        Scalar::Bool(b) => Arc::new(BooleanArray::from(vec![*b])),
        Scalar::Int(i) => Arc::new(Int64Array::from(vec![*i])),
        Scalar::Float(f) => Arc::new(arrow::array::Float64Array::from(vec![*f])),
        Scalar::Text(t) => Arc::new(StringArray::from(vec![t.as_str()])),
    };
    let options = arrow::compute::CastOptions {
        safe: false,
        ..Default::default()
    };
    arrow::compute::cast_with_options(&raw, target, &options)
        .map_err(|e| format!("default {value:?} is not a {target}: {e}"))
}

/// A version's columns for `/v1/tables/{table}`: name, type, nullability, and whether it
/// is a key column.
pub fn schema_json(table: &TableVersion) -> Value {
    let keys = table.key_columns();
    let columns: Vec<Value> = table
        .schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            serde_json::json!({
                "name": f.name(),
                "type": f.data_type().to_string(),
                "nullable": f.is_nullable(),
                "key": keys.contains(&i),
            })
        })
        .collect();
    Value::Array(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_encodes_non_finite_floats_as_null() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float32, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(arrow::array::Float32Array::from(vec![
                    Some(0.1),
                    Some(f32::NAN),
                    None,
                ])),
                Arc::new(StringArray::from(vec![Some("a\"b"), None, Some("c")])),
            ],
        )
        .unwrap();
        let text = String::from_utf8(encode_json(&batch)).unwrap();
        assert_eq!(
            text,
            r#"{"columns":{"x":[0.1,null,null],"s":["a\"b",null,"c"]}}"#
        );
        let v: Value = serde_json::from_slice(&encode_json_v0(&batch)).unwrap();
        assert_eq!(v["num_rows"], 3);
        assert_eq!(v["columns"][1]["name"], "s");
    }
}
