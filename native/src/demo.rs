//! `quiver demo`: builds a small sample dataset and takes a tour of the engine on it.
//!
//! Everything is generated here (no download): three months of taxi-like trips as Parquet in
//! hive-style `month=YYYY-MM` folders, a zone lookup table as CSV, and daily weather as an
//! Arrow IPC file, and an hour of trades and quotes for three symbols as Parquet. The tour
//! queries them by path, joins across formats, uses the partition column, matches trades
//! with quotes (ASOF JOIN) and finds order patterns (MATCH_RECOGNIZE), writes a result in
//! another format, and keeps trips in a Delta table that it changes and reads back at its
//! earlier versions.
//!
//! Each step runs through the same [`Runner`] as `quiver -c`, so the demo shows exactly what
//! a user typing the statement would see, tables fitted to the terminal included.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use quiver_engine::Session;
use quiver_engine::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use quiver_engine::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use quiver_engine::arrow::ipc::writer::FileWriter;
use quiver_engine::arrow::record_batch::RecordBatch;
use quiver_engine::output::Format;
use quiver_engine::parquet::arrow::ArrowWriter;
use tokio::runtime::Runtime;

use crate::cli::{Runner, fail};

const ZONES: &[(&str, &str)] = &[
    ("Harbor", "Dockside"),
    ("Old Town", "Center"),
    ("University", "North"),
    ("Airport", "East"),
    ("Riverside", "Dockside"),
    ("Market", "Center"),
    ("Hillcrest", "North"),
    ("Station", "Center"),
    ("Lakeshore", "East"),
    ("Industrial", "Dockside"),
    ("Museum Mile", "Center"),
    ("Stadium", "North"),
];

/// A small deterministic generator, so every demo shows the same numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const DAY_MICROS: i64 = 86_400_000_000;
/// 2026-01-01 in days since the epoch.
const FIRST_DAY: i32 = 20_454;

fn write_sample(dir: &Path) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut rng = Rng(0x5eed_cafe_f00d);

    // Weather: 90 days, Arrow IPC.
    let days: Vec<i32> = (0..90).map(|d| FIRST_DAY + d).collect();
    let rain: Vec<f64> = days
        .iter()
        .map(|_| {
            if rng.unit() < 0.3 {
                (rng.unit() * 20.0 * 10.0).round() / 10.0
            } else {
                0.0
            }
        })
        .collect();
    let temp: Vec<f64> = days
        .iter()
        .enumerate()
        .map(|(i, _)| ((2.0 + i as f64 * 0.12 + rng.unit() * 6.0) * 10.0).round() / 10.0)
        .collect();
    let weather = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("day", DataType::Date32, false),
            Field::new("temp_c", DataType::Float64, false),
            Field::new("rain_mm", DataType::Float64, false),
        ])),
        vec![
            Arc::new(Date32Array::from(days.clone())),
            Arc::new(Float64Array::from(temp)),
            Arc::new(Float64Array::from(rain.clone())),
        ],
    )
    .map_err(|e| err(&e))?;
    let file = std::fs::File::create(dir.join("weather.arrow")).map_err(|e| err(&e))?;
    let mut w = FileWriter::try_new(file, &weather.schema()).map_err(|e| err(&e))?;
    w.write(&weather).map_err(|e| err(&e))?;
    w.finish().map_err(|e| err(&e))?;

    // Zones: CSV.
    let mut csv = String::from("zone_id,zone,borough\n");
    for (i, (zone, borough)) in ZONES.iter().enumerate() {
        csv.push_str(&format!("{},{zone},{borough}\n", i + 1));
    }
    std::fs::write(dir.join("zones.csv"), csv).map_err(|e| err(&e))?;

    // Trips: Parquet, one folder per month.
    let schema = Arc::new(Schema::new(vec![
        Field::new("trip_id", DataType::Int64, false),
        Field::new(
            "pickup_at",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("zone_id", DataType::Int32, false),
        Field::new("distance_km", DataType::Float64, false),
        Field::new("fare", DataType::Float64, false),
        Field::new("payment", DataType::Utf8, false),
    ]));
    let mut trip_id = 0i64;
    for (month, (first, last)) in [
        ("2026-01", (0, 31)),
        ("2026-02", (31, 59)),
        ("2026-03", (59, 90)),
    ] {
        let (mut ids, mut at, mut zone, mut dist, mut fare, mut pay) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for day in first..last {
            let rainy = rain[day as usize] > 0.0;
            let n = if rainy { 700 } else { 500 } + (rng.next() % 100) as usize;
            for _ in 0..n {
                trip_id += 1;
                let z = (rng.next() % ZONES.len() as u64) as i32 + 1;
                let km = ((0.5 + rng.unit().powi(2) * 25.0) * 10.0).round() / 10.0;
                let surge = if rainy { 1.25 } else { 1.0 };
                ids.push(trip_id);
                at.push(
                    (i64::from(FIRST_DAY) + i64::from(day)) * DAY_MICROS
                        + (rng.next() % DAY_MICROS as u64) as i64,
                );
                zone.push(z);
                dist.push(km);
                fare.push(((3.0 + km * 1.8) * surge * 100.0).round() / 100.0);
                pay.push(if rng.unit() < 0.8 { "card" } else { "cash" });
            }
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(TimestampMicrosecondArray::from(at)),
            Arc::new(Int32Array::from(zone)),
            Arc::new(Float64Array::from(dist)),
            Arc::new(Float64Array::from(fare)),
            Arc::new(StringArray::from(pay)),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns).map_err(|e| err(&e))?;
        let folder = dir.join("trips").join(format!("month={month}"));
        std::fs::create_dir_all(&folder).map_err(|e| err(&e))?;
        let file = std::fs::File::create(folder.join("part-0.parquet")).map_err(|e| err(&e))?;
        let mut w = ArrowWriter::try_new(file, Arc::clone(&schema), None).map_err(|e| err(&e))?;
        w.write(&batch).map_err(|e| err(&e))?;
        w.close().map_err(|e| err(&e))?;
    }
    write_market(dir, &mut rng)
}

