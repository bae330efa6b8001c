//! Files written by other projects read back as their own readers read them.
//!
//! - parquet-testing `data/`: every file pyarrow 26 reads gives the same row count and
//!   schema through Quiver (oracle: `oracles/parquet-testing.pyarrow-26.0.1.json`).
//! - arrow-testing IPC integration files: every file and stream decodes to exactly the
//!   batches in its `.json.gz` (read with arrow's integration-test JSON reader).

use crate::common;

use std::io::Read;
use std::path::Path;

use futures::TryStreamExt;
use quiver_engine::arrow::compute::concat_batches;
use quiver_engine::arrow::datatypes::{DataType, Field, TimeUnit};

/// Renders a type the way pyarrow prints it, so schemas compare as text.
fn pyarrow_type(t: &DataType) -> String {
    match t {
        DataType::Null => "null".into(),
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float16 => "halffloat".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        // View types are DataFusion's in-memory layout for the same logical strings.
        DataType::Utf8 | DataType::Utf8View => "string".into(),
        DataType::LargeUtf8 => "large_string".into(),
        DataType::Binary | DataType::BinaryView => "binary".into(),
        DataType::LargeBinary => "large_binary".into(),
        DataType::FixedSizeBinary(n) => format!("fixed_size_binary[{n}]"),
        DataType::Date32 => "date32[day]".into(),
        DataType::Date64 => "date64[ms]".into(),
        DataType::Timestamp(unit, tz) => match tz {
            Some(tz) => format!("timestamp[{}, tz={tz}]", unit_name(unit)),
            None => format!("timestamp[{}]", unit_name(unit)),
        },
        DataType::Time32(unit) => format!("time32[{}]", unit_name(unit)),
        DataType::Time64(unit) => format!("time64[{}]", unit_name(unit)),
        DataType::Duration(unit) => format!("duration[{}]", unit_name(unit)),
        DataType::Decimal32(p, s) => format!("decimal32({p}, {s})"),
        DataType::Decimal64(p, s) => format!("decimal64({p}, {s})"),
        DataType::Decimal128(p, s) => format!("decimal128({p}, {s})"),
        DataType::Decimal256(p, s) => format!("decimal256({p}, {s})"),
        DataType::List(f) | DataType::ListView(f) => {
            format!("list<{}>", pyarrow_field(f, "element"))
        }
        DataType::LargeList(f) | DataType::LargeListView(f) => {
            format!("large_list<{}>", pyarrow_field(f, "element"))
        }
        DataType::FixedSizeList(f, n) => {
            format!("fixed_size_list<{}>[{n}]", pyarrow_field(f, "element"))
        }
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| pyarrow_field(f, f.name()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                let value = if kv[1].is_nullable() {
                    pyarrow_type(kv[1].data_type())
                } else {
                    format!("{} not null", pyarrow_type(kv[1].data_type()))
                };
                format!("map<{}, {value}>", pyarrow_type(kv[0].data_type()))
            }
            other => format!("map<{other}>"),
        },
        DataType::Dictionary(k, v) => format!(
            "dictionary<values={}, indices={}, ordered=0>",
            pyarrow_type(v),
            pyarrow_type(k)
        ),
        other => other.to_string(),
    }
}

