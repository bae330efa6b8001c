//! Plan codecs: Quiver's own plan nodes as bytes, so a plan made in one process can run in
//! another (a cluster's scheduler and executors).
//!
//! DataFusion serialises its own nodes and hands the rest to an extension codec. Quiver's
//! codecs carry the time-series nodes — [`AsofJoin`] / [`AsofJoinExec`] and
//! [`MatchRecognize`] / [`MatchRecognizeExec`] — and pass everything else to the codec they
//! wrap (DataFusion's by default; a cluster wraps its own):
//!
//! ```text
//! let codec = QuiverPhysicalCodec::default();
//! let bytes = physical_plan_to_bytes_with_extension_codec(plan, &codec)?;
//! let plan = physical_plan_from_bytes_with_extension_codec(&bytes, &task_ctx, &codec)?;
//! ```
//!
//! Each node is written as a 4-byte tag (`QVR` and a version), a byte naming the node, and a
//! protobuf message whose expressions are DataFusion's own expression messages. Bytes
//! without the tag belong to the wrapped codec. Decoding checks what it reads (variable and
//! column numbers, expression types), so a corrupt or foreign message is an error, never a
//! panic at run time.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::{DataFusionError, TableReference, plan_datafusion_err};
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{
    AggregateUDF, Expr, Extension, HigherOrderUDF, LogicalPlan, ScalarUDF, UserDefinedLogicalNode,
    WindowUDF,
};
use datafusion::physical_expr::{PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_expr_common::physical_expr::proto_decode::PhysicalExprDecodeCtx;
use datafusion::physical_expr_common::physical_expr::proto_encode::PhysicalExprEncodeCtx;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::from_proto::{parse_expr, parse_sorts};
use datafusion_proto::logical_plan::to_proto::{serialize_expr, serialize_sorts};
use datafusion_proto::logical_plan::{DefaultLogicalExtensionCodec, LogicalExtensionCodec};
use datafusion_proto::physical_plan::{
    DefaultPhysicalExtensionCodec, PhysicalExtensionCodec, PhysicalPlanDecodeContext,
    PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf;
use prost::Message;

use crate::timeseries::asof::exec::AsofJoinExec;
use crate::timeseries::asof::plan::{AsofJoin, Direction};
use crate::timeseries::match_recognize::exec::{MatchRecognizeExec, PhysicalCondition};
use crate::timeseries::match_recognize::pattern::Pattern;
use crate::timeseries::match_recognize::plan::{Anchor, Condition, MatchRecognize, Nav, Skip};

/// The first bytes of every node Quiver's codecs write: `QVR` and the format's version.
const TAG: &[u8; 4] = b"QVR\x01";

/// Which node follows the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AsofJoin = 1,
    MatchRecognize = 2,
}

impl Kind {
    fn from_byte(b: u8) -> Result<Kind> {
        match b {
            1 => Ok(Kind::AsofJoin),
            2 => Ok(Kind::MatchRecognize),
            other => Err(codec_err(format!(
                "unknown node kind {other}; was the plan written by a newer Quiver?"
            ))),
        }
    }
}

fn codec_err(reason: impl fmt::Display) -> DataFusionError {
    plan_datafusion_err!("Quiver plan codec: {reason}")
}

/// Splits a buffer into the node kind and its message, or `None` when it is not Quiver's.
fn untag(buf: &[u8]) -> Option<Result<(Kind, &[u8])>> {
    let rest = buf.strip_prefix(TAG.as_slice())?;
    Some(match rest.split_first() {
        Some((&kind, body)) => Kind::from_byte(kind).map(|k| (k, body)),
        None => Err(codec_err("a node's bytes end after the tag")),
    })
}

fn write_tagged(kind: Kind, message: &impl Message, buf: &mut Vec<u8>) {
    buf.extend_from_slice(TAG);
    buf.push(kind as u8);
    buf.extend(message.encode_to_vec());
}

fn decode_message<M: Message + Default>(body: &[u8], what: &str) -> Result<M> {
    M::decode(body).map_err(|e| codec_err(format!("malformed {what}: {e}")))
}

fn proto_err(e: impl fmt::Display) -> DataFusionError {
    codec_err(e)
}

// ---- messages --------------------------------------------------------------------------

#[derive(Clone, PartialEq, prost::Message)]
struct AsofJoinNode {
    #[prost(message, repeated, tag = "1")]
    left_keys: Vec<protobuf::LogicalExprNode>,
    #[prost(message, repeated, tag = "2")]
    right_keys: Vec<protobuf::LogicalExprNode>,
    #[prost(message, optional, tag = "3")]
    left_time: Option<protobuf::LogicalExprNode>,
    #[prost(message, optional, tag = "4")]
    right_time: Option<protobuf::LogicalExprNode>,
    #[prost(bool, tag = "5")]
    backward: bool,
    #[prost(bool, tag = "6")]
    inclusive: bool,
    #[prost(bool, tag = "7")]
    keep_unmatched: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct AsofJoinExecNode {
    #[prost(message, repeated, tag = "1")]
    left_keys: Vec<protobuf::PhysicalExprNode>,
    #[prost(message, repeated, tag = "2")]
    right_keys: Vec<protobuf::PhysicalExprNode>,
    #[prost(message, optional, tag = "3")]
    left_time: Option<protobuf::PhysicalExprNode>,
    #[prost(message, optional, tag = "4")]
    right_time: Option<protobuf::PhysicalExprNode>,
    #[prost(bool, tag = "5")]
    backward: bool,
    #[prost(bool, tag = "6")]
    inclusive: bool,
    #[prost(bool, tag = "7")]
    keep_unmatched: bool,
    #[prost(message, optional, tag = "8")]
    schema: Option<protobuf::Schema>,
}

/// The parts of a MATCH_RECOGNIZE that are not expressions, as JSON: the pattern is a tree
/// of Quiver's own, and JSON keeps it readable in a dumped plan.
#[derive(serde::Serialize, serde::Deserialize)]
struct MatchShape {
    pattern: Pattern,
    names: Vec<String>,
    navs: Vec<Nav>,
    skip: Skip,
    /// Each DEFINE conjunct's variable and whether it reads only the current row.
    conditions: Vec<(usize, bool)>,
    /// Physical plans only: each ORDER BY key's (descending, nulls first).
    #[serde(default)]
    order: Vec<(bool, bool)>,
}

impl MatchShape {
    /// Checks the numbers in the shape against each other and the input's width.
    fn check(&self, input_columns: usize, conditions: usize) -> Result<()> {
        let vars = self.names.len();
        if !self.pattern.vars_below(vars) {
            return Err(codec_err(
                "MATCH_RECOGNIZE pattern names an undefined variable",
            ));
        }
        for nav in &self.navs {
            let anchor_ok = match nav.anchor {
                Anchor::First(v) | Anchor::Last(v) => v < vars,
                Anchor::Current | Anchor::MatchStart => true,
            };
            if !anchor_ok || nav.column >= input_columns {
                return Err(codec_err(
                    "MATCH_RECOGNIZE navigation reads a variable or column that does not exist",
                ));
            }
        }
        if self.conditions.len() != conditions || self.conditions.iter().any(|&(v, _)| v >= vars) {
            return Err(codec_err(
                "MATCH_RECOGNIZE conditions do not match their variables",
            ));
        }
        Ok(())
    }
}

#[derive(Clone, PartialEq, prost::Message)]
struct MatchRecognizeNode {
    #[prost(string, tag = "1")]
    shape: String,
    #[prost(message, repeated, tag = "2")]
    partition_by: Vec<protobuf::LogicalExprNode>,
    #[prost(message, repeated, tag = "3")]
    order_by: Vec<protobuf::SortExprNode>,
    #[prost(message, repeated, tag = "4")]
    conditions: Vec<protobuf::LogicalExprNode>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct MatchRecognizeExecNode {
    #[prost(string, tag = "1")]
    shape: String,
    #[prost(message, repeated, tag = "2")]
    partition_by: Vec<protobuf::PhysicalExprNode>,
    #[prost(message, repeated, tag = "3")]
    order_by: Vec<protobuf::PhysicalExprNode>,
    #[prost(message, repeated, tag = "4")]
    conditions: Vec<protobuf::PhysicalExprNode>,
    #[prost(message, optional, tag = "5")]
    define_schema: Option<protobuf::Schema>,
    #[prost(message, optional, tag = "6")]
    schema: Option<protobuf::Schema>,
}

fn shape_json(shape: &MatchShape) -> Result<String> {
    serde_json::to_string(shape).map_err(codec_err)
}

fn read_shape(json: &str) -> Result<MatchShape> {
    serde_json::from_str(json).map_err(|e| codec_err(format!("malformed MATCH_RECOGNIZE: {e}")))
}

fn required<T>(value: Option<T>, what: &str) -> Result<T> {
    value.ok_or_else(|| codec_err(format!("{what} is missing")))
}

fn schema_to_proto(schema: &Schema) -> Result<protobuf::Schema> {
    protobuf::Schema::try_from(schema).map_err(proto_err)
}

fn schema_from_proto(proto: Option<&protobuf::Schema>, what: &str) -> Result<SchemaRef> {
    let proto = required(proto, what)?;
    Ok(Arc::new(Schema::try_from(proto).map_err(proto_err)?))
}

/// The function hooks both codec traits share, handed to the wrapped codec: Quiver's nodes
/// call no functions of their own.
macro_rules! delegate_functions {
    () => {
        fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
            self.inner.try_decode_udf(name, buf)
        }

        fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
            self.inner.try_encode_udf(node, buf)
        }

        fn try_decode_higher_order_function(
            &self,
            name: &str,
            buf: &[u8],
        ) -> Result<Arc<HigherOrderUDF>> {
            self.inner.try_decode_higher_order_function(name, buf)
        }

        fn try_encode_higher_order_function(
            &self,
            node: &HigherOrderUDF,
            buf: &mut Vec<u8>,
        ) -> Result<()> {
            self.inner.try_encode_higher_order_function(node, buf)
        }

        fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
            self.inner.try_decode_udaf(name, buf)
        }

        fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
            self.inner.try_encode_udaf(node, buf)
        }

        fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
            self.inner.try_decode_udwf(name, buf)
        }

        fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
            self.inner.try_encode_udwf(node, buf)
        }
    };
}

