//! Results as sqllogictest text, the way DataFusion's own runner writes them, so that the
//! project's `.slt` files can run through the wasm build and be compared with the answers
//! the native build gives. A workspace test checks this against `datafusion-sqllogictest`.

use std::str::FromStr;

use bigdecimal::BigDecimal;
use quiver_engine::arrow::array::{Array, ArrayRef, AsArray};
use quiver_engine::arrow::datatypes::{
    DataType, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type, DecimalType, Schema,
};
use quiver_engine::arrow::record_batch::RecordBatch;
use quiver_engine::arrow::util::display::{ArrayFormatter, FormatOptions};

const NULL: &str = "NULL";

/// One character per column: `B`oolean, `I`nteger, `R`eal, `T`ext, `D`ate/time,
/// `P` timestamp, `?` anything else.
pub fn column_types(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| type_char(f.data_type()))
        .collect()
}

fn type_char(t: &DataType) -> char {
    match t {
        DataType::Boolean => 'B',
        t if t.is_integer() => 'I',
        DataType::Float16 | DataType::Float32 | DataType::Float64 => 'R',
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => 'R',
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => 'T',
        DataType::Date32 | DataType::Date64 | DataType::Time32(_) | DataType::Time64(_) => 'D',
        DataType::Timestamp(..) => 'P',
        DataType::Dictionary(k, v)
            if k.is_integer()
                && matches!(
                    v.as_ref(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) =>
        {
            'T'
        }
        _ => '?',
    }
}

/// Every row of `batches` as text cells. A last cell holding several lines becomes extra
/// rows, one per line, numbered.
///
/// # Errors
/// A value that cannot be shown.
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, String> {
    let mut out = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells = batch
                .columns()
                .iter()
                .map(|c| cell(c, row))
                .collect::<Result<Vec<_>, _>>()?;
            expand(cells, &mut out);
        }
    }
    Ok(out)
}

fn expand(mut cells: Vec<String>, out: &mut Vec<Vec<String>>) {
    let Some(last) = cells.pop() else {
        out.push(cells);
        return;
    };
    let lines: Vec<&str> = last.split('\n').collect();
    if lines.len() < 2 {
        cells.push(last);
        out.push(cells);
        return;
    }
    out.push(cells);
    for (i, line) in lines.iter().enumerate() {
        let content = line.trim_start();
        let indent = "-".repeat(line.len() - content.len());
        out.push(vec![format!("{:02}){indent}{content}", i + 1)]);
    }
}

fn plain(value: BigDecimal, digits: i64) -> String {
    value.round(digits).normalized().to_plain_string()
}

fn float(text: String, nan: bool, infinite: Option<bool>) -> Result<String, String> {
    if nan {
        return Ok("NaN".into());
    }
    match infinite {
        Some(true) => Ok("Infinity".into()),
        Some(false) => Ok("-Infinity".into()),
        None => BigDecimal::from_str(&text)
            .map(|d| plain(d, 12))
            .map_err(|e| format!("{text}: {e}")),
    }
}

fn sign(is_infinite: bool, positive: bool) -> Option<bool> {
    is_infinite.then_some(positive)
}

fn decimal<T: DecimalType>(value: T::Native, scale: i8) -> Result<String, String> {
    let text = T::format_decimal(value, u8::MAX, scale);
    BigDecimal::from_str(&text)
        .map(|d| plain(d, i64::from(scale)))
        .map_err(|e| format!("{text}: {e}"))
}

fn text(value: &str) -> String {
    if value.is_empty() {
        "(empty)".into()
    } else {
        value.trim_end_matches('\n').replace('\u{0000}', "\\0")
    }
}

fn cell(col: &ArrayRef, row: usize) -> Result<String, String> {
    if col.is_null(row) {
        return Ok(NULL.into());
    }
    match col.data_type() {
        DataType::Null => Ok(NULL.into()),
        DataType::Boolean => Ok(col.as_boolean().value(row).to_string()),
        DataType::Float16 => {
            let v = col
                .as_primitive::<quiver_engine::arrow::datatypes::Float16Type>()
                .value(row);
            float(
                v.to_string(),
                v.is_nan(),
                sign(v.is_infinite(), v.is_sign_positive()),
            )
        }
        DataType::Float32 => {
            let v = col
                .as_primitive::<quiver_engine::arrow::datatypes::Float32Type>()
                .value(row);
            float(
                v.to_string(),
                v.is_nan(),
                sign(v.is_infinite(), v.is_sign_positive()),
            )
        }
        DataType::Float64 => {
            let v = col
                .as_primitive::<quiver_engine::arrow::datatypes::Float64Type>()
                .value(row);
            float(
                v.to_string(),
                v.is_nan(),
                sign(v.is_infinite(), v.is_sign_positive()),
            )
        }
        DataType::Decimal32(_, s) => {
            decimal::<Decimal32Type>(col.as_primitive::<Decimal32Type>().value(row), *s)
        }
        DataType::Decimal64(_, s) => {
            decimal::<Decimal64Type>(col.as_primitive::<Decimal64Type>().value(row), *s)
        }
        DataType::Decimal128(_, s) => {
            decimal::<Decimal128Type>(col.as_primitive::<Decimal128Type>().value(row), *s)
        }
        DataType::Decimal256(_, s) => {
            decimal::<Decimal256Type>(col.as_primitive::<Decimal256Type>().value(row), *s)
        }
        DataType::Utf8 => Ok(text(col.as_string::<i32>().value(row))),
        DataType::LargeUtf8 => Ok(text(col.as_string::<i64>().value(row))),
        DataType::Utf8View => Ok(text(col.as_string_view().value(row))),
        DataType::Dictionary(_, _) => {
            let dict = col.as_any_dictionary();
            let key = dict.normalized_keys()[row];
            cell(dict.values(), key)
        }
        _ => {
            // DataFusion's display settings (durations "pretty", ...), with NULL spelled out.
            let settings = quiver_engine::datafusion::config::FormatOptions {
                null: NULL.into(),
                ..Default::default()
            };
            let options: FormatOptions<'_> = (&settings)
                .try_into()
                .map_err(|e: quiver_engine::datafusion::error::DataFusionError| e.to_string())?;
            let f = ArrayFormatter::try_new(col.as_ref(), &options).map_err(|e| e.to_string())?;
            Ok(f.value(row).to_string())
        }
    }
}
