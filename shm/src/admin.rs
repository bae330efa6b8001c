//! Looking at rings and removing them: what `quiver shm ls|stat|rm|gc` show and do.

use std::sync::atomic::Ordering;

use crate::error::{Error, Result};
use crate::layout::*;
use crate::ring::{FILE_PREFIX, Ring, ring_dir};

#[derive(Clone, Debug)]
pub struct WriterStatus {
    pub pid: u32,
    pub alive: bool,
    /// "open", "closed", "abandoned" (dropped by a panic), "dead" (open, but its process is
    /// gone), or "no writer" (created, waiting for one).
    pub state: &'static str,
    pub epoch: u32,
    /// The next sequence to publish.
    pub next_seq: u64,
    pub eos_seq: u64,
}

#[derive(Clone, Debug)]
pub struct ReaderStatus {
    pub index: u32,
    pub pid: u32,
    pub alive: bool,
    pub cursor: u64,
    pub pinned: u32,
    pub pin_min: Option<u64>,
    pub lagged: u64,
    pub read: u64,
}

#[derive(Clone, Debug)]
pub struct SlotStatus {
    pub index: u32,
    /// "empty", "writing", or "ready".
    pub state: &'static str,
    pub seq: u64,
    pub bytes: u64,
    pub rows: u64,
    pub batches: u32,
    pub schema_id: u32,
    pub publish_time_ns: u64,
}

#[derive(Clone, Debug)]
pub struct RingStatus {
    pub name: String,
    pub path: std::path::PathBuf,
    pub geometry: Geometry,
    pub create_time_ns: u64,
    pub writer: WriterStatus,
    pub readers: Vec<ReaderStatus>,
    pub slots: Vec<SlotStatus>,
    pub schemas: u32,
}

/// A snapshot of ring `name`'s header, reader records and slot headers.
pub fn status(name: &str) -> Result<RingStatus> {
    let ring = Ring::attach_with(name, false)?;
    Ok(snapshot(&ring))
}

fn snapshot(ring: &Ring) -> RingStatus {
    let g = ring.geo.clone();
    let alive = ring.writer_alive();
    let state = match ring.u32(W_STATE).load(Ordering::Acquire) {
        STATE_OPEN if alive => "open",
        STATE_OPEN => "dead",
        STATE_CLOSED => "closed",
        STATE_ABANDONED => "abandoned",
        STATE_NONE => "no writer",
        _ => "unknown",
    };
    let writer = WriterStatus {
        pid: ring.u32(W_PID).load(Ordering::Acquire),
        alive,
        state,
        epoch: ring.u32(W_EPOCH).load(Ordering::Acquire),
        next_seq: ring.u64(W_SEQ).load(Ordering::Acquire),
        eos_seq: ring.u64(W_EOS).load(Ordering::Acquire),
    };
    let readers = (0..g.max_readers)
        .filter_map(|i| {
            let rec = g.reader_record(i);
            if ring.u32(rec + R_STATE).load(Ordering::Acquire) != 1 {
                return None;
            }
            let pin_min = ring.u64(rec + R_PIN_MIN).load(Ordering::Acquire);
            Some(ReaderStatus {
                index: i,
                pid: ring.u32(rec + R_PID).load(Ordering::Relaxed),
                alive: ring.reader_alive(i),
                cursor: ring.u64(rec + R_CURSOR).load(Ordering::Relaxed),
                pinned: ring.u32(rec + R_PIN_COUNT).load(Ordering::Relaxed),
                pin_min: (pin_min != u64::MAX).then_some(pin_min),
                lagged: ring.u64(rec + R_LAGGED).load(Ordering::Relaxed),
                read: ring.u64(rec + R_READ).load(Ordering::Relaxed),
            })
        })
        .collect();
    let slots = (0..g.slot_count)
        .map(|i| {
            let slot = g.slot_offset(i as u64 + 1);
            let t = ring.u64(slot + SL_STAMP).load(Ordering::Acquire);
            SlotStatus {
                index: i,
                state: match t {
                    0 => "empty",
                    t if t % 2 == 1 => "writing",
                    _ => "ready",
                },
                seq: if t == 0 { 0 } else { (t - 1) / 2 },
                bytes: ring.u64(slot + SL_LEN).load(Ordering::Relaxed),
                rows: ring.u64(slot + SL_ROWS).load(Ordering::Relaxed),
                batches: ring.u32(slot + SL_BATCHES).load(Ordering::Relaxed),
                schema_id: ring.u32(slot + SL_SCHEMA).load(Ordering::Relaxed),
                publish_time_ns: ring.u64(slot + SL_TIME).load(Ordering::Relaxed),
            }
        })
        .collect();
    RingStatus {
        name: ring.name.clone(),
        path: ring.path.clone(),
        geometry: g,
        create_time_ns: ring.info.create_time_ns,
        writer,
        readers,
        slots,
        schemas: ring.u32(W_SCHEMA_COUNT).load(Ordering::Acquire),
    }
}