/// An hour of market data for three symbols: quotes (bid/ask) every few seconds, and trades
/// at random moments near the quote in force, mostly small with a few large ones.
fn write_market(dir: &Path, rng: &mut Rng) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    // 2026-03-02 09:30:00, the market's open.
    let open = (i64::from(FIRST_DAY) + 60) * DAY_MICROS + (9 * 3600 + 1800) * 1_000_000;
    let hour = 3_600_000_000i64;
    let (mut q_sym, mut q_ts, mut bid, mut ask) = (vec![], vec![], vec![], vec![]);
    let (mut t_sym, mut t_ts, mut price, mut size) = (vec![], vec![], vec![], vec![]);
    for (sym, start) in [("ACME", 42.0), ("BOLT", 17.5), ("CRUX", 103.0)] {
        let mut mid: f64 = start;
        let mut ts = open;
        let mut quotes = vec![];
        while ts < open + hour {
            mid = (mid * (1.0 + (rng.unit() - 0.5) * 0.002) * 100.0).round() / 100.0;
            quotes.push((ts, mid));
            q_sym.push(sym);
            q_ts.push(ts);
            bid.push(mid - 0.01);
            ask.push(mid + 0.01);
            ts += 1_000_000 + (rng.next() % 4_000_000) as i64;
        }
        for _ in 0..1500 {
            let at = open + (rng.next() % hour as u64) as i64;
            // The quote in force: the last one at or before the trade.
            let i = quotes.partition_point(|(t, _)| *t <= at).max(1) - 1;
            t_sym.push(sym);
            t_ts.push(at);
            price.push(((quotes[i].1 + (rng.unit() - 0.5) * 0.04) * 100.0).round() / 100.0);
            size.push(if rng.unit() < 0.08 {
                1000 + (rng.next() % 4000) as i64
            } else {
                1 + (rng.next() % 300) as i64
            });
        }
    }
    let ts_field = |name| {
        Field::new(
            name,
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        )
    };
    let quotes = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("sym", DataType::Utf8, false),
            ts_field("ts"),
            Field::new("bid", DataType::Float64, false),
            Field::new("ask", DataType::Float64, false),
        ])),
        vec![
            Arc::new(StringArray::from(q_sym)),
            Arc::new(TimestampMicrosecondArray::from(q_ts)),
            Arc::new(Float64Array::from(bid)),
            Arc::new(Float64Array::from(ask)),
        ],
    )
    .map_err(|e| err(&e))?;
    let trades = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("sym", DataType::Utf8, false),
            ts_field("ts"),
            Field::new("price", DataType::Float64, false),
            Field::new("size", DataType::Int64, false),
        ])),
        vec![
            Arc::new(StringArray::from(t_sym)),
            Arc::new(TimestampMicrosecondArray::from(t_ts)),
            Arc::new(Float64Array::from(price)),
            Arc::new(Int64Array::from(size)),
        ],
    )
    .map_err(|e| err(&e))?;
    for (name, batch) in [("quotes", quotes), ("trades", trades)] {
        let file =
            std::fs::File::create(dir.join(format!("{name}.parquet"))).map_err(|e| err(&e))?;
        let mut w = ArrowWriter::try_new(file, batch.schema(), None).map_err(|e| err(&e))?;
        w.write(&batch).map_err(|e| err(&e))?;
        w.close().map_err(|e| err(&e))?;
    }
    Ok(())
}

