//! Shared-memory rings through SQL: `COPY ... TO 'shm://'`, `read_shm` bounded and followed,
//! a sort over a ring, and what DataFusion refuses over an unbounded ring.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Int64Array, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use quiver::run::Router;
use quiver_shm::{Policy, RingOptions, Writer};

use crate::common;

struct Ring(String);

impl Ring {
    fn new(test: &str) -> Ring {
        let name = format!("it-{}-{test}", std::process::id());
        let _ = quiver_shm::admin::remove(&name, true);
        Ring(name)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let _ = quiver_shm::admin::remove(&self.0, true);
    }
}

fn router() -> Router {
    Router::new(common::session(2), Default::default())
}

fn ints(batches: &[RecordBatch], col: usize) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            b.column(col)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("int64")
                .values()
                .to_vec()
        })
        .collect()
}

fn batch(from: i64, rows: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    RecordBatch::try_new(
        schema,
        vec![Arc::new(Int64Array::from_iter_values(from..from + rows))],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_a_ring_then_query_it() {
    let ring = Ring::new("copy");
    let r = router();
    let out = r
        .run(&format!(
            "COPY (SELECT x AS id, x % 3 AS g FROM generate_series(1, 50000) t(x)) TO 'shm://{}' OPTIONS (size '16MiB', slots 16)",
            ring.0
        ))
        .await
        .unwrap();
    let rows = out[0]
        .column(2)
        .as_any()
        .downcast_ref::<UInt64Array>()
        .unwrap()
        .value(0);
    assert_eq!(rows, 50_000);
    let got = r
        .run(&format!(
            "SELECT count(*) AS n, sum(id) AS s FROM read_shm('{}')",
            ring.0
        ))
        .await
        .unwrap();
    assert_eq!(ints(&got, 0), vec![50_000]);
    assert_eq!(ints(&got, 1), vec![50_000 * 50_001 / 2]);
    // A live writer owns the name: a second COPY is refused, naming it.
    let owned = Ring::new("owned");
    let w = Writer::create(&owned.0, RingOptions::default().size(1 << 20).slots(2)).unwrap();
    let err = r
        .run(&format!("COPY (SELECT 1 AS x) TO 'shm://{}'", w.name()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("already exists") && err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_ring_streams_until_the_writer_closes_it_and_a_sort_over_it_is_refused() {
    let ring = Ring::new("follow");
    let mut w = Writer::create(
        &ring.0,
        RingOptions::default()
            .size(4 << 20)
            .slots(4)
            .policy(Policy::Block),
    )
    .unwrap();
    w.write(&batch(0, 100)).unwrap();
    let name = ring.0.clone();
    let reading = ring.0.clone();
    let writer = std::thread::spawn(move || {
        // The query's reader attaches and reads the first frame; frames keep coming after
        // that, and the block policy waits for it.
        while !quiver_shm::admin::status(&name)
            .unwrap()
            .readers
            .iter()
            .any(|r| r.alive && r.read > 0)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        for k in 1..40 {
            std::thread::sleep(Duration::from_millis(2));
            w.write(&batch(k * 100, 100)).unwrap();
        }
        w.close().unwrap();
    });
    let r = router();
    let got = r
        .run(&format!(
            "SELECT id FROM read_shm('{reading}', follow => true, copy => false) WHERE id % 100 = 99"
        ))
        .await
        .unwrap();
    writer.join().unwrap();
    // Every frame's rows arrive (in no particular order: the filter runs in partitions).
    let mut ids = ints(&got, 0);
    ids.sort();
    assert_eq!(ids, (0..40).map(|k| k * 100 + 99).collect::<Vec<_>>());

    let err = r
        .run(&format!(
            "SELECT id FROM read_shm('{reading}', follow => true) ORDER BY id"
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.to_lowercase().contains("pipeline"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sort_over_a_ring_keeps_its_batches_without_stalling_the_writer() {
    let ring = Ring::new("sort");
    let mut w = Writer::create(&ring.0, RingOptions::default().size(4 << 20).slots(4))
        .unwrap()
        .with_write_timeout(Duration::from_secs(20));
    for k in 0..4 {
        w.write(&batch(k * 1000, 1000)).unwrap();
    }
    let r = router();
    // Zero-copy: the sort holds every batch; past two pinned slots the reader copies.
    let plan = r
        .plan(
            r.session()
                .statements(&format!(
                    "SELECT id FROM read_shm('{}', copy => false) ORDER BY id DESC",
                    ring.0
                ))
                .unwrap()
                .remove(0),
        )
        .await
        .unwrap();
    let stream = r.session().execute(plan).await.unwrap();
    let got: Vec<RecordBatch> = futures::TryStreamExt::try_collect(stream).await.unwrap();
    assert_eq!(common::rows(&got), 4000);
    assert_eq!(ints(&got, 0)[0], 3999);
    let status = quiver_shm::admin::status(&ring.0).unwrap();
    let pinned: u32 = status.readers.iter().map(|r| r.pinned).sum();
    assert!(pinned <= 2, "the sort pinned {pinned} of 4 slots");
    // The writer goes on: the finished reader holds no cursor, and at most half the slots.
    w.write(&batch(4000, 10)).unwrap();
    drop(got);
    for k in 0..4 {
        w.write(&batch(5000 + k, 1)).unwrap();
    }
    assert!(
        quiver_shm::admin::status(&ring.0)
            .unwrap()
            .readers
            .is_empty(),
        "the reader's record went with its last batch"
    );
}
