//! The interactive prompt, driven through a real pseudo-terminal (util-linux `script`), the
//! way a person types into it: multi-line statements, dot commands, history.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Types `lines` into `quiver ARGS` one at a time and returns the screen text.
fn type_into_prompt(args: &str, lines: &[&str], home: &std::path::Path) -> String {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_quiver"));
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", home)
        .env_remove("QUIVER_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the prompt in a pseudo-terminal");
    let mut stdin = child.stdin.take().unwrap();
    // The prompt discards keys typed before it is drawn (raw mode flushes pending input),
    // so wait for each prompt before typing the next line, as a person would.
    let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = std::sync::Arc::clone(&screen);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let prompts = || {
        let text = String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
        text.matches("quiver> ").count() + text.matches("   ...> ").count()
    };
    for (typed, line) in lines.iter().enumerate() {
        let started = std::time::Instant::now();
        while prompts() <= typed {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no prompt after typing {typed} lines"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }
    // Let the last command finish before the terminal closes.
    std::thread::sleep(Duration::from_millis(300));
    drop(stdin);
    child.wait().unwrap();
    reader.join().unwrap();
    let raw_bytes = screen.lock().unwrap().clone();
    let raw = String::from_utf8_lossy(&raw_bytes).replace('\r', "");
    // Drop terminal control sequences.
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
            continue;
        }
        text.push(c);
    }
    text
}

#[test]
fn the_prompt_runs_statements_and_dot_commands() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("zones.csv");
    std::fs::write(&csv, "zone_id,zone\n1,Harbor\n2,Old Town\n").unwrap();
    let script = dir.path().join("more.sql");
    std::fs::write(&script, "SELECT 'from a file' AS src;\n").unwrap();
    let screen = type_into_prompt(
        csv.to_str().unwrap(),
        &[
            ".tables",
            "SELECT zone FROM zones",
            "WHERE zone_id = 2;",
            ".mode csv",
            "SELECT 40 + 2 AS answer;",
            &format!(".read {}", script.display()),
            ".schema zones",
            "SELEC;",
            ".bogus",
            ".quit",
        ],
        dir.path(),
    );
    assert!(screen.contains("quiver> .tables\nzones\n"), "{screen}");
    assert!(
        screen.contains("   ...> WHERE zone_id = 2;"),
        "multi-line statement: {screen}"
    );
    assert!(screen.contains("Old Town"), "{screen}");
    assert!(screen.contains("answer\n42\n"), ".mode csv: {screen}");
    assert!(screen.contains("src\nfrom a file\n"), ".read: {screen}");
    assert!(
        screen.contains("zone_id") && screen.contains("Int64"),
        ".schema: {screen}"
    );
    assert!(screen.contains("error: syntax error"), "{screen}");
    assert!(
        screen.contains("unknown or incomplete command '.bogus'"),
        "{screen}"
    );
    let history = std::fs::read_to_string(dir.path().join(".quiver_history")).unwrap();
    assert!(
        history.contains("SELECT 40 + 2 AS answer;"),
        "history: {history}"
    );
}