/// A step of the tour: what it shows, and its SQL with `$DEMO` for the sample folder.
struct Step {
    title: &'static str,
    sql: &'static str,
}

const TOUR: &[Step] = &[
    Step {
        title: "Query a folder of Parquet files by path; month=... folders become a column",
        sql: "SELECT month, count(*) AS trips, round(sum(fare), 2) AS revenue
FROM '$DEMO/trips/'
GROUP BY month ORDER BY month",
    },
    Step {
        title: "Join Parquet with a CSV lookup table",
        sql: "SELECT z.borough, count(*) AS trips, round(avg(t.distance_km), 2) AS avg_km
FROM '$DEMO/trips/' t JOIN '$DEMO/zones.csv' z USING (zone_id)
GROUP BY z.borough ORDER BY trips DESC",
    },
    Step {
        title: "Join with Arrow IPC weather data: do rainy days cost more?",
        sql: "SELECT w.rain_mm > 0 AS rainy, count(*) AS trips, round(avg(t.fare / t.distance_km), 2) AS fare_per_km
FROM read_parquet('$DEMO/trips/') t
JOIN read_ipc('$DEMO/weather.arrow') w ON CAST(t.pickup_at AS DATE) = w.day
GROUP BY rainy ORDER BY rainy",
    },
    Step {
        title: "Window functions: the busiest zone in each borough",
        sql: "SELECT borough, zone, trips FROM (
  SELECT z.borough, z.zone, count(*) AS trips,
         rank() OVER (PARTITION BY z.borough ORDER BY count(*) DESC) AS r
  FROM '$DEMO/trips/' t JOIN read_csv('$DEMO/zones.csv', header => true) z ON t.zone_id = z.zone_id
  GROUP BY z.borough, z.zone)
WHERE r = 1 ORDER BY borough",
    },
    Step {
        title: "Time buckets: trips and average fare per week in March (partition pruning on month)",
        sql: "SELECT time_bucket(INTERVAL '1 week', pickup_at) AS week, count(*) AS trips, round(avg(fare), 2) AS avg_fare
FROM '$DEMO/trips/' WHERE month = '2026-03'
GROUP BY week ORDER BY week",
    },
    Step {
        title: "ASOF JOIN: each trade with the quote in force when it happened",
        sql: "SELECT t.sym, count(*) AS trades, round(avg(t.price - (q.bid + q.ask) / 2), 4) AS avg_vs_mid,
       max(t.ts - q.ts) AS oldest_quote_used
FROM '$DEMO/trades.parquet' t
ASOF JOIN '$DEMO/quotes.parquet' q ON t.sym = q.sym AND t.ts >= q.ts
GROUP BY t.sym ORDER BY t.sym",
    },
    Step {
        title: "MATCH_RECOGNIZE: a large trade, a small one within 10 s, then a large one within 60 s",
        sql: "SELECT sym, count(*) AS patterns, min(t1) AS first_seen, max(n) AS longest
FROM '$DEMO/trades.parquet' MATCH_RECOGNIZE (
  PARTITION BY sym ORDER BY ts
  MEASURES FIRST(a.ts) AS t1, count(*) AS n
  PATTERN (a x*? b y*? c)
  DEFINE a AS size >= 1000,
         b AS size < 50 AND ts <= a.ts + INTERVAL '10 seconds',
         c AS size >= 1000 AND ts <= b.ts + INTERVAL '60 seconds')
GROUP BY sym ORDER BY sym",
    },
    Step {
        title: "Write a result as Parquet, then read it back",
        sql: "COPY (SELECT zone_id, round(sum(fare), 2) AS revenue FROM '$DEMO/trips/' GROUP BY zone_id ORDER BY zone_id)
TO '$DEMO/revenue_by_zone.parquet' STORED AS PARQUET;
SELECT count(*) AS zones, round(sum(revenue), 2) AS revenue FROM '$DEMO/revenue_by_zone.parquet'",
    },
    // Each write below is a new version of the table; the last two steps read them back.
    Step {
        title: "Delta: create a table from January's trips (version 0)",
        sql: "CREATE TABLE rides USING DELTA LOCATION '$DEMO/rides' AS
SELECT trip_id, pickup_at, zone_id, distance_km, fare, payment
FROM '$DEMO/trips/' WHERE month = '2026-01'",
    },
    Step {
        title: "Delta: append February (version 1)",
        sql: "INSERT INTO rides
SELECT trip_id, pickup_at, zone_id, distance_km, fare, payment
FROM '$DEMO/trips/' WHERE month = '2026-02'",
    },
    Step {
        title: "Delta: a 10% surcharge on cash fares (version 2)",
        sql: "UPDATE rides SET fare = round(fare * 1.1, 2) WHERE payment = 'cash'",
    },
    Step {
        title: "Delta: drop trips under a kilometre (version 3)",
        sql: "DELETE FROM rides WHERE distance_km < 1",
    },
    Step {
        title: "Delta time travel: every version is still there to query",
        sql: "SELECT 0 AS version, count(*) AS trips, round(sum(fare), 2) AS revenue FROM rides VERSION AS OF 0
UNION ALL SELECT 1, count(*), round(sum(fare), 2) FROM rides VERSION AS OF 1
UNION ALL SELECT 2, count(*), round(sum(fare), 2) FROM rides VERSION AS OF 2
UNION ALL SELECT 3, count(*), round(sum(fare), 2) FROM rides
ORDER BY version",
    },
    Step {
        title: "Delta: the table's history, one row per commit",
        sql: "DESCRIBE HISTORY rides",
    },
];

