//! Shredded variants (reader feature `variantShredding`): a writer may split a variant
//! column into typed Parquet columns (`typed_value`) beside the binary `value`, and choose a
//! different split in every file. Quiver reads each file's own layout and folds it back into
//! the unshredded form the table schema declares (`struct<metadata, value>`), so a query
//! sees the same variants however each file was written.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, LargeListArray, ListArray, MapArray, StringArray, StructArray,
    new_null_array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result as DfResult, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr_adapter::{
    DefaultPhysicalExprAdapterFactory, PhysicalExprAdapter, PhysicalExprAdapterFactory,
};
use parquet_variant_compute::{VariantArray, unshred_variant, variant_to_json};

/// Whether `fields` are a variant as the table schema declares it.
pub(crate) fn is_variant(fields: &Fields) -> bool {
    fields.len() == 2
        && fields.iter().all(|f| {
            matches!(f.name().as_str(), "metadata" | "value")
                && matches!(
                    f.data_type(),
                    DataType::Binary | DataType::LargeBinary | DataType::BinaryView
                )
        })
        && fields.find("metadata").is_some()
        && fields.find("value").is_some()
}

/// Whether a column of type `want` anywhere holds a variant.
pub(crate) fn contains_variant(want: &DataType) -> bool {
    match want {
        DataType::Struct(fields) => {
            is_variant(fields) || fields.iter().any(|f| contains_variant(f.data_type()))
        }
        DataType::List(f) | DataType::LargeList(f) | DataType::Map(f, _) => {
            contains_variant(f.data_type())
        }
        _ => false,
    }
}

/// Whether data of type `have` (a file's) holds a shredded variant where `want` (the table's)
/// declares one.
fn is_shredded(have: &DataType, want: &DataType) -> bool {
    match (have, want) {
        (DataType::Struct(h), DataType::Struct(w)) if is_variant(w) => {
            h.find("typed_value").is_some()
        }
        (DataType::Struct(h), DataType::Struct(w)) => w.iter().any(|wf| {
            h.find(wf.name())
                .is_some_and(|(_, hf)| is_shredded(hf.data_type(), wf.data_type()))
        }),
        (DataType::List(h), DataType::List(w))
        | (DataType::LargeList(h), DataType::LargeList(w))
        | (DataType::Map(h, _), DataType::Map(w, _)) => is_shredded(h.data_type(), w.data_type()),
        _ => false,
    }
}

