//! Shared-memory rings in SQL, for every frontend that runs SQL through the router:
//!
//! - `SELECT ... FROM read_shm('ticks')` reads the frames in the ring now (a bounded table);
//!   `read_shm('ticks', follow => true)` is an unbounded streaming table that ends when the
//!   writer closes the ring. Options: `start => 'oldest' | 'latest' | <seq>`,
//!   `timeout => '5s'` (how long planning waits for a first frame to learn the schema),
//!   `copy => false` (read zero-copy: batches pin their ring slots until dropped; the default
//!   copies, so a kept result never stalls the writer), `on_schema_change => 'error' |
//!   'stop'`.
//! - `COPY (SELECT ...) TO 'shm://ticks' OPTIONS (size '256MiB', slots 8, policy 'block')` streams a
//!   query into a ring (creating it, or taking over one whose writer is gone) and closes the
//!   ring when the query ends.
//!
//! Frames are read on their own thread and handed to DataFusion as they arrive. With
//! `copy => false` their batches point into the ring (pinned) until DataFusion drops them,
//! and a reader holding half the ring's slots copies further frames out.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::sql::parser::{CopyToSource, CopyToStatement, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, TableAlias, TableFactor, Value,
    VisitorMut,
};
use futures::StreamExt;
use quiver_engine::Session;
use quiver_engine::sources::visit_statement;
use quiver_shm::{Policy, Reader, ReaderOptions, Recv, RingOptions, Start, Writer};

use crate::{Error, Result};

/// The scheme of ring targets in `COPY ... TO`.
pub const SCHEME: &str = "shm://";

#[derive(Clone, Debug)]
struct ShmCall {
    ring: String,
    follow: bool,
    start: Start,
    timeout: Duration,
    copy: bool,
    stop_on_schema_change: bool,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::invalid("read_shm", reason)
}

fn text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.clone()),
            Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        },
        Expr::Identifier(i) => Some(i.value.clone()),
        _ => None,
    }
}

fn parse_bool(name: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(format!(
            "option '{name}' takes true or false, got '{v}'"
        ))),
    }
}

fn parse_call(args: &[FunctionArg]) -> Result<ShmCall> {
    let mut call = ShmCall {
        ring: String::new(),
        follow: false,
        start: Start::Oldest,
        timeout: Duration::from_secs(5),
        // A query's result may live long (a table kept in Python): by default it holds
        // copies, so it never pins ring slots and stalls the writer. `copy => false` reads
        // zero-copy, pinning slots until the batches are dropped.
        copy: true,
        stop_on_schema_change: false,
    };
    for arg in args {
        let (name, expr) = match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if call.ring.is_empty() => {
                call.ring = text(e).ok_or_else(|| {
                    bad("the ring name must be a string, as in read_shm('ticks')")
                })?;
                continue;
            }
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (name.value.to_ascii_lowercase(), e),
            FunctionArg::ExprNamed {
                name: Expr::Identifier(name),
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (name.value.to_ascii_lowercase(), e),
            other => return Err(bad(format!("unsupported argument {other}"))),
        };
        let value = text(expr).ok_or_else(|| bad(format!("option '{name}' must be a literal")))?;
        match name.as_str() {
            "follow" => call.follow = parse_bool(&name, &value)?,
            "copy" => call.copy = parse_bool(&name, &value)?,
            "start" => call.start = value.parse().map_err(bad)?,
            "timeout" => {
                call.timeout = humantime::parse_duration(&value)
                    .map_err(|e| bad(format!("option 'timeout': {e} (try '5s')")))?
            }
            "on_schema_change" => {
                call.stop_on_schema_change = match value.as_str() {
                    "error" => false,
                    "stop" => true,
                    v => {
                        return Err(bad(format!(
                            "on_schema_change takes 'error' or 'stop', got '{v}'"
                        )));
                    }
                }
            }
            other => {
                return Err(bad(format!(
                    "unknown option '{other}' (options: follow, start, timeout, copy, on_schema_change)"
                )));
            }
        }
    }
    if call.ring.is_empty() {
        return Err(bad("needs a ring name, as in read_shm('ticks')"));
    }
    Ok(call)
}