/// Runs the demo, printing each step, and returns the exit code: a failed step's error is
/// printed as `quiver -c` prints it.
pub fn run(rt: &Runtime, session: Session, keep_in: Option<&Path>) -> ExitCode {
    let temp;
    let dir: PathBuf = match keep_in {
        Some(d) => match std::fs::create_dir_all(d).and_then(|()| d.canonicalize()) {
            Ok(dir) => dir,
            Err(e) => return fail(&format!("cannot create {}: {e}", d.display())),
        },
        None => match tempfile::Builder::new().prefix("quiver-demo-").tempdir() {
            Ok(t) => {
                temp = t;
                temp.path().to_path_buf()
            }
            Err(e) => return fail(&format!("cannot create a temp dir: {e}")),
        },
    };
    if let Err(e) = write_sample(&dir) {
        return fail(&format!("cannot write the sample data: {e}"));
    }
    let dir_str = dir.display().to_string();
    // The folder goes into SQL string literals.
    let dir_sql = dir_str.replace('\'', "''");

    let mut runner = Runner::new(session, Format::Table, None, None, false);
    let intro = format!(
        "Quiver demo: sample data written to {dir_str}\n  trips/month=2026-0{{1,2,3}}/part-0.parquet, zones.csv, weather.arrow, trades.parquet, quotes.parquet\n"
    );
    if say(&intro).is_err() {
        return ExitCode::SUCCESS;
    }
    for (i, step) in TOUR.iter().enumerate() {
        if say(&format!("── {}. {}\n{}\n", i + 1, step.title, step.sql)).is_err() {
            return ExitCode::SUCCESS;
        }
        let sql = step.sql.replace("$DEMO", &dir_sql);
        if let Some(code) = runner.run_script(rt, &sql).failure_code() {
            return code;
        }
        if say("").is_err() {
            return ExitCode::SUCCESS;
        }
    }
    let outro = match keep_in {
        Some(_) => format!(
            "Try it yourself:  quiver {dir_str}/trips/ {dir_str}/zones.csv {dir_str}/rides   (then: SELECT * FROM rides VERSION AS OF 1 LIMIT 5;)"
        ),
        None => "The sample files are removed now. To keep them and explore at the prompt:\n  quiver demo --dir quiver-demo && quiver quiver-demo/trips/ quiver-demo/zones.csv quiver-demo/rides".to_string(),
    };
    // The sample folder the other hints name: the kept one, or the one they suggest keeping.
    let rides = match keep_in {
        Some(_) => format!("{dir_sql}/rides"),
        None => "quiver-demo/rides".to_string(),
    };
    let python = format!(
        "From Python (pip install ./python):\n  import quiver; quiver.sql(\"SELECT payment, count(*) FROM '{rides}' GROUP BY 1\").to_polars()"
    );
    if say(&outro).is_err() || say(&python).is_err() {
        return ExitCode::SUCCESS;
    }
    runner.finish()
}

/// Prints a line of the tour. A reader that has gone (`quiver demo | head`) is an `Err`, on
/// which the demo stops quietly, as a query's output does.
fn say(text: &str) -> std::io::Result<()> {
    writeln!(std::io::stdout(), "{text}")
}
