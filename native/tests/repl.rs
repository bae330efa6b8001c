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
    for line in lines {
        // The prompt reads keystrokes; give it each line separately, as typing would.
        std::thread::sleep(Duration::from_millis(300));
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let raw = String::from_utf8_lossy(&out.stdout).replace('\r', "");
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