#[derive(Default)]
struct Rewriter {
    calls: Vec<(String, ShmCall)>,
    error: Option<Error>,
}

impl VisitorMut for Rewriter {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name, alias, args, ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        if args.is_none() || !name.to_string().eq_ignore_ascii_case("read_shm") {
            return ControlFlow::Continue(());
        }
        match parse_call(&args.as_ref().expect("checked").args) {
            Ok(call) => {
                let table = format!("__quiver_shm_{}_{}", std::process::id(), self.calls.len());
                *name = ObjectName::from(vec![Ident::with_quote('"', table.clone())]);
                *args = None;
                if alias.is_none() {
                    *alias = Some(TableAlias {
                        explicit: true,
                        name: Ident::new("read_shm"),
                        columns: vec![],
                        at: None,
                    });
                }
                self.calls.push((table, call));
                ControlFlow::Continue(())
            }
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// Tables registered for one statement's `read_shm` calls; removed when dropped.
pub(crate) struct ShmTables {
    session: Session,
    names: Vec<String>,
}

impl Drop for ShmTables {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = self.session.deregister_table(name);
        }
    }
}

/// Replaces each `read_shm(...)` in `statement` by a table over the ring, registered in
/// `session` until the returned guard drops (after planning: the plan holds the tables).
pub(crate) async fn bind_read_shm(
    session: &Session,
    statement: &mut DFStatement,
) -> Result<ShmTables> {
    let mut rewriter = Rewriter::default();
    visit_statement(statement, &mut rewriter);
    if let Some(e) = rewriter.error {
        return Err(e);
    }
    let mut tables = ShmTables {
        session: session.clone(),
        names: Vec::new(),
    };
    for (name, call) in rewriter.calls {
        let schema = {
            let call = call.clone();
            tokio::task::spawn_blocking(move || ring_schema(&call))
                .await
                .map_err(|e| bad(format!("schema lookup failed: {e}")))??
        };
        let partition = Arc::new(RingPartition {
            schema: schema.clone(),
            call: call.clone(),
        });
        let table = StreamingTable::try_new(schema, vec![partition])
            .map_err(|e| Error::Engine(quiver_engine::Error::from_datafusion(e)))?
            .with_infinite_table(call.follow);
        session.register_table(&name, Arc::new(table))?;
        tables.names.push(name);
    }
    Ok(tables)
}

/// The schema of the ring's next frame, which a scan fixes for its whole run.
fn ring_schema(call: &ShmCall) -> Result<SchemaRef> {
    let mut reader = Reader::open(&call.ring, ReaderOptions::default().start(call.start))?;
    let wait = if call.follow {
        Some(call.timeout)
    } else {
        Some(Duration::ZERO)
    };
    match reader.peek_schema(wait)? {
        Some(schema) => Ok(schema),
        None => Err(bad(format!(
            "ring '{}' has no frame to read{}, so its schema is unknown; write to it first{}",
            call.ring,
            if call.follow {
                format!(" after waiting {:?}", call.timeout)
            } else {
                String::new()
            },
            if call.follow {
                ""
            } else {
                " or use follow => true"
            }
        ))),
    }
}

#[derive(Debug)]
struct RingPartition {
    schema: SchemaRef,
    call: ShmCall,
}

impl std::fmt::Debug for ShmTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.names).finish()
    }
}

impl PartitionStream for RingPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch, DataFusionError>>(2);
        let call = self.call.clone();
        let schema = self.schema.clone();
        std::thread::Builder::new()
            .name(format!("read_shm {}", call.ring))
            .spawn(move || pump(call, schema, tx))
            .expect("spawn the ring reader thread");
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