// ---- logical ---------------------------------------------------------------------------

/// A [`LogicalExtensionCodec`] for Quiver's logical nodes, passing every other node, table
/// and function to the codec it wraps.
#[derive(Debug)]
pub struct QuiverLogicalCodec {
    inner: Arc<dyn LogicalExtensionCodec>,
}

impl Default for QuiverLogicalCodec {
    fn default() -> Self {
        Self::wrapping(Arc::new(DefaultLogicalExtensionCodec {}))
    }
}

impl QuiverLogicalCodec {
    /// Quiver's nodes, and `inner` for the rest (a cluster's own codec, say).
    pub fn wrapping(inner: Arc<dyn LogicalExtensionCodec>) -> Self {
        QuiverLogicalCodec { inner }
    }

    fn exprs(&self, exprs: &[Expr]) -> Result<Vec<protobuf::LogicalExprNode>> {
        exprs
            .iter()
            .map(|e| serialize_expr(e, self).map_err(proto_err))
            .collect()
    }

    fn parse(&self, protos: &[protobuf::LogicalExprNode], ctx: &TaskContext) -> Result<Vec<Expr>> {
        protos
            .iter()
            .map(|p| parse_expr(p, ctx, self).map_err(proto_err))
            .collect()
    }

    fn encode_asof(&self, join: &AsofJoin, buf: &mut Vec<u8>) -> Result<()> {
        let (left, right): (Vec<Expr>, Vec<Expr>) = join.on.iter().cloned().unzip();
        let message = AsofJoinNode {
            left_keys: self.exprs(&left)?,
            right_keys: self.exprs(&right)?,
            left_time: Some(serialize_expr(&join.left_time, self).map_err(proto_err)?),
            right_time: Some(serialize_expr(&join.right_time, self).map_err(proto_err)?),
            backward: join.direction == Direction::Backward,
            inclusive: join.inclusive,
            keep_unmatched: join.keep_unmatched,
        };
        write_tagged(Kind::AsofJoin, &message, buf);
        Ok(())
    }