/// Converts `array` (a file's layout) to `want` (the table's), unshredding every variant on
/// the way; other differences are left to Arrow's cast.
pub(crate) fn unshred_to(array: &ArrayRef, want: &DataType) -> Result<ArrayRef, ArrowError> {
    if !is_shredded(array.data_type(), want) {
        return if array.data_type() == want {
            Ok(Arc::clone(array))
        } else {
            cast(array, want)
        };
    }
    match want {
        DataType::Struct(fields) if is_variant(fields) => {
            let plain = unshred_variant(&VariantArray::try_new(array.as_ref())?)?;
            let inner = plain.inner();
            let columns = fields
                .iter()
                .map(|f| match inner.column_by_name(f.name()) {
                    Some(c) => cast(c, f.data_type()),
                    None => Ok(new_null_array(f.data_type(), inner.len())),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Arc::new(StructArray::try_new(
                fields.clone(),
                columns,
                array.nulls().cloned(),
            )?))
        }
        DataType::Struct(fields) => {
            let have = array.as_struct();
            let columns = fields
                .iter()
                .map(|f| match have.column_by_name(f.name()) {
                    Some(c) => unshred_to(c, f.data_type()),
                    None => Ok(new_null_array(f.data_type(), have.len())),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Arc::new(StructArray::try_new(
                fields.clone(),
                columns,
                have.nulls().cloned(),
            )?))
        }
        DataType::List(field) => {
            let have = array.as_list::<i32>();
            let values = unshred_to(have.values(), field.data_type())?;
            Ok(Arc::new(ListArray::try_new(
                Arc::clone(field),
                have.offsets().clone(),
                values,
                have.nulls().cloned(),
            )?))
        }
        DataType::LargeList(field) => {
            let have = array.as_list::<i64>();
            let values = unshred_to(have.values(), field.data_type())?;
            Ok(Arc::new(LargeListArray::try_new(
                Arc::clone(field),
                have.offsets().clone(),
                values,
                have.nulls().cloned(),
            )?))
        }
        DataType::Map(field, sorted) => {
            let have = array.as_map();
            let entries: ArrayRef = Arc::new(have.entries().clone());
            let entries = unshred_to(&entries, field.data_type())?;
            Ok(Arc::new(MapArray::try_new(
                Arc::clone(field),
                have.offsets().clone(),
                entries.as_struct().clone(),
                have.nulls().cloned(),
                *sorted,
            )?))
        }
        _ => cast(array, want),
    }
}

/// Adapts scan expressions to each file: DataFusion's default adaptation, except that a
/// column holding shredded variants is read whole in the file's own layout and unshredded.
#[derive(Debug)]
pub(crate) struct VariantAdapterFactory;

impl PhysicalExprAdapterFactory for VariantAdapterFactory {
    fn create(
        &self,
        logical_file_schema: SchemaRef,
        physical_file_schema: SchemaRef,
    ) -> DfResult<Arc<dyn PhysicalExprAdapter>> {
        let mut shredded = Vec::new();
        let fields: Vec<FieldRef> = logical_file_schema
            .fields()
            .iter()
            .map(
                |want| match physical_file_schema.field_with_name(want.name()) {
                    Ok(have) if is_shredded(have.data_type(), want.data_type()) => {
                        shredded.push(Arc::clone(want));
                        // The default adapter then keeps the column as the file has it.
                        Arc::new(have.clone())
                    }
                    _ => Arc::clone(want),
                },
            )
            .collect();
        let default = if shredded.is_empty() {
            DefaultPhysicalExprAdapterFactory.create(logical_file_schema, physical_file_schema)?
        } else {
            let logical = Arc::new(Schema::new_with_metadata(
                fields,
                logical_file_schema.metadata().clone(),
            ));
            DefaultPhysicalExprAdapterFactory.create(logical, physical_file_schema)?
        };
        Ok(Arc::new(VariantAdapter { default, shredded }))
    }
}

#[derive(Debug)]
struct VariantAdapter {
    default: Arc<dyn PhysicalExprAdapter>,
    /// The table's fields of the columns whose file layout holds shredded variants.
    shredded: Vec<FieldRef>,
}

impl PhysicalExprAdapter for VariantAdapter {
    fn rewrite(&self, expr: Arc<dyn PhysicalExpr>) -> DfResult<Arc<dyn PhysicalExpr>> {
        let expr = self.default.rewrite(expr)?;
        if self.shredded.is_empty() {
            return Ok(expr);
        }
        expr.transform_down(|e| {
            if let Some(column) = e.downcast_ref::<Column>()
                && let Some(field) = self.shredded.iter().find(|f| f.name() == column.name())
            {
                let unshred = UnshredExpr {
                    input: Arc::clone(&e),
                    field: Arc::clone(field),
                };
                return Ok(Transformed::new(
                    Arc::new(unshred) as Arc<dyn PhysicalExpr>,
                    true,
                    TreeNodeRecursion::Jump,
                ));
            }
            Ok(Transformed::no(e))
        })
        .map(|t| t.data)
    }
}

/// One file's column in its own layout, unshredded to the table's type.
#[derive(Debug, Eq)]
struct UnshredExpr {
    input: Arc<dyn PhysicalExpr>,
    field: FieldRef,
}

impl PartialEq for UnshredExpr {
    fn eq(&self, other: &Self) -> bool {
        self.input.as_ref() == other.input.as_ref() && self.field == other.field
    }
}

impl Hash for UnshredExpr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.input.hash(state);
        self.field.hash(state);
    }
}

impl fmt::Display for UnshredExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unshred_variant({})", self.input)
    }
}

impl PhysicalExpr for UnshredExpr {
    fn return_field(&self, _input_schema: &Schema) -> DfResult<FieldRef> {
        Ok(Arc::clone(&self.field))
    }