/// Reads frames on its own thread (waits block) and sends their batches to the scan.
fn pump(
    call: ShmCall,
    schema: SchemaRef,
    tx: tokio::sync::mpsc::Sender<Result<RecordBatch, DataFusionError>>,
) {
    let fail = |e: quiver_shm::Error| {
        let _ = tx.blocking_send(Err(DataFusionError::External(Box::new(e))));
    };
    let mut reader = match Reader::open(
        &call.ring,
        ReaderOptions::default().start(call.start).copy(call.copy),
    ) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let end = if call.follow {
        u64::MAX
    } else {
        reader.published()
    };
    while reader.cursor() < end {
        match reader.recv(Some(Duration::from_millis(100))) {
            Ok(Recv::Frame(frame)) => {
                if frame.schema.fields() != schema.fields() {
                    if call.stop_on_schema_change {
                        return;
                    }
                    return fail(quiver_shm::Error::SchemaChanged {
                        ring: call.ring.clone(),
                        seq: frame.seq,
                    });
                }
                for batch in frame.batches {
                    // The planned schema (same fields), so every batch matches the scan's.
                    let Ok(batch) = batch.with_schema(schema.clone()) else {
                        return fail(quiver_shm::Error::SchemaChanged {
                            ring: call.ring.clone(),
                            seq: frame.seq,
                        });
                    };
                    if tx.blocking_send(Ok(batch)).is_err() {
                        return; // the query ended (LIMIT, cancel)
                    }
                }
            }
            Ok(Recv::TimedOut) => {
                if tx.is_closed() {
                    return;
                }
            }
            Ok(Recv::Closed) => return,
            Err(quiver_shm::Error::Lagged { missed, .. }) => {
                log::warn!(
                    "read_shm('{}'): fell behind the writer; {missed} frame(s) were overwritten unread",
                    call.ring
                );
            }
            Err(e) => return fail(e),
        }
    }
}

/// Whether `copy` writes to a ring.
pub(crate) fn is_shm_target(copy: &CopyToStatement) -> bool {
    copy.target.starts_with(SCHEME)
}

fn copy_option(key: &str, value: &Value) -> Result<String> {
    match value {
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Ok(s.clone()),
        Value::Number(n, _) => Ok(n.clone()),
        Value::Boolean(b) => Ok(b.to_string()),
        other => Err(Error::invalid(
            "COPY",
            format!("option '{key}': unsupported value {other}"),
        )),
    }
}

