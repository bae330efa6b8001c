//! Remote storage through the `quiver` binary: HTTP with range requests, and S3 against a
//! real S3-compatible server (moto) started on loopback by the test itself.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::common;
use common::{quiver, testdata, text};

/// Writes `rows` rows with ids in order, in row groups of 10,000, so a filter on `id` can
/// skip most of the file.
fn write_parquet(path: &Path, rows: u64) {
    let o = quiver()
        .args([
            "-c",
            &format!(
                "COPY (SELECT v AS id, v * 2 AS doubled, md5(CAST(v AS VARCHAR)) AS pad FROM generate_series(1, {rows}) t(v)) TO '{}' STORED AS PARQUET OPTIONS ('format.max_row_group_size' '10000')",
                path.display()
            ),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
}

/// A minimal HTTP/1.1 file server with HEAD and single-range GET, counting body bytes sent.
struct RangeServer {
    port: u16,
    sent: Arc<AtomicU64>,
}

impl RangeServer {
    fn start(root: PathBuf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&sent);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || serve(stream, &root, &counter));
            }
        });
        Self { port, sent }
    }
}

fn serve(stream: TcpStream, root: &Path, sent: &AtomicU64) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut range = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("range")
            {
                range = Some(v.trim().to_string());
            }
        }
        let mut parts = request.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts
            .next()
            .unwrap_or("/")
            .trim_start_matches('/')
            .to_string();
        let data = match std::fs::read(root.join(&path)) {
            Ok(d) => d,
            Err(_) => {
                let _ = out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
        };
        let len = data.len() as u64;
        let (status, start, end) = match range.as_deref().and_then(|r| r.strip_prefix("bytes=")) {
            Some(spec) => {
                let (a, b) = spec.split_once('-').unwrap();
                let (start, end) = if a.is_empty() {
                    (len - b.parse::<u64>().unwrap().min(len), len)
                } else {
                    let start: u64 = a.parse().unwrap();
                    let end = if b.is_empty() {
                        len
                    } else {
                        (b.parse::<u64>().unwrap() + 1).min(len)
                    };
                    (start, end)
                };
                ("206 Partial Content", start, end)
            }
            None => ("200 OK", 0, len),
        };
        let mut head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nLast-Modified: Mon, 23 Nov 2026 10:00:00 GMT\r\nETag: \"{len}\"\r\n",
            end - start
        );
        if status.starts_with("206") {
            head.push_str(&format!(
                "Content-Range: bytes {start}-{}/{len}\r\n",
                end - 1
            ));
        }
        head.push_str("\r\n");
        if out.write_all(head.as_bytes()).is_err() {
            return;
        }
        if method == "GET" {
            if out.write_all(&data[start as usize..end as usize]).is_err() {
                return;
            }
            sent.fetch_add(end - start, Ordering::Relaxed);
        }
    }
}

#[test]
fn http_reads_only_the_ranges_a_query_needs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.parquet");
    write_parquet(&file, 500_000);
    let size = std::fs::metadata(&file).unwrap().len();
    let server = RangeServer::start(dir.path().to_path_buf());
    let url = format!("http://127.0.0.1:{}/events.parquet", server.port);

    let o = quiver()
        .args([
            "-c",
            &format!("SELECT doubled FROM '{url}' WHERE id = 123456"),
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "doubled\n246912\n");
    let fetched = server.sent.load(Ordering::Relaxed);
    assert!(
        fetched * 4 < size,
        "fetched {fetched} of {size} bytes for a one-row lookup"
    );

    let o = quiver()
        .args([
            "-c",
            &format!(
                "SELECT count(*) FROM 'http://127.0.0.1:{}/missing.parquet'",
                server.port
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("error: ") && err.lines().count() == 1,
        "{err}"
    );
}

/// moto's S3 server, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Option<Moto> {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "cannot start moto: {e}"
            );
            return None;
        }
    };
    for _ in 0..600 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Moto { child, port });
        }
        if let Ok(Some(status)) = child.try_wait() {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "moto exited with {status}; install it with: pip install 'moto[server]'"
            );
            eprintln!("SKIPPED: moto is not installed");
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto did not start listening");
}

