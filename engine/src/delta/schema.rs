//! A Delta table's schema as Arrow sees it, the protocol features this reader supports,
//! and partition values as Arrow scalars.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use datafusion::common::ScalarValue;
use serde_json::Value;

use super::actions::{Metadata, Protocol};

/// Reader features this reader implements. Anything else in a table's `readerFeatures` is
/// refused by name rather than read wrongly.
pub(crate) const READER_FEATURES: [&str; 12] = [
    "columnMapping",
    "deletionVectors",
    "geospatial",
    "timestampNtz",
    "typeWidening",
    "typeWidening-preview",
    "v2Checkpoint",
    "vacuumProtocolCheck",
    "variantShredding",
    "variantShredding-preview",
    "variantType",
    "variantType-preview",
];

/// Refuses protocols this reader cannot honour, naming what is missing.
pub(crate) fn check_protocol(p: &Protocol) -> Result<(), String> {
    match p.min_reader_version {
        1 | 2 => {
            if p.reader_features.as_ref().is_some_and(|f| !f.is_empty()) {
                return Err(format!(
                    "invalid protocol: reader features {:?} are listed but the minimum reader version is {} (features need version 3)",
                    p.reader_features.as_deref().unwrap_or_default(),
                    p.min_reader_version
                ));
            }
            Ok(())
        }
        3 => {
            // A catalog-managed table's newest commits live in its catalog until they are
            // published; reading the folder alone could show an out-of-date version.
            if p.reader_features
                .iter()
                .flatten()
                .any(|f| f == "catalogManaged")
            {
                return Err("reader feature 'catalogManaged' not supported by Quiver: the table's catalog holds its newest commits, and Quiver reads Delta tables from storage only".into());
            }
            let missing: Vec<&String> = p
                .reader_features
                .iter()
                .flatten()
                .filter(|f| !READER_FEATURES.contains(&f.as_str()))
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "reader feature{} {} not supported by Quiver (supported: {})",
                    if missing.len() == 1 { "" } else { "s" },
                    missing
                        .iter()
                        .map(|f| format!("'{f}'"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    READER_FEATURES.join(", ")
                ))
            }
        }
        v => Err(format!(
            "minimum reader version {v} is newer than Quiver supports (3)"
        )),
    }
}

/// One top-level column.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// The name queries use.
    pub logical: String,
    /// The name in data files and partition values (differs under column mapping).
    pub physical: String,
    pub data_type: DataType,
    /// The type in data files, with physical names for nested fields.
    pub physical_type: DataType,
    pub partition: bool,
}

/// The schema of a snapshot.
#[derive(Debug)]
pub(crate) struct TableSchema {
    /// Columns in table order, as queries see them.
    pub logical: SchemaRef,
    pub columns: Vec<Column>,
    /// Whether data files name columns by their physical names.
    pub mapped: bool,
}

impl TableSchema {
    pub(crate) fn from_metadata(metadata: &Metadata) -> Result<Self, String> {
        let text = metadata
            .schema_string
            .as_deref()
            .ok_or("the metadata has no schemaString")?;
        let schema: Value = serde_json::from_str(text)
            .map_err(|e| format!("the schema in the metadata is not valid JSON: {e}"))?;
        let mapped = matches!(
            metadata.config("delta.columnMapping.mode"),
            Some("name" | "id")
        );
        let fields = schema
            .get("fields")
            .and_then(Value::as_array)
            .ok_or("the schema in the metadata has no fields")?;
        let mut columns = Vec::with_capacity(fields.len());
        for field in fields {
            let (logical, data_type) = field_of(field, false)?;
            let (physical, physical_type) = field_of(field, mapped)?;
            columns.push(Column {
                partition: metadata.partition_columns.contains(&logical),
                logical,
                physical,
                data_type,
                physical_type,
            });
        }
        for p in &metadata.partition_columns {
            if !columns.iter().any(|c| &c.logical == p) {
                return Err(format!("partition column '{p}' is not in the schema"));
            }
        }
        let logical = Arc::new(Schema::new(
            columns
                .iter()
                .map(|c| Field::new(&c.logical, c.data_type.clone(), true))
                .collect::<Vec<_>>(),
        ));
        Ok(Self {
            logical,
            columns,
            mapped,
        })
    }

    /// The column called `logical`, if any.
    pub(crate) fn column(&self, logical: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.logical == logical)
    }
}

/// A field's name and Arrow type, with physical names when `physical`.
fn field_of(field: &Value, physical: bool) -> Result<(String, DataType), String> {
    let name = field
        .get("name")
        .and_then(Value::as_str)
        .ok_or("a schema field has no name")?;
    let name = if physical {
        field
            .get("metadata")
            .and_then(|m| m.get("delta.columnMapping.physicalName"))
            .and_then(Value::as_str)
            .unwrap_or(name)
    } else {
        name
    };
    let data_type = type_of(
        field.get("type").ok_or("a schema field has no type")?,
        physical,
    )
    .map_err(|e| format!("column '{name}': {e}"))?;
    Ok((name.to_string(), data_type))
}