/// `COPY (query) TO 'shm://ring' (options)`: streams the query's batches into the ring and
/// closes it; returns one row (ring, frames, rows).
pub(crate) async fn copy_to_ring(session: &Session, copy: CopyToStatement) -> Result<RecordBatch> {
    let ring = copy.target[SCHEME.len()..]
        .trim_end_matches('/')
        .to_string();
    let mut opts = RingOptions::default();
    let mut shaped = false;
    let mut write_timeout = Duration::from_secs(30);
    for (key, value) in &copy.options {
        let key = key.to_ascii_lowercase();
        let v = copy_option(&key, value)?;
        let invalid = |reason: String| Error::invalid("COPY", format!("option '{key}': {reason}"));
        match key.as_str() {
            "size" => {
                opts.size = crate::host::parse_size(&v).map_err(invalid)? as u64;
                shaped = true;
            }
            "slots" => {
                opts.slots = v
                    .parse()
                    .map_err(|_| invalid(format!("'{v}' is not a count")))?;
                shaped = true;
            }
            "policy" => {
                opts.policy = v.parse::<Policy>().map_err(invalid)?;
                shaped = true;
            }
            "max_readers" => {
                opts.max_readers = v
                    .parse()
                    .map_err(|_| invalid(format!("'{v}' is not a count")))?;
                shaped = true;
            }
            "checksum" => {
                opts.checksum = parse_bool(&key, &v)
                    .map_err(|_| invalid(format!("'{v}' is not true or false")))?;
                shaped = true;
            }
            "write_timeout" => {
                write_timeout =
                    humantime::parse_duration(&v).map_err(|e| invalid(e.to_string()))?;
            }
            other => {
                return Err(Error::invalid(
                    "COPY",
                    format!(
                        "unknown option '{other}' for a ring (size, slots, policy, max_readers, checksum, write_timeout)"
                    ),
                ));
            }
        }
    }
    // Without shape options, a ring that exists keeps its shape when this writer takes it over.
    opts.adopt_existing = !shaped;
    let query = match copy.source {
        CopyToSource::Query(q) => DFStatement::Statement(Box::new(
            datafusion::sql::sqlparser::ast::Statement::Query(q),
        )),
        CopyToSource::Relation(name) => session
            .statements(&format!("SELECT * FROM {name}"))?
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid("COPY", "empty source"))?,
    };
    let mut query = query;
    let _tables = bind_read_shm(session, &mut query).await?;
    let plan = session.plan(query).await?;
    let mut stream = session.execute(plan).await?;

    let name = ring.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<RecordBatch>(4);
    let writer = tokio::task::spawn_blocking(move || -> Result<(u64, u64)> {
        let mut w = Writer::create(&name, opts)?.with_write_timeout(write_timeout);
        let first = w.next_seq();
        let mut rows = 0u64;
        while let Some(batch) = rx.blocking_recv() {
            // Whatever else is already waiting goes into the same frames.
            let mut chunk = vec![batch];
            while let Ok(more) = rx.try_recv() {
                chunk.push(more);
            }
            rows += chunk.iter().map(|b| b.num_rows() as u64).sum::<u64>();
            w.write_batches(&chunk)?;
        }
        let frames = w.next_seq() - first;
        w.close()?;
        Ok((frames, rows))
    });
    let mut query_error = None;
    while let Some(batch) = stream.next().await {
        match batch {
            Ok(b) if b.num_rows() == 0 => {}
            Ok(b) => {
                if tx.send(b).await.is_err() {
                    break; // the writer failed; its error is reported below
                }
            }
            Err(e) => {
                query_error = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| Error::invalid("COPY", format!("the ring writer stopped: {e}")))?;
    if let Some(e) = query_error {
        return Err(Error::Engine(quiver_engine::Error::from_datafusion(e)));
    }
    let (frames, rows) = written?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("ring", DataType::Utf8, false),
        Field::new("frames", DataType::UInt64, false),
        Field::new("rows", DataType::UInt64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![ring])),
            Arc::new(UInt64Array::from(vec![frames])),
            Arc::new(UInt64Array::from(vec![rows])),
        ],
    )
    .map_err(|e| Error::Engine(quiver_engine::Error::from_datafusion(e.into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    #[test]
    fn read_shm_calls_are_parsed_with_their_options() {
        let mut s = DFParser::parse_sql(
            "SELECT * FROM read_shm('ticks', follow => true, start => 'latest', timeout => '2s') t JOIN read_shm('q') ON true",
        )
        .unwrap()
        .pop_front()
        .unwrap();
        let mut r = Rewriter::default();
        visit_statement(&mut s, &mut r);
        assert!(r.error.is_none());
        assert_eq!(r.calls.len(), 2);
        let (_, a) = &r.calls[0];
        assert_eq!(a.ring, "ticks");
        assert!(a.follow);
        assert_eq!(a.start, Start::Latest);
        assert_eq!(a.timeout, Duration::from_secs(2));
        assert!(!r.calls[1].1.follow);
        assert!(s.to_string().contains("__quiver_shm_"), "{s}");

        let mut s = DFParser::parse_sql("SELECT * FROM read_shm('x', speed => 3)")
            .unwrap()
            .pop_front()
            .unwrap();
        let mut r = Rewriter::default();
        visit_statement(&mut s, &mut r);
        assert!(
            r.error
                .unwrap()
                .to_string()
                .contains("unknown option 'speed'")
        );
    }
}