    fn decode_asof(
        &self,
        body: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<AsofJoin> {
        let m: AsofJoinNode = decode_message(body, "ASOF join")?;
        let [left, right] = inputs else {
            return Err(codec_err("an ASOF join needs two inputs"));
        };
        if m.left_keys.len() != m.right_keys.len() {
            return Err(codec_err("an ASOF join's keys are not in pairs"));
        }
        let on = self
            .parse(&m.left_keys, ctx)?
            .into_iter()
            .zip(self.parse(&m.right_keys, ctx)?)
            .collect();
        let time = |p: Option<&protobuf::LogicalExprNode>, what| -> Result<Expr> {
            parse_expr(required(p, what)?, ctx, self).map_err(proto_err)
        };
        Ok(AsofJoin {
            schema: AsofJoin::output_schema(left.schema(), right.schema())?,
            left: Arc::new(left.clone()),
            right: Arc::new(right.clone()),
            on,
            left_time: time(m.left_time.as_ref(), "the ASOF join's left time")?,
            right_time: time(m.right_time.as_ref(), "the ASOF join's right time")?,
            direction: if m.backward {
                Direction::Backward
            } else {
                Direction::Forward
            },
            inclusive: m.inclusive,
            keep_unmatched: m.keep_unmatched,
        })
    }

    fn encode_match(&self, mr: &MatchRecognize, buf: &mut Vec<u8>) -> Result<()> {
        let shape = MatchShape {
            pattern: mr.pattern.clone(),
            names: mr.names.clone(),
            navs: mr.navs.clone(),
            skip: mr.skip,
            conditions: mr.conditions.iter().map(|c| (c.var, c.row_local)).collect(),
            order: Vec::new(),
        };
        let conditions: Vec<Expr> = mr.conditions.iter().map(|c| c.expr.clone()).collect();
        let message = MatchRecognizeNode {
            shape: shape_json(&shape)?,
            partition_by: self.exprs(&mr.partition_by)?,
            order_by: serialize_sorts(&mr.order_by, self).map_err(proto_err)?,
            conditions: self.exprs(&conditions)?,
        };
        write_tagged(Kind::MatchRecognize, &message, buf);
        Ok(())
    }

    fn decode_match(
        &self,
        body: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<MatchRecognize> {
        let m: MatchRecognizeNode = decode_message(body, "MATCH_RECOGNIZE")?;
        let [input] = inputs else {
            return Err(codec_err("MATCH_RECOGNIZE needs one input"));
        };
        let shape = read_shape(&m.shape)?;
        shape.check(input.schema().fields().len(), m.conditions.len())?;
        let conditions = self
            .parse(&m.conditions, ctx)?
            .into_iter()
            .zip(&shape.conditions)
            .map(|(expr, &(var, row_local))| Condition {
                var,
                expr,
                row_local,
            })
            .collect();
        Ok(MatchRecognize {
            partition_by: self.parse(&m.partition_by, ctx)?,
            order_by: parse_sorts(&m.order_by, ctx, self).map_err(proto_err)?,
            define_schema: Arc::new(MatchRecognize::define_schema(input.schema(), &shape.navs)?),
            schema: MatchRecognize::output_schema(input.schema())?,
            input: Arc::new(input.clone()),
            pattern: shape.pattern,
            names: shape.names,
            conditions,
            navs: shape.navs,
            skip: shape.skip,
        })
    }
}

impl LogicalExtensionCodec for QuiverLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        let Some(tagged) = untag(buf) else {
            return self.inner.try_decode(buf, inputs, ctx);
        };
        let (kind, body) = tagged?;
        let node: Arc<dyn UserDefinedLogicalNode> = match kind {
            Kind::AsofJoin => Arc::new(self.decode_asof(body, inputs, ctx)?),
            Kind::MatchRecognize => Arc::new(self.decode_match(body, inputs, ctx)?),
        };
        Ok(Extension { node })
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        let any = node.node.as_any();
        if let Some(join) = any.downcast_ref::<AsofJoin>() {
            self.encode_asof(join, buf)
        } else if let Some(mr) = any.downcast_ref::<MatchRecognize>() {
            self.encode_match(mr, buf)
        } else {
            self.inner.try_encode(node, buf)
        }
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    delegate_functions!();
}

// ---- physical --------------------------------------------------------------------------

/// A [`PhysicalExtensionCodec`] for Quiver's operators, passing every other operator and
/// function to the codec it wraps.
#[derive(Debug)]
pub struct QuiverPhysicalCodec {
    inner: Arc<dyn PhysicalExtensionCodec>,
}

impl Default for QuiverPhysicalCodec {
    fn default() -> Self {
        Self::wrapping(Arc::new(DefaultPhysicalExtensionCodec {}))
    }
}

/// Writes and reads physical expressions through the converter DataFusion passes in, so
/// nested plans and shared expressions are handled as in the rest of the plan.
struct Exprs<'a> {
    codec: &'a QuiverPhysicalCodec,
    converter: &'a dyn PhysicalProtoConverterExtension,
}

