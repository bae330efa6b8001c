//! `quiver demo`: builds a small sample dataset and takes a tour of the engine on it.
//!
//! Everything is generated here (no download): three months of taxi-like trips as Parquet in
//! hive-style `month=YYYY-MM` folders, a zone lookup table as CSV, and daily weather as an
//! Arrow IPC file. The tour then queries them by path, joins across formats, uses the
//! partition column, and writes a result in another format.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use quiver_engine::Session;
use quiver_engine::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use quiver_engine::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use quiver_engine::arrow::ipc::writer::FileWriter;
use quiver_engine::arrow::record_batch::RecordBatch;
use quiver_engine::output::{Format, OutputOptions, encode};
use quiver_engine::parquet::arrow::ArrowWriter;

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
    Ok(())
}

fn tour(dir: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "Query a folder of Parquet files by path; month=... folders become a column",
            format!(
                "SELECT month, count(*) AS trips, round(sum(fare), 2) AS revenue\nFROM '{dir}/trips/'\nGROUP BY month ORDER BY month"
            ),
        ),
        (
            "Join Parquet with a CSV lookup table",
            format!(
                "SELECT z.borough, count(*) AS trips, round(avg(t.distance_km), 2) AS avg_km\nFROM '{dir}/trips/' t JOIN '{dir}/zones.csv' z USING (zone_id)\nGROUP BY z.borough ORDER BY trips DESC"
            ),
        ),
        (
            "Join with Arrow IPC weather data: do rainy days cost more?",
            format!(
                "SELECT w.rain_mm > 0 AS rainy, count(*) AS trips, round(avg(t.fare / t.distance_km), 2) AS fare_per_km\nFROM read_parquet('{dir}/trips/') t\nJOIN read_ipc('{dir}/weather.arrow') w ON CAST(t.pickup_at AS DATE) = w.day\nGROUP BY rainy ORDER BY rainy"
            ),
        ),
        (
            "Window functions: the busiest zone in each borough",
            format!(
                "SELECT borough, zone, trips FROM (\n  SELECT z.borough, z.zone, count(*) AS trips,\n         rank() OVER (PARTITION BY z.borough ORDER BY count(*) DESC) AS r\n  FROM '{dir}/trips/' t JOIN read_csv('{dir}/zones.csv', header => true) z ON t.zone_id = z.zone_id\n  GROUP BY z.borough, z.zone)\nWHERE r = 1 ORDER BY borough"
            ),
        ),
        (
            "Time buckets: trips and average fare per week in March (partition pruning on month)",
            format!(
                "SELECT date_trunc('week', pickup_at) AS week, count(*) AS trips, round(avg(fare), 2) AS avg_fare\nFROM '{dir}/trips/' WHERE month = '2026-03'\nGROUP BY week ORDER BY week"
            ),
        ),
    ]
}

/// Runs the demo, printing each step.
pub async fn run(session: &Session, keep_in: Option<&Path>) -> Result<(), String> {
    let temp;
    let dir: PathBuf = match keep_in {
        Some(d) => {
            std::fs::create_dir_all(d)
                .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
            d.canonicalize().map_err(|e| e.to_string())?
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("quiver-demo-")
                .tempdir()
                .map_err(|e| e.to_string())?;
            temp.path().to_path_buf()
        }
    };
    write_sample(&dir)?;
    let dir_str = dir.display().to_string();
    println!("Quiver demo: sample data written to {dir_str}");
    println!("  trips/month=2026-0{{1,2,3}}/part-0.parquet, zones.csv, weather.arrow\n");

    for (i, (title, sql)) in tour(&dir_str).into_iter().enumerate() {
        println!("── {}. {title}", i + 1);
        println!("{}\n", sql.replace(&dir_str, "$DEMO"));
        let batches = session
            .query(&sql)
            .await
            .map_err(|e| format!("demo step {} failed: {e}", i + 1))?;
        let schema = batches
            .first()
            .map(|b| b.schema())
            .ok_or_else(|| format!("demo step {} returned no rows", i + 1))?;
        let out = encode(Format::Table, schema, &batches, &OutputOptions::default())
            .map_err(|e| e.to_string())?;
        println!("{}", String::from_utf8_lossy(&out));
    }

    let out = dir.join("revenue_by_zone.parquet");
    let copy = format!(
        "COPY (SELECT zone_id, round(sum(fare), 2) AS revenue FROM '{dir_str}/trips/' GROUP BY zone_id ORDER BY zone_id) TO '{}' STORED AS PARQUET",
        out.display()
    );
    println!(
        "── {}. Write a result as Parquet, then read it back",
        tour(&dir_str).len() + 1
    );
    println!("{}\n", copy.replace(&dir_str, "$DEMO"));
    session.query(&copy).await.map_err(|e| e.to_string())?;
    let check = session
        .query(&format!(
            "SELECT count(*) AS zones, round(sum(revenue), 2) AS revenue FROM '{}'",
            out.display()
        ))
        .await
        .map_err(|e| e.to_string())?;
    let text = encode(
        Format::Table,
        check[0].schema(),
        &check,
        &OutputOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    println!("{}", String::from_utf8_lossy(&text));
    match keep_in {
        Some(_) => println!(
            "Try it yourself:  quiver {dir_str}/trips/ {dir_str}/zones.csv   (then: SELECT * FROM trips LIMIT 5;)"
        ),
        None => println!(
            "The sample files are removed now. To keep them and explore at the prompt:\n  quiver demo --dir quiver-demo && quiver quiver-demo/trips/ quiver-demo/zones.csv"
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_demo_runs_end_to_end() {
        let session = Session::new(quiver::host::config(&Default::default())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        run(&session, Some(dir.path())).await.unwrap();
        let batches = session
            .query(&format!(
                "SELECT count(DISTINCT month) AS m FROM '{}/trips/'",
                dir.path().canonicalize().unwrap().display()
            ))
            .await
            .unwrap();
        let m = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(m, 3);
    }
}