fn unit_name(unit: &TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

fn pyarrow_field(f: &Field, name: &str) -> String {
    let nullability = if f.is_nullable() { "" } else { " not null" };
    format!("{name}: {}{nullability}", pyarrow_type(f.data_type()))
}

/// Top-level fields of a pyarrow schema string (child lines are indented).
fn oracle_fields(schema: &str) -> Vec<String> {
    schema
        .split(';')
        .filter(|part| part.len() - part.trim_start().len() <= 1 && !part.trim().is_empty())
        .filter(|part| !part.trim_start().starts_with("-- "))
        .map(|part| normalize_list_names(&strip_map_entry_names(part.trim())))
        .collect()
}

/// pyarrow names a map's entries field in parentheses when it is not `entries`.
fn strip_map_entry_names(s: &str) -> String {
    let mut out = s.to_string();
    while let Some(at) = out.find(" ('") {
        let Some(end) = out[at..].find("')") else {
            break;
        };
        out.replace_range(at..at + end + 2, "");
    }
    out
}

/// pyarrow abbreviates long schemas; true when `oracle` is a shortened form of `ours`.
fn field_matches(ours: &str, oracle: &str) -> bool {
    if ours == oracle {
        return true;
    }
    // "... (... 41 chars omitted) not null": compare the text around the omission.
    if let Some(at) = oracle.find(" (... ") {
        let tail = oracle[at..]
            .split_once("omitted)")
            .map(|(_, t)| t)
            .unwrap_or("");
        return ours.starts_with(&oracle[..at]) && ours.ends_with(tail);
    }
    false
}

/// pyarrow prints a list's child field with whatever name the writer chose
/// (`element`, `item`, `array`, ...); names of list children carry no data.
fn normalize_list_names(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("list<") {
        out.push_str(&rest[..at + 5]);
        rest = &rest[at + 5..];
        if let Some(colon) = rest.find(": ")
            && rest[..colon]
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_')
        {
            out.push_str("element");
            rest = &rest[colon..];
        }
    }
    out.push_str(rest);
    out
}

/// Files pyarrow reads that Quiver cannot yet, and why. Each must still fail with an error
/// that names the file; when one starts to read, this test says so and it leaves the list.
const NOT_YET_READABLE: &[(&str, &str)] = &[(
    "data/dict-page-offset-zero.parquet",
    "parquet-rs 59's thrift footer decoder rejects it: a list field holds i16 where the current format expects i64",
)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_testing_files_match_pyarrow() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let oracle: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(testdata.join("oracles/parquet-testing.pyarrow-26.0.1.json"))
            .unwrap(),
    )
    .unwrap();
    let session = common::session(2);
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in oracle.as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        if !file.starts_with("data/") || entry["read"] != "ok" {
            continue;
        }
        let path = testdata.join("parquet-testing").join(file);
        let expected_rows = entry["num_rows"].as_u64().unwrap() as usize;
        let expected_fields = oracle_fields(entry["schema"].as_str().unwrap());
        let sql = format!("SELECT * FROM read_parquet('{}')", path.display());
        let result: Result<(Vec<String>, usize), String> = async {
            let mut statements = session.statements(&sql).map_err(|e| e.to_string())?;
            let plan = session
                .plan(statements.remove(0))
                .await
                .map_err(|e| e.to_string())?;
            let stream = session.execute(plan).await.map_err(|e| e.to_string())?;
            let schema = stream.schema();
            let batches: Vec<_> = stream.try_collect().await.map_err(|e| e.to_string())?;
            let fields = schema
                .fields()
                .iter()
                .map(|f| normalize_list_names(&pyarrow_field(f, f.name())))
                .collect();
            Ok((fields, common::rows(&batches)))
        }
        .await;
        checked += 1;
        if let Some((_, why)) = NOT_YET_READABLE.iter().find(|(f, _)| *f == file) {
            match &result {
                Ok(_) => failures.push(format!(
                    "{file} now reads; take it off NOT_YET_READABLE ({why})"
                )),
                Err(e) if !e.contains(&path.display().to_string()) => {
                    failures.push(format!("{file}: the error does not name the file: {e}"))
                }
                Err(_) => {}
            }
            continue;
        }
        match result {
            Ok((fields, rows)) => {
                if rows != expected_rows {
                    failures.push(format!(
                        "{file}: {rows} rows, pyarrow reads {expected_rows}"
                    ));
                }
                // The oracle's schema text is cut off after a few hundred characters: every
                // field it shows in full must match, and a cut-off last field must be a prefix.
                let shown = expected_fields.len();
                let complete = fields.len() >= shown
                    && fields.iter().zip(&expected_fields).enumerate().all(
                        |(i, (ours, theirs))| {
                            field_matches(ours, theirs)
                                || (i + 1 == shown
                                    && fields.len() > shown
                                    && ours.starts_with(theirs.as_str()))
                        },
                    )
                    && (fields.len() == shown || entry["schema"].as_str().unwrap().len() >= 200);
                if !complete {
                    failures.push(format!(
                        "{file}: schema\n    quiver:  {fields:?}\n    pyarrow: {expected_fields:?}"
                    ));
                }
            }
            Err(e) => failures.push(format!("{file}: {e}")),
        }
    }
    eprintln!("checked {checked} parquet-testing files against pyarrow");
    assert!(checked >= 30, "only {checked} files checked");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn read_gz(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

#[test]
fn arrow_ipc_integration_files_match_their_json() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let root = testdata.join("arrow-testing/data/arrow-ipc-stream/integration");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut versions: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    versions.sort();
    for version in versions {
        let big_endian = version.to_string_lossy().contains("bigendian");
        let mut jsons: Vec<_> = std::fs::read_dir(&version)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
            .collect();
        jsons.sort();
        for json_path in jsons {
            let stem = json_path
                .to_string_lossy()
                .trim_end_matches(".json.gz")
                .to_string();
            let json: arrow_integration_test::ArrowJson =
                serde_json::from_str(&read_gz(&json_path)).unwrap();
            let expected = match json.get_record_batches() {
                Ok(b) => b,
                Err(e) => {
                    // A JSON file arrow's reader itself cannot load (for example a type it
                    // does not implement) is no verdict on the IPC reader.
                    eprintln!("no JSON answer for {stem}: {e}");
                    continue;
                }
            };
            for suffix in [".arrow_file", ".stream"] {
                let ipc_path = format!("{stem}{suffix}");
                if !Path::new(&ipc_path).exists() {
                    continue;
                }
                checked += 1;
                let bytes = bytes::Bytes::from(std::fs::read(&ipc_path).unwrap());
                match quiver_engine::sources::ipc::decode(bytes, &ipc_path) {
                    // arrow-rs does not read big-endian IPC; a clear error naming the file is
                    // the accepted answer there.
                    Err(e) if big_endian => {
                        assert!(
                            e.to_string().contains(&ipc_path),
                            "error does not name the file: {e}"
                        );
                    }
                    Ok((schema, batches)) => {
                        let got = concat_batches(&schema, &batches).unwrap();
                        let want = concat_batches(
                            &expected
                                .first()
                                .map(|b| b.schema())
                                .unwrap_or(schema.clone()),
                            &expected,
                        )
                        .unwrap();
                        if got.num_rows() != want.num_rows() || got.columns() != want.columns() {
                            failures.push(format!("{ipc_path}: contents differ from the JSON"));
                        }
                    }
                    Err(e) => failures.push(format!("{ipc_path}: {e}")),
                }
            }
        }
    }
    eprintln!("checked {checked} Arrow IPC integration files");
    assert!(checked >= 50, "only {checked} IPC files checked");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