impl Exprs<'_> {
    fn write(&self, e: &Arc<dyn PhysicalExpr>) -> Result<protobuf::PhysicalExprNode> {
        self.converter.physical_expr_to_proto(e, self.codec)
    }

    fn write_all<'e>(
        &self,
        exprs: impl IntoIterator<Item = &'e Arc<dyn PhysicalExpr>>,
    ) -> Result<Vec<protobuf::PhysicalExprNode>> {
        exprs.into_iter().map(|e| self.write(e)).collect()
    }

    fn read(
        &self,
        proto: &protobuf::PhysicalExprNode,
        schema: &Schema,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let decode = PhysicalPlanDecodeContext::new(ctx, self.codec);
        self.converter
            .proto_to_physical_expr(proto, schema, &decode)
    }

    fn read_all(
        &self,
        protos: &[protobuf::PhysicalExprNode],
        schema: &Schema,
        ctx: &TaskContext,
    ) -> Result<Vec<Arc<dyn PhysicalExpr>>> {
        protos.iter().map(|p| self.read(p, schema, ctx)).collect()
    }
}

impl QuiverPhysicalCodec {
    /// Quiver's operators, and `inner` for the rest (a cluster's own codec, say).
    pub fn wrapping(inner: Arc<dyn PhysicalExtensionCodec>) -> Self {
        QuiverPhysicalCodec { inner }
    }

