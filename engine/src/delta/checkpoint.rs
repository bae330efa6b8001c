//! Reading `add` actions straight out of checkpoint record batches.
//!
//! A checkpoint of a large table is almost all `add` rows, so they are read from the Arrow
//! columns directly; the few other rows (protocol, metadata, sidecars) go through the JSON
//! form that commits use. Checkpoint `remove` rows are tombstones that replay ignores.

use std::collections::HashMap;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, Int64Array, MapArray, StringArray, StructArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;

use super::actions::{Add, DeletionVector};

/// The `add` actions of `batch`, and the rows that hold other actions that replay needs.
pub(crate) fn split_batch(batch: &RecordBatch) -> Result<(Vec<Add>, Vec<usize>), String> {
    let adds = batch
        .column_by_name("add")
        .map(|a| a.as_struct_opt().ok_or("the add column is not a struct"))
        .transpose()?;
    let others: Vec<&ArrayRef> = ["metaData", "protocol", "sidecar"]
        .iter()
        .filter_map(|name| batch.column_by_name(name))
        .collect();
    let mut out = Vec::new();
    let mut rest = Vec::new();
    let columns = adds.map(AddColumns::new).transpose()?;
    for row in 0..batch.num_rows() {
        if let (Some(adds), Some(columns)) = (adds, &columns)
            && adds.is_valid(row)
        {
            out.push(columns.add(row)?);
        } else if others.iter().any(|c| c.is_valid(row)) {
            rest.push(row);
        }
    }
    Ok((out, rest))
}

fn strings(array: &ArrayRef) -> Result<StringArray, String> {
    let utf8 = cast(array, &DataType::Utf8).map_err(|e| e.to_string())?;
    Ok(utf8.as_string::<i32>().clone())
}

fn field<'a>(s: &'a StructArray, name: &str) -> Option<&'a ArrayRef> {
    s.column_by_name(name)
}

struct AddColumns {
    path: StringArray,
    size: Int64Array,
    modification_time: Option<Int64Array>,
    stats: Option<StringArray>,
    partition_values: Option<MapArray>,
    partition_keys: Option<StringArray>,
    partition_items: Option<StringArray>,
    dv: Option<DvColumns>,
}

struct DvColumns {
    valid: StructArray,
    storage_type: StringArray,
    path_or_inline: StringArray,
    offset: Option<Int32Array>,
    size: Int32Array,
    cardinality: Int64Array,
}

fn int64(a: &ArrayRef) -> Result<Int64Array, String> {
    Ok(cast(a, &DataType::Int64)
        .map_err(|e| e.to_string())?
        .as_primitive()
        .clone())
}

fn int32(a: &ArrayRef) -> Result<Int32Array, String> {
    Ok(cast(a, &DataType::Int32)
        .map_err(|e| e.to_string())?
        .as_primitive()
        .clone())
}

impl AddColumns {
    fn new(add: &StructArray) -> Result<Self, String> {
        let need = |name: &str| field(add, name).ok_or(format!("add.{name} is missing"));
        let partition_values = field(add, "partitionValues")
            .map(|a| {
                a.as_map_opt()
                    .cloned()
                    .ok_or("add.partitionValues is not a map")
            })
            .transpose()?;
        let (partition_keys, partition_items) = match &partition_values {
            Some(m) => (Some(strings(m.keys())?), Some(strings(m.values())?)),
            None => (None, None),
        };
        let dv = match field(add, "deletionVector") {
            Some(a) => {
                let s = a
                    .as_struct_opt()
                    .ok_or("add.deletionVector is not a struct")?;
                let need = |name: &str| {
                    field(s, name).ok_or(format!("add.deletionVector.{name} is missing"))
                };
                Some(DvColumns {
                    valid: s.clone(),
                    storage_type: strings(need("storageType")?)?,
                    path_or_inline: strings(need("pathOrInlineDv")?)?,
                    offset: field(s, "offset").map(int32).transpose()?,
                    size: int32(need("sizeInBytes")?)?,
                    cardinality: int64(need("cardinality")?)?,
                })
            }
            None => None,
        };
        Ok(Self {
            path: strings(need("path")?)?,
            size: int64(need("size")?)?,
            modification_time: field(add, "modificationTime").map(int64).transpose()?,
            stats: field(add, "stats").map(strings).transpose()?,
            partition_values,
            partition_keys,
            partition_items,
            dv,
        })
    }

    fn add(&self, row: usize) -> Result<Add, String> {
        if self.path.is_null(row) {
            return Err(format!("row {row}: add.path is null"));
        }
        let mut partition_values = HashMap::new();
        if let (Some(map), Some(keys), Some(items)) = (
            &self.partition_values,
            &self.partition_keys,
            &self.partition_items,
        ) && map.is_valid(row)
        {
            let offsets = map.value_offsets();
            for i in offsets[row] as usize..offsets[row + 1] as usize {
                let value = items.is_valid(i).then(|| items.value(i).to_string());
                partition_values.insert(keys.value(i).to_string(), value);
            }
        }
        let deletion_vector = match &self.dv {
            Some(dv) if dv.valid.is_valid(row) => Some(DeletionVector {
                storage_type: dv.storage_type.value(row).to_string(),
                path_or_inline_dv: dv.path_or_inline.value(row).to_string(),
                offset: dv
                    .offset
                    .as_ref()
                    .filter(|o| o.is_valid(row))
                    .map(|o| o.value(row)),
                size_in_bytes: dv.size.value(row),
                cardinality: dv.cardinality.value(row),
            }),
            _ => None,
        };
        Ok(Add {
            path: self.path.value(row).to_string(),
            partition_values,
            size: self.size.value(row),
            modification_time: self
                .modification_time
                .as_ref()
                .filter(|m| m.is_valid(row))
                .map_or(0, |m| m.value(row)),
            stats: self
                .stats
                .as_ref()
                .filter(|s| s.is_valid(row))
                .map(|s| s.value(row).to_string()),
            deletion_vector,
        })
    }
}