    fn evaluate(&self, batch: &RecordBatch) -> DfResult<ColumnarValue> {
        let input = self.input.evaluate(batch)?.into_array(batch.num_rows())?;
        let out = unshred_to(&input, self.field.data_type()).map_err(|e| {
            datafusion::error::DataFusionError::Execution(format!(
                "column {}: shredded variant could not be read: {e}",
                self.field.name()
            ))
        })?;
        Ok(ColumnarValue::Array(out))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> DfResult<Arc<dyn PhysicalExpr>> {
        let [input] = <[_; 1]>::try_from(children).map_err(|_| {
            datafusion::error::DataFusionError::Internal("unshred takes one input".into())
        })?;
        Ok(Arc::new(Self {
            input,
            field: Arc::clone(&self.field),
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unshred_variant(")?;
        self.input.fmt_sql(f)?;
        write!(f, ")")
    }
}

/// `variant_to_json(v)`: a variant (`struct<metadata, value>`, as Delta and Parquet store it)
/// as JSON text, for reading and for comparing with other tools.
pub fn variant_to_json_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(VariantToJson {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct VariantToJson {
    signature: Signature,
}

impl ScalarUDFImpl for VariantToJson {
    fn name(&self) -> &str {
        "variant_to_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> DfResult<DataType> {
        match &args[0] {
            DataType::Struct(fields) if is_variant(fields) => Ok(DataType::Utf8),
            DataType::Null => Ok(DataType::Utf8),
            other => {
                exec_err!("variant_to_json takes a variant (struct<metadata, value>), not {other}")
            }
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let input = args.args[0].to_array(rows)?;
        if input.data_type() == &DataType::Null {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
        }
        let json: StringArray = variant_to_json(&input)?;
        Ok(ColumnarValue::Array(Arc::new(json)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{BinaryArray, Int64Array};
    use datafusion::arrow::datatypes::Field;

    /// A variant shredded as an int64: rows 0 and 2 typed, row 1 left in `value` (a string).
    fn shredded() -> ArrayRef {
        // Metadata with an empty dictionary; "hi" as a short string (header 0b000010_01).
        let metadata = BinaryArray::from(vec![&[1u8, 0, 0][..]; 3]);
        let value = BinaryArray::from(vec![None, Some(&[0b0000_1001u8, b'h', b'i'][..]), None]);
        let typed = Int64Array::from(vec![Some(7), None, Some(-3)]);
        Arc::new(StructArray::from(vec![
            (
                Arc::new(Field::new("metadata", DataType::Binary, false)),
                Arc::new(metadata) as ArrayRef,
            ),
            (
                Arc::new(Field::new("value", DataType::Binary, true)),
                Arc::new(value) as ArrayRef,
            ),
            (
                Arc::new(Field::new("typed_value", DataType::Int64, true)),
                Arc::new(typed) as ArrayRef,
            ),
        ]))
    }

    fn variant_type() -> DataType {
        DataType::Struct(Fields::from(vec![
            Field::new("metadata", DataType::Binary, true),
            Field::new("value", DataType::Binary, true),
        ]))
    }

    #[test]
    fn unshreds_top_level_and_inside_lists() {
        let want = variant_type();
        let out = unshred_to(&shredded(), &want).unwrap();
        assert_eq!(out.data_type(), &want);
        let json = variant_to_json(&out).unwrap();
        assert_eq!(
            json.iter().collect::<Vec<_>>(),
            [Some("7"), Some("\"hi\""), Some("-3")]
        );

        let item = Arc::new(Field::new("item", shredded().data_type().clone(), true));
        let list: ArrayRef = Arc::new(ListArray::new(
            item,
            datafusion::arrow::buffer::OffsetBuffer::from_lengths([2, 1]),
            shredded(),
            None,
        ));
        let want_list = DataType::List(Arc::new(Field::new("item", want, true)));
        let out = unshred_to(&list, &want_list).unwrap();
        assert_eq!(out.data_type(), &want_list);
        let values = out.as_list::<i32>().values().clone();
        let json = variant_to_json(&values).unwrap();
        assert_eq!(json.value(2), "-3");
    }

    #[test]
    fn bad_metadata_is_an_error() {
        let metadata = BinaryArray::from(vec![&[0xffu8][..]]);
        let typed = Int64Array::from(vec![Some(1)]);
        let array: ArrayRef = Arc::new(StructArray::from(vec![
            (
                Arc::new(Field::new("metadata", DataType::Binary, false)),
                Arc::new(metadata) as ArrayRef,
            ),
            (
                Arc::new(Field::new("typed_value", DataType::Int64, true)),
                Arc::new(typed) as ArrayRef,
            ),
        ]));
        assert!(unshred_to(&array, &variant_type()).is_err());
    }
}