    fn encode_asof(&self, join: &AsofJoinExec, x: &Exprs, buf: &mut Vec<u8>) -> Result<()> {
        let message = AsofJoinExecNode {
            left_keys: x.write_all(join.on.iter().map(|(l, _)| l))?,
            right_keys: x.write_all(join.on.iter().map(|(_, r)| r))?,
            left_time: Some(x.write(&join.left_time)?),
            right_time: Some(x.write(&join.right_time)?),
            backward: join.direction == Direction::Backward,
            inclusive: join.inclusive,
            keep_unmatched: join.keep_unmatched,
            schema: Some(schema_to_proto(&join.schema)?),
        };
        write_tagged(Kind::AsofJoin, &message, buf);
        Ok(())
    }

    fn decode_asof(
        &self,
        body: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        x: &Exprs,
    ) -> Result<AsofJoinExec> {
        let m: AsofJoinExecNode = decode_message(body, "ASOF join")?;
        let [left, right] = inputs else {
            return Err(codec_err("an ASOF join needs two inputs"));
        };
        if m.left_keys.len() != m.right_keys.len() {
            return Err(codec_err("an ASOF join's keys are not in pairs"));
        }
        let (ls, rs) = (left.schema(), right.schema());
        let on = x
            .read_all(&m.left_keys, &ls, ctx)?
            .into_iter()
            .zip(x.read_all(&m.right_keys, &rs, ctx)?)
            .collect();
        let left_time = x.read(required(m.left_time.as_ref(), "left time")?, &ls, ctx)?;
        let right_time = x.read(required(m.right_time.as_ref(), "right time")?, &rs, ctx)?;
        let schema = schema_from_proto(m.schema.as_ref(), "the ASOF join's schema")?;
        if schema.fields().len() != ls.fields().len() + rs.fields().len() {
            return Err(codec_err("an ASOF join's schema does not fit its inputs"));
        }
        Ok(AsofJoinExec::new(
            Arc::clone(left),
            Arc::clone(right),
            on,
            left_time,
            right_time,
            if m.backward {
                Direction::Backward
            } else {
                Direction::Forward
            },
            m.inclusive,
            m.keep_unmatched,
            schema,
        ))
    }