fn type_of(t: &Value, physical: bool) -> Result<DataType, String> {
    if let Some(name) = t.as_str() {
        return primitive(name);
    }
    let kind = t.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "struct" => {
            let fields = t
                .get("fields")
                .and_then(Value::as_array)
                .ok_or("a struct has no fields")?;
            let fields: Vec<Field> = fields
                .iter()
                .map(|f| field_of(f, physical).map(|(n, dt)| Field::new(n, dt, true)))
                .collect::<Result<_, _>>()?;
            Ok(DataType::Struct(Fields::from(fields)))
        }
        "array" => {
            let element = type_of(
                t.get("elementType").ok_or("an array has no elementType")?,
                physical,
            )?;
            Ok(DataType::List(Arc::new(Field::new(
                "element", element, true,
            ))))
        }
        "map" => {
            let key = type_of(t.get("keyType").ok_or("a map has no keyType")?, physical)?;
            let value = type_of(
                t.get("valueType").ok_or("a map has no valueType")?,
                physical,
            )?;
            let entries = Field::new(
                "key_value",
                DataType::Struct(Fields::from(vec![
                    Field::new("key", key, false),
                    Field::new("value", value, true),
                ])),
                false,
            );
            Ok(DataType::Map(Arc::new(entries), false))
        }
        other => Err(format!("unsupported Delta type '{other}'")),
    }
}

fn primitive(name: &str) -> Result<DataType, String> {
    Ok(match name {
        "string" => DataType::Utf8,
        "long" => DataType::Int64,
        "integer" => DataType::Int32,
        "short" => DataType::Int16,
        "byte" => DataType::Int8,
        "float" => DataType::Float32,
        "double" => DataType::Float64,
        "boolean" => DataType::Boolean,
        "binary" => DataType::Binary,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        "timestamp_ntz" => DataType::Timestamp(TimeUnit::Microsecond, None),
        // Spark's NullType: a column that only ever holds nulls. Spark leaves it out of the
        // data files, so the scan fills it with nulls, as deltalake reads it.
        "void" => DataType::Null,
        // Geometries and geographies are stored as WKB; they read as binary, as DuckDB
        // reads them without its spatial extension.
        other if other.starts_with("geometry") || other.starts_with("geography") => {
            DataType::Binary
        }
        // A variant, unshredded: its metadata dictionary and its value, both in the variant
        // binary encoding. Files that shred it (typed_value columns) are folded back to this
        // form as they are read (see `variant.rs`).
        "variant" => DataType::Struct(Fields::from(vec![
            Field::new("metadata", DataType::Binary, true),
            Field::new("value", DataType::Binary, true),
        ])),
        other => {
            if let Some(inner) = other
                .strip_prefix("decimal(")
                .and_then(|s| s.strip_suffix(')'))
            {
                let (p, s) = inner.split_once(',').ok_or("bad decimal type")?;
                let p: u8 = p.trim().parse().map_err(|_| "bad decimal precision")?;
                let s: i8 = s.trim().parse().map_err(|_| "bad decimal scale")?;
                return Ok(DataType::Decimal128(p, s));
            }
            return Err(format!("unsupported Delta type '{other}'"));
        }
    })
}

/// A partition value as the log writes it, as a scalar of the column's type. The protocol
/// writes null as a JSON null, a missing key or an empty string.
pub(crate) fn partition_scalar(
    raw: Option<&str>,
    data_type: &DataType,
) -> Result<ScalarValue, String> {
    let Some(raw) = raw.filter(|s| !s.is_empty()) else {
        return ScalarValue::try_from(data_type).map_err(|e| e.to_string());
    };
    match data_type {
        DataType::Utf8 => Ok(ScalarValue::Utf8(Some(raw.to_string()))),
        DataType::Binary => Ok(ScalarValue::Binary(Some(raw.as_bytes().to_vec()))),
        DataType::Timestamp(_, _) => {
            // `2021-01-01 00:00:00[.ffffff]`, in UTC for `timestamp`; ISO 8601 also occurs.
            let text = raw.replace('T', " ");
            let text = text.trim_end_matches('Z');
            ScalarValue::try_from_string(text.to_string(), data_type).map_err(|e| e.to_string())
        }
        _ => ScalarValue::try_from_string(raw.to_string(), data_type).map_err(|e| e.to_string()),
    }
}

/// The partition values of a file, keyed by physical column name, as scalars in `columns`
/// order.
pub(crate) fn partition_values(
    values: &HashMap<String, Option<String>>,
    columns: &[&Column],
) -> Result<Vec<ScalarValue>, String> {
    columns
        .iter()
        .map(|c| {
            let raw = values
                .get(&c.physical)
                .or_else(|| values.get(&c.logical))
                .and_then(|v| v.as_deref());
            partition_scalar(raw, &c.data_type)
                .map_err(|e| format!("partition value {raw:?} of column '{}': {e}", c.logical))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_reader_features_are_named() {
        let p = Protocol {
            min_reader_version: 3,
            min_writer_version: 7,
            reader_features: Some(vec!["deletionVectors".into(), "catalogManaged".into()]),
            writer_features: None,
        };
        let err = check_protocol(&p).unwrap_err();
        assert!(err.contains("'catalogManaged'"), "{err}");
        assert!(!err.contains("'deletionVectors'"), "{err}");
    }

    #[test]
    fn partition_values_parse_per_type() {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        assert_eq!(
            partition_scalar(Some("2021-01-01 10:00:00"), &ts).unwrap(),
            ScalarValue::TimestampMicrosecond(Some(1_609_495_200_000_000), Some("UTC".into()))
        );
        assert_eq!(
            partition_scalar(Some(""), &DataType::Int32).unwrap(),
            ScalarValue::Int32(None)
        );
        assert_eq!(
            partition_scalar(Some("a b/c"), &DataType::Utf8).unwrap(),
            ScalarValue::Utf8(Some("a b/c".into()))
        );
    }
}