fn python(script: &str) -> Output {
    Command::new("python3")
        .args(["-c", script])
        .output()
        .unwrap()
}

#[test]
fn s3_reads_with_credentials_from_the_environment() {
    let Some(moto) = start_moto() else {
        return;
    };
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.parquet");
    write_parquet(&file, 50_000);
    // Upload with boto3: an independent S3 client.
    let o = python(&format!(
        "import boto3\ns3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1')\ns3.create_bucket(Bucket='lake')\nfor i in range(2):\n    s3.upload_file('{}', 'lake', f'events/2026-0{{i+1}}/part-0.parquet')\n",
        file.display()
    ));
    assert!(o.status.success(), "{}", text(&o.stderr));

    let with_env = |c: &mut Command| {
        on_moto(c, &endpoint);
    };
    let mut c = quiver();
    with_env(&mut c);
    let o = c
        .args([
            "-c",
            "SELECT count(*), sum(id) AS total FROM 's3://lake/events/2026-*/part-0.parquet'",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "count(*),total\n100000,2500050000\n");

    let mut c = quiver();
    with_env(&mut c);
    let o = c
        .args(["-c", "SELECT count(*) FROM 's3://no-such-bucket/x.parquet'"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("error: ") && err.lines().count() == 1 && !err.contains("panicked"),
        "{err}"
    );
}

/// delta-rs's test tables in the shared corpora; `None` (skip) only off CI.
fn delta_rs_tables() -> Option<PathBuf> {
    testdata().map(|d| d.join("delta-rs/crates/test/tests/data"))
}

/// Runs `quiver args --format csv` against the moto server on `endpoint`; its output.
fn csv_on_moto(endpoint: &str, args: &[&str]) -> String {
    let mut c = quiver();
    on_moto(&mut c, endpoint)
        .args(args)
        .args(["--format", "csv"]);
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "quiver {args:?}: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// `c` pointed at the moto server on `endpoint` with its test credentials.
fn on_moto<'a>(c: &'a mut Command, endpoint: &str) -> &'a mut Command {
    c.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
}

#[test]
fn delta_tables_on_s3_read_at_every_version() {
    let Some(data) = delta_rs_tables() else {
        return;
    };
    let table = data.join("simple_table");
    let Some(moto) = start_moto() else {
        return;
    };
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    // Upload the table with boto3: data files and the whole _delta_log.
    let o = python(&format!(
        "import boto3, os\ns3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1')\ns3.create_bucket(Bucket='lake')\nroot = '{}'\nfor d, _, files in os.walk(root):\n    for f in files:\n        p = os.path.join(d, f)\n        s3.upload_file(p, 'lake', 'tables/simple/' + os.path.relpath(p, root))\n",
        table.display()
    ));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let run = |args: &[&str]| csv_on_moto(&endpoint, args);
    assert_eq!(
        run(&[
            "-c",
            "SELECT count(*), sum(id) FROM 's3://lake/tables/simple'"
        ]),
        "count(*),sum(simple.id)\n3,21\n"
    );
    assert_eq!(
        run(&[
            "-c",
            "SELECT count(*), sum(id) FROM 's3://lake/tables/simple' VERSION AS OF 0"
        ]),
        "count(*),sum(simple.id)\n5,10\n"
    );
    let history = run(&["delta", "history", "s3://lake/tables/simple"]);
    assert_eq!(history.lines().count(), 6, "{history}");
    assert!(
        history.lines().nth(1).unwrap().starts_with("4,"),
        "{history}"
    );
}

#[test]
fn delta_tables_over_plain_http_are_read_without_listing() {
    let Some(data) = delta_rs_tables() else {
        return;
    };
    // The test server answers HEAD and ranged GET only: no listing, as most web servers.
    let server = RangeServer::start(data.clone());
    let url = format!("http://127.0.0.1:{}", server.port);
    for (sql, want) in [
        (
            format!("SELECT count(*) AS n, sum(id) AS s FROM '{url}/simple_table'"),
            "n,s\n3,21\n",
        ),
        (
            format!("SELECT count(*) AS n, sum(id) AS s FROM '{url}/simple_table' VERSION AS OF 0"),
            "n,s\n5,10\n",
        ),
    ] {
        let o = quiver()
            .args(["-c", &sql, "--format", "csv"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{sql}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), want, "{sql}");
    }
    // The checkpointed table gives the same count over HTTP as from disk.
    let local = quiver()
        .args([
            "-c",
            &format!(
                "SELECT count(*) AS n FROM '{}'",
                data.join("simple_table_with_checkpoint").display()
            ),
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    let remote = quiver()
        .args([
            "-c",
            &format!("SELECT count(*) AS n FROM '{url}/simple_table_with_checkpoint'"),
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(
        local.status.success() && remote.status.success(),
        "{}",
        text(&remote.stderr)
    );
    assert_eq!(text(&local.stdout), text(&remote.stdout));
}

#[test]
fn delta_writes_to_s3_create_append_travel_and_vacuum() {
    let Some(moto) = start_moto() else {
        return;
    };
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let o = python(&format!(
        "import boto3\ns3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1')\ns3.create_bucket(Bucket='lake')\n"
    ));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let run = |args: &[&str]| csv_on_moto(&endpoint, args);
    let t = "delta.`s3://lake/warehouse/orders`";
    assert_eq!(
        run(&[
            "-c",
            &format!("CREATE TABLE {t} (id BIGINT, item STRING) USING DELTA")
        ]),
        "version,rows_inserted\n0,0\n"
    );
    assert_eq!(
        run(&[
            "-c",
            &format!("INSERT INTO {t} VALUES (1, 'tea'), (2, 'jam')")
        ]),
        "version,rows_inserted\n1,2\n"
    );
    run(&["-c", &format!("INSERT INTO {t} VALUES (3, 'oat')")]);
    assert_eq!(
        run(&["-c", &format!("DELETE FROM {t} WHERE id = 1")]),
        "version,rows_deleted\n3,1\n"
    );
    let read = |sql: &str| {
        run(&["-c", sql])
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    let path = "'s3://lake/warehouse/orders'";
    assert_eq!(
        read(&format!("SELECT count(*), sum(id) FROM {path}")),
        "2,5"
    );
    assert_eq!(
        read(&format!(
            "SELECT count(*), sum(id) FROM {path} VERSION AS OF 2"
        )),
        "3,6"
    );
    assert_eq!(
        read(&format!("SELECT count(*) FROM {path} VERSION AS OF 1")),
        "2"
    );
    let verify = run(&["delta", "verify", "s3://lake/warehouse/orders"]);
    assert!(verify.contains("commits 0..=3 are contiguous"), "{verify}");
    // Commits are conditional puts: a commit for a version that exists is refused, so an
    // append that raced another one retries at the next version and none is lost.
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let script: String = (0..5)
                .map(|n| format!("INSERT INTO {t} VALUES ({}, 'w{w}');\n", 100 + w * 10 + n))
                .collect();
            let mut c = quiver();
            on_moto(&mut c, &endpoint)
                .args(["-c", &script])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for w in writers {
        let o = w.wait_with_output().unwrap();
        assert!(o.status.success(), "a writer failed: {}", text(&o.stderr));
    }
    assert_eq!(
        read(&format!(
            "SELECT count(*), count(DISTINCT id) FROM {path} WHERE id >= 100"
        )),
        "15,15"
    );
    let verify = run(&["delta", "verify", "s3://lake/warehouse/orders"]);
    assert!(verify.contains("commits 0..=18 are contiguous"), "{verify}");
    // The delete rewrote the first file; VACUUM (with --force for a zero retention) removes
    // it from the bucket, and the newest version still reads.
    let vacuumed = run(&["--force", "-c", &format!("VACUUM {t} RETAIN 0 HOURS")]);
    assert_eq!(vacuumed, "files_deleted\n1\n");
    assert_eq!(
        read(&format!(
            "SELECT count(*), sum(id) FROM {path} WHERE id < 100"
        )),
        "2,5"
    );
}