    fn encode_match(&self, mr: &MatchRecognizeExec, x: &Exprs, buf: &mut Vec<u8>) -> Result<()> {
        let shape = MatchShape {
            pattern: mr.pattern.clone(),
            names: mr.names.clone(),
            navs: mr.navs.clone(),
            skip: mr.skip,
            conditions: mr.conditions.iter().map(|c| (c.var, c.row_local)).collect(),
            order: mr
                .order_by
                .iter()
                .map(|s| (s.options.descending, s.options.nulls_first))
                .collect(),
        };
        let message = MatchRecognizeExecNode {
            shape: shape_json(&shape)?,
            partition_by: x.write_all(&mr.partition_by)?,
            order_by: x.write_all(mr.order_by.iter().map(|s| &s.expr))?,
            conditions: x.write_all(mr.conditions.iter().map(|c| &c.expr))?,
            define_schema: Some(schema_to_proto(&mr.define_schema)?),
            schema: Some(schema_to_proto(&mr.schema)?),
        };
        write_tagged(Kind::MatchRecognize, &message, buf);
        Ok(())
    }

    fn decode_match(
        &self,
        body: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        x: &Exprs,
    ) -> Result<MatchRecognizeExec> {
        let m: MatchRecognizeExecNode = decode_message(body, "MATCH_RECOGNIZE")?;
        let [input] = inputs else {
            return Err(codec_err("MATCH_RECOGNIZE needs one input"));
        };
        let shape = read_shape(&m.shape)?;
        let input_schema = input.schema();
        shape.check(input_schema.fields().len(), m.conditions.len())?;
        if shape.order.len() != m.order_by.len() {
            return Err(codec_err(
                "MATCH_RECOGNIZE's ORDER BY keys lack their directions",
            ));
        }
        let define_schema = schema_from_proto(m.define_schema.as_ref(), "the DEFINE schema")?;
        let schema = schema_from_proto(m.schema.as_ref(), "the MATCH_RECOGNIZE schema")?;
        if define_schema.fields().len() != input_schema.fields().len() + shape.navs.len() {
            return Err(codec_err(
                "MATCH_RECOGNIZE's DEFINE schema does not fit its input",
            ));
        }
        let order_by = x
            .read_all(&m.order_by, &input_schema, ctx)?
            .into_iter()
            .zip(&shape.order)
            .map(|(expr, &(descending, nulls_first))| {
                PhysicalSortExpr::new(
                    expr,
                    datafusion::arrow::compute::SortOptions {
                        descending,
                        nulls_first,
                    },
                )
            })
            .collect();
        let conditions = x
            .read_all(&m.conditions, &define_schema, ctx)?
            .into_iter()
            .zip(&shape.conditions)
            .map(|(expr, &(var, row_local))| PhysicalCondition {
                var,
                expr,
                row_local,
            })
            .collect();
        Ok(MatchRecognizeExec::new(
            Arc::clone(input),
            x.read_all(&m.partition_by, &input_schema, ctx)?,
            order_by,
            Arc::new(shape.pattern.compile()?),
            shape.pattern,
            shape.names,
            conditions,
            shape.navs,
            shape.skip,
            define_schema,
            schema,
        ))
    }
}

