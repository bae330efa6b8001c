//! Quiver's own sqllogictest files (`tests/slt/*.slt`), run through `Session`.
//!
//! The files may use `$__TEST_DIR__` (a fresh temp dir per file) and `$TESTDATA` (the shared
//! corpora). The same files are meant to run against the wasm build, so the two builds
//! cannot drift apart.

use crate::common;

use common::slt::{QuiverDb, configure};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_slt_files() {
    let testdata = common::testdata();
    let mut files: Vec<_> = std::fs::read_dir(common::root().join("tests/slt"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files found");

    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if text.contains("$TESTDATA") && testdata.is_none() {
            eprintln!("SKIPPED {}: needs ../shared/testdata", file.display());
            continue;
        }
        let session = common::session(4);
        let mut runner = sqllogictest::Runner::new(move || {
            let session = session.clone();
            async move {
                Ok(QuiverDb {
                    router: quiver::run::Router::new(session, Default::default()),
                    datafusion_errors: false,
                })
            }
        });
        configure(&mut runner);
        if let Some(dir) = &testdata {
            runner.set_var("TESTDATA".into(), dir.display().to_string());
        }
        match runner.run_file_async(file).await {
            Ok(()) => eprintln!("ok      {}", file.file_name().unwrap().to_string_lossy()),
            Err(e) => {
                eprintln!("FAILED  {}\n{e}", file.display());
                failures.push(file.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "failing .slt files: {failures:?}");
}