/// One entry of `list`: a ring, or a file that looks like one but does not open.
#[derive(Debug)]
pub enum Listed {
    Ring(Box<RingStatus>),
    Broken { name: String, error: Error },
}

/// Every ring in the ring directory, by name.
pub fn list() -> Result<Vec<Listed>> {
    let dir = ring_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("*", "list the ring directory", e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix(FILE_PREFIX))
                .map(String::from)
        })
        .filter(|n| crate::ring::check_name(n).is_ok())
        .collect();
    names.sort();
    Ok(names
        .into_iter()
        .map(|name| match status(&name) {
            Ok(s) => Listed::Ring(Box::new(s)),
            Err(error) => Listed::Broken { name, error },
        })
        .collect())
}

fn in_use(s: &RingStatus) -> Option<String> {
    if s.writer.alive {
        return Some(format!("its writer (pid {}) is alive", s.writer.pid));
    }
    s.readers
        .iter()
        .find(|r| r.alive)
        .map(|r| format!("reader pid {} is attached", r.pid))
}

/// Removes ring `name`. Refuses while its writer or a reader is alive, unless `force`
/// (processes that have it mapped keep their mapping; the name is free at once).
pub fn remove(name: &str, force: bool) -> Result<()> {
    let path = crate::ring::ring_path(name)?;
    if !force {
        match status(name) {
            Ok(s) => {
                if let Some(why) = in_use(&s) {
                    return Err(Error::BadOptions {
                        ring: name.to_string(),
                        detail: format!("not removed: {why} (use --force to remove it anyway)"),
                    });
                }
            }
            Err(Error::NotFound { .. }) => {}
            // A file that is not a healthy ring is removed without ceremony.
            Err(_) => {}
        }
    }
    std::fs::remove_file(&path).map_err(|e| crate::ring::open_error(name, &path, e))
}

/// Removes every ring whose writer is closed or gone and that no live reader holds, and
/// temporary files left by creators that died. Returns the names removed.
pub fn gc() -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for entry in list()? {
        if let Listed::Ring(s) = entry
            && in_use(&s).is_none()
            && remove(&s.name, false).is_ok()
        {
            removed.push(s.name.clone());
        }
    }
    // `.quiver-NAME.PID.RAND`: a creator's file before it got its name.
    if let Ok(entries) = std::fs::read_dir(ring_dir()) {
        for e in entries.filter_map(|e| e.ok()) {
            let file = e.file_name();
            let Some(rest) = file.to_str().and_then(|n| n.strip_prefix(".quiver-")) else {
                continue;
            };
            let pid = rest.rsplit('.').nth(1).and_then(|p| p.parse::<i32>().ok());
            let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
            if !alive && std::fs::remove_file(e.path()).is_ok() {
                removed.push(file.to_string_lossy().into_owned());
            }
        }
    }
    Ok(removed)
}