impl PhysicalExtensionCodec for QuiverPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(tagged) = untag(buf) else {
            return self.inner.try_decode(buf, inputs, ctx, proto_converter);
        };
        let (kind, body) = tagged?;
        let x = Exprs {
            codec: self,
            converter: proto_converter,
        };
        Ok(match kind {
            Kind::AsofJoin => Arc::new(self.decode_asof(body, inputs, ctx, &x)?),
            Kind::MatchRecognize => Arc::new(self.decode_match(body, inputs, ctx, &x)?),
        })
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let x = Exprs {
            codec: self,
            converter: proto_converter,
        };
        if let Some(join) = node.downcast_ref::<AsofJoinExec>() {
            self.encode_asof(join, &x, buf)
        } else if let Some(mr) = node.downcast_ref::<MatchRecognizeExec>() {
            self.encode_match(mr, &x, buf)
        } else {
            self.inner.try_encode(node, buf, proto_converter)
        }
    }

    delegate_functions!();

    fn try_decode_expr(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn PhysicalExpr>],
        ctx: &PhysicalExprDecodeCtx<'_>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        self.inner.try_decode_expr(buf, inputs, ctx)
    }

    fn try_encode_expr(
        &self,
        node: &Arc<dyn PhysicalExpr>,
        buf: &mut Vec<u8>,
        ctx: &PhysicalExprEncodeCtx<'_>,
    ) -> Result<()> {
        self.inner.try_encode_expr(node, buf, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HostConfig, Session};
    use datafusion::arrow::array::RecordBatch;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::physical_plan::{collect, displayable};
    use datafusion_proto::bytes::{
        logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
        physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
    };
    use futures::TryStreamExt;

    const TRADES: &str = "(VALUES ('a', 1, 10.0), ('a', 5, 11.0), ('a', 9, 12.0), \
        ('b', 3, 12.0), ('b', NULL, 1.0), ('c', 2, 1.0)) AS t(sym, ts, px)";
    const QUOTES: &str = "(VALUES ('a', 0, 1.0), ('a', 4, 2.0), ('a', 9, 2.5), \
        ('b', 3, 3.0), (NULL, 1, 9.0)) AS q(sym, ts, bid)";
    /// sqlparser reads MATCH_RECOGNIZE after a table name, so the rows are a CTE.
    const TICKS: &str = "WITH p AS (SELECT * FROM (VALUES ('a', 1, 5), ('a', 2, 3), \
        ('a', 3, 2), ('a', 4, 6), ('a', 5, 9), ('a', 6, 1), ('a', 7, 8), ('b', 1, 2), \
        ('b', 2, 1), ('b', 3, 7)) AS t(sym, ts, v))";

    fn queries() -> Vec<String> {
        vec![
            format!(
                "SELECT t.sym, t.ts, t.px, q.bid FROM {TRADES} ASOF JOIN {QUOTES} \
                 MATCH_CONDITION (t.ts >= q.ts) ON t.sym = q.sym"
            ),
            format!(
                "SELECT t.sym, t.ts, q.ts AS qts FROM {TRADES} ASOF JOIN {QUOTES} \
                 ON t.ts < q.ts"
            ),
            format!(
                "{TICKS} SELECT * FROM p MATCH_RECOGNIZE (PARTITION BY sym ORDER BY ts \
                 MEASURES FIRST(x.ts) AS t1, LAST(z.ts) AS t2, count(*) AS n, sum(y.v) AS s \
                 ONE ROW PER MATCH PATTERN (x y+? z) \
                 DEFINE y AS v < PREV(v), z AS v > x.v AND ts <= x.ts + 4)"
            ),
            format!(
                "{TICKS} SELECT * FROM p MATCH_RECOGNIZE (ORDER BY ts DESC, sym \
                 MEASURES LAST(a.v) AS v, count(*) AS n AFTER MATCH SKIP TO NEXT ROW \
                 PATTERN (a{{2,3}} | b) DEFINE a AS v > 2, b AS FIRST(a.v) IS NULL)"
            ),
        ]
    }

    async fn plan(s: &Session, sql: &str) -> LogicalPlan {
        let statement = s.statements(sql).unwrap().remove(0);
        s.plan(statement).await.unwrap()
    }

    /// The rows as a table sorted line by line, so partition order does not matter.
    fn rows(batches: &[RecordBatch]) -> (usize, String) {
        let n = batches.iter().map(|b| b.num_rows()).sum();
        let text = pretty_format_batches(batches).unwrap().to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        (n, lines.join("\n"))
    }

    #[tokio::test]
    async fn logical_nodes_survive_a_round_trip() {
        let s = Session::new(HostConfig::default()).unwrap();
        let codec = QuiverLogicalCodec::default();
        let task = s.context().task_ctx();
        for sql in queries() {
            let original = plan(&s, &sql).await;
            let bytes = logical_plan_to_bytes_with_extension_codec(&original, &codec).unwrap();
            let decoded =
                logical_plan_from_bytes_with_extension_codec(&bytes, &task, &codec).unwrap();
            assert_eq!(
                original.display_indent_schema().to_string(),
                decoded.display_indent_schema().to_string(),
                "{sql}"
            );
            let want: Vec<_> = s
                .execute(original)
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            let got: Vec<_> = s
                .execute(decoded)
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            let (n, want) = rows(&want);
            assert!(n > 0, "{sql}: the query should answer rows");
            assert_eq!(want, rows(&got).1, "{sql}");
        }
    }

    #[tokio::test]
    async fn operators_survive_a_round_trip() {
        let s = Session::new(HostConfig::default()).unwrap();
        let codec = QuiverPhysicalCodec::default();
        let task = s.context().task_ctx();
        for sql in queries() {
            let logical = plan(&s, &sql).await;
            let original = s.state().create_physical_plan(&logical).await.unwrap();
            let shown = displayable(original.as_ref()).indent(true).to_string();
            assert!(
                shown.contains("AsofJoinExec") || shown.contains("MatchRecognizeExec"),
                "{shown}"
            );
            let bytes =
                physical_plan_to_bytes_with_extension_codec(Arc::clone(&original), &codec).unwrap();
            let decoded =
                physical_plan_from_bytes_with_extension_codec(&bytes, &task, &codec).unwrap();
            assert_eq!(
                shown,
                displayable(decoded.as_ref()).indent(true).to_string(),
                "{sql}"
            );
            let want = collect(original, Arc::clone(&task)).await.unwrap();
            let got = collect(decoded, Arc::clone(&task)).await.unwrap();
            let (n, want) = rows(&want);
            assert!(n > 0, "{sql}: the query should answer rows");
            assert_eq!(want, rows(&got).1, "{sql}");
        }
    }

    #[tokio::test]
    async fn other_nodes_go_to_the_wrapped_codec() {
        let s = Session::new(HostConfig::default()).unwrap();
        let logical = plan(&s, &queries()[0]).await;
        let physical = s.state().create_physical_plan(&logical).await.unwrap();
        // DataFusion's own codec alone cannot carry Quiver's operator, and says so.
        let err = physical_plan_to_bytes_with_extension_codec(
            physical,
            &DefaultPhysicalExtensionCodec {},
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("not provided"), "{err}");
        // Bytes without Quiver's tag are handed to the wrapped codec, whose error shows.
        let task = s.context().task_ctx();
        let err = QuiverLogicalCodec::default()
            .try_decode(b"not quiver", &[], &task)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("LogicalExtensionCodec is not provided"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn corrupt_nodes_are_errors() {
        let s = Session::new(HostConfig::default()).unwrap();
        let task = s.context().task_ctx();
        let codec = QuiverLogicalCodec::default();
        let input = plan(&s, "SELECT 1 AS x").await;
        let decode = |buf: &[u8]| {
            codec
                .try_decode(buf, std::slice::from_ref(&input), &task)
                .unwrap_err()
                .to_string()
        };
        assert!(decode(b"QVR\x01").contains("end after the tag"));
        assert!(decode(b"QVR\x01\x09").contains("unknown node kind 9"));
        assert!(decode(b"QVR\x01\x02\xff\xff").contains("malformed MATCH_RECOGNIZE"));
        // An ASOF join with one input.
        let mut buf = Vec::new();
        write_tagged(Kind::AsofJoin, &AsofJoinNode::default(), &mut buf);
        assert!(decode(&buf).contains("needs two inputs"));

        // A pattern naming a variable that has no name, and a navigation past the input.
        let bad = |shape: MatchShape| {
            let message = MatchRecognizeNode {
                shape: shape_json(&shape).unwrap(),
                ..Default::default()
            };
            let mut buf = Vec::new();
            write_tagged(Kind::MatchRecognize, &message, &mut buf);
            decode(&buf)
        };
        let shape = || MatchShape {
            pattern: Pattern::Var(0),
            names: vec!["a".into()],
            navs: Vec::new(),
            skip: Skip::PastLastRow,
            conditions: Vec::new(),
            order: Vec::new(),
        };
        assert!(
            bad(MatchShape {
                pattern: Pattern::Concat(vec![Pattern::Var(0), Pattern::Var(3)]),
                ..shape()
            })
            .contains("undefined variable")
        );
        let nav = Nav {
            anchor: Anchor::Current,
            offset: -1,
            column: 7,
        };
        assert!(
            bad(MatchShape {
                navs: vec![nav],
                ..shape()
            })
            .contains("does not exist")
        );
        assert!(
            bad(MatchShape {
                conditions: vec![(0, true)],
                ..shape()
            })
            .contains("do not match")
        );
    }
}
