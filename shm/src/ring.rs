//! A ring file: naming, creation (atomic, pre-allocated, mode 0600), attaching with header
//! checks, writer takeover, and the typed accessors over the shared mapping.

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use memmap2::{MmapOptions, MmapRaw};

use crate::error::{Error, Result};
use crate::layout::*;
use crate::sys;

/// Where rings live: `$QUIVER_SHM_DIR`, or `/dev/shm`.
pub fn ring_dir() -> PathBuf {
    std::env::var_os("QUIVER_SHM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/dev/shm"))
}

pub const FILE_PREFIX: &str = "quiver-";

/// The file that holds ring `name`.
pub fn ring_path(name: &str) -> Result<PathBuf> {
    check_name(name)?;
    Ok(ring_dir().join(format!("{FILE_PREFIX}{name}")))
}

pub(crate) fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: name.to_string(),
        })
    }
}

pub(crate) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn random_u64() -> u64 {
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(now_ns());
    h.write_u32(sys::getpid());
    h.finish()
}

/// Options a ring is created with.
#[derive(Clone, Debug)]
pub struct RingOptions {
    /// The ring's size in bytes, header and tables included.
    pub size: u64,
    pub slots: u32,
    pub max_readers: u32,
    pub policy: Policy,
    /// A CRC-32 of every frame's payload, checked by readers before decoding.
    pub checksum: bool,
    /// File mode of a new ring (0600: only this user).
    pub mode: u32,
    /// When taking over an existing ring of another shape, keep its shape (instead of
    /// replacing it by a new ring of this shape).
    pub adopt_existing: bool,
}

impl Default for RingOptions {
    fn default() -> Self {
        RingOptions {
            size: DEFAULT_SIZE,
            slots: DEFAULT_SLOTS,
            max_readers: DEFAULT_MAX_READERS,
            policy: Policy::Block,
            checksum: false,
            mode: 0o600,
            adopt_existing: false,
        }
    }
}

impl RingOptions {
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = bytes;
        self
    }
    pub fn slots(mut self, n: u32) -> Self {
        self.slots = n;
        self
    }
    pub fn max_readers(mut self, n: u32) -> Self {
        self.max_readers = n;
        self
    }
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }
    pub fn checksum(mut self, on: bool) -> Self {
        self.checksum = on;
        self
    }
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }
    pub fn adopt_existing(mut self, adopt: bool) -> Self {
        self.adopt_existing = adopt;
        self
    }

    fn geometry(&self, name: &str) -> Result<Geometry> {
        let flags = if self.checksum { FLAG_CHECKSUM } else { 0 };
        Geometry::plan(self.size, self.slots, self.max_readers, self.policy, flags).ok_or_else(|| {
            Error::BadOptions {
                ring: name.to_string(),
                detail: format!(
                    "{} bytes cannot hold {} slots of at least 8 KiB beside the header and tables for {} readers (1..4096)",
                    self.size, self.slots, self.max_readers
                ),
            }
        })
    }
}

/// An open ring file and its mapping.
pub(crate) struct Ring {
    pub name: String,
    pub path: PathBuf,
    pub file: File,
    map: MmapRaw,
    pub geo: Geometry,
    pub info: HeaderInfo,
    pub inode: u64,
}

impl Ring {
    /// The atomic u64 at byte `off` of the mapping.
    pub fn u64(&self, off: usize) -> &AtomicU64 {
        assert!(
            off.is_multiple_of(8) && off + 8 <= self.map.len(),
            "u64 field {off} outside the ring"
        );
        // SAFETY: the offset is 8-aligned inside the mapping (checked above; the mapping is
        // page-aligned), the mapping lives as long as `self`, and every process accesses
        // these shared words only through atomics.
        unsafe { AtomicU64::from_ptr(self.map.as_mut_ptr().add(off).cast()) }
    }

    /// The atomic u32 at byte `off` of the mapping.
    pub fn u32(&self, off: usize) -> &AtomicU32 {
        assert!(
            off.is_multiple_of(4) && off + 4 <= self.map.len(),
            "u32 field {off} outside the ring"
        );
        // SAFETY: as for `u64`, with 4-byte alignment.
        unsafe { AtomicU32::from_ptr(self.map.as_mut_ptr().add(off).cast()) }
    }

    pub fn base(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    pub fn map_len(&self) -> usize {
        self.map.len()
    }

    /// Copies `len` bytes at `off` out of the mapping.
    ///
    /// # Safety
    /// No process may write these bytes during the call (the protocol guarantees it for
    /// published schema blobs and for pinned slots).
    pub unsafe fn read_bytes(&self, off: usize, len: usize) -> Vec<u8> {
        assert!(
            off.checked_add(len)
                .is_some_and(|end| end <= self.map.len())
        );
        let mut out = vec![0u8; len];
        // SAFETY: the range is inside the mapping (checked) and, by the caller's contract,
        // not written concurrently; `out` is a distinct allocation of `len` bytes.
        unsafe { std::ptr::copy_nonoverlapping(self.base().add(off), out.as_mut_ptr(), len) };
        out
    }

    /// Copies `src` into the mapping at `off`.
    ///
    /// # Safety
    /// No other process may read or write these bytes during the call: only the writer
    /// calls this, on a slot no reader has pinned or on a schema blob not yet published.
    pub unsafe fn write_bytes(&self, off: usize, src: &[u8]) {
        assert!(
            off.checked_add(src.len())
                .is_some_and(|end| end <= self.map.len())
        );
        // SAFETY: the range is inside the mapping (checked) and exclusively the writer's by
        // the caller's contract; `src` cannot overlap the shared mapping it is copied into
        // because this process maps it only once, here.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.base().add(off), src.len()) };
    }

    pub fn writer_alive(&self) -> bool {
        sys::is_locked(&self.file, WRITER_LOCK, 1).unwrap_or(true)
    }

    pub fn reader_alive(&self, i: u32) -> bool {
        sys::is_locked(&self.file, READER_LOCK_BASE + i as u64, 1).unwrap_or(true)
    }

    /// Whether the ring's name now points at a different file (a newer ring replaced it).
    pub fn replaced(&self) -> bool {
        match std::fs::metadata(&self.path) {
            Ok(m) => m.ino() != self.inode,
            Err(_) => false,
        }
    }

    /// Opens the existing ring `name` read-write and checks its header before mapping it.
    pub fn attach(name: &str) -> Result<Ring> {
        Ring::attach_with(name, true)
    }

    /// As `attach`; `populate` pre-faults the whole mapping (what readers want), while
    /// inspecting a ring's header and tables does not need it.
    pub fn attach_with(name: &str, populate: bool) -> Result<Ring> {
        let path = ring_path(name)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| open_error(name, &path, e))?;
        Ring::from_file(name, path, file, populate)
    }

    fn from_file(name: &str, path: PathBuf, file: File, populate: bool) -> Result<Ring> {
        let meta = file.metadata().map_err(|e| Error::io(name, "stat", e))?;
        let len = meta.len();
        let mut h = [0u8; 128];
        let got = read_prefix(&file, &mut h).map_err(|e| Error::io(name, "read header", e))?;
        if got < 8 || h[..8] != MAGIC {
            return Err(Error::Incompatible {
                ring: name.to_string(),
                found: describe_magic(&h[..got.min(8)]),
                expected: format!("magic {:?}", String::from_utf8_lossy(&MAGIC)),
            });
        }
        if got < 128 {
            return Err(Error::Truncated {
                ring: name.to_string(),
                expected: HEADER_BYTES,
                actual: len,
            });
        }
        let (geo, info) = Geometry::decode(&h, len).map_err(|e| match e {
            HeaderError::Magic(m) => Error::Incompatible {
                ring: name.to_string(),
                found: describe_magic(&m),
                expected: "QUIVRING".into(),
            },
            HeaderError::Version(v) => Error::Incompatible {
                ring: name.to_string(),
                found: format!("layout version {v}"),
                expected: format!("layout version {LAYOUT_VERSION}"),
            },
            HeaderError::Invalid(detail) => Error::corrupt(name, detail),
            HeaderError::Truncated { expected, actual } => Error::Truncated {
                ring: name.to_string(),
                expected,
                actual,
            },
        })?;
        let mut options = MmapOptions::new();
        options.len(geo.total_bytes as usize);
        if populate {
            options.populate();
        }
        let map = options
            .map_raw(&file)
            .map_err(|e| Error::io(name, "map", e))?;
        Ok(Ring {
            name: name.to_string(),
            path,
            inode: meta.ino(),
            file,
            map,
            geo,
            info,
        })
    }

    /// Creates ring `name`, or takes over an existing one whose writer is gone. On success
    /// this process holds the writer lock (byte 0) through the returned ring's file.
    /// Returns whether an existing ring was taken over in place.
    pub fn create(name: &str, opts: &RingOptions) -> Result<(Ring, bool)> {
        let path = ring_path(name)?;
        let geo = opts.geometry(name)?;
        // A few rounds: another creator may link its ring between our attempts.
        for _ in 0..16 {
            match Ring::attach(name) {
                Ok(old) => {
                    if !sys::try_lock(&old.file, WRITER_LOCK, 1)
                        .map_err(|e| Error::io(name, "lock", e))?
                    {
                        return Err(Error::AlreadyExists {
                            ring: name.to_string(),
                            pid: old.u32(W_PID).load(Ordering::Acquire),
                        });
                    }
                    if old.geo == geo || opts.adopt_existing {
                        old.take_over();
                        return Ok((old, true));
                    }
                    // Another shape: build a new ring and rename it over the old one. Readers
                    // of the old file see its writer gone and the name pointing elsewhere.
                    let ring = Ring::build(name, &path, &geo, opts.mode)?;
                    std::fs::rename(&ring.tmp_path, &path)
                        .map_err(|e| Error::io(name, "rename", e))?;
                    old.u32(W_STATE).store(STATE_ABANDONED, Ordering::Release);
                    return ring.named(path);
                }
                Err(Error::NotFound { .. }) => {
                    let ring = Ring::build(name, &path, &geo, opts.mode)?;
                    match std::fs::hard_link(&ring.tmp_path, &path) {
                        Ok(()) => {
                            let _ = std::fs::remove_file(&ring.tmp_path);
                            return ring.named(path);
                        }
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                            // Lost a race with another creator: look at its ring.
                            let _ = std::fs::remove_file(&ring.tmp_path);
                            continue;
                        }
                        Err(e) => {
                            let _ = std::fs::remove_file(&ring.tmp_path);
                            return Err(Error::io(name, "link", e));
                        }
                    }
                }
                Err(other) => return Err(other),
            }
        }
        Err(Error::io(
            name,
            "create",
            io::Error::other(
                "the ring was created and removed repeatedly while this process tried to create it",
            ),
        ))
    }

    /// A new, fully initialised ring under a temporary name, with the writer lock held.
    fn build(name: &str, path: &Path, geo: &Geometry, mode: u32) -> Result<Building> {
        let dir = path.parent().unwrap_or(Path::new("/"));
        let tmp_path = dir.join(format!(
            ".{FILE_PREFIX}{name}.{}.{:016x}",
            sys::getpid(),
            random_u64()
        ));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp_path)
            .map_err(|e| open_error(name, &tmp_path, e))?;
        let cleanup = |e: Error| {
            let _ = std::fs::remove_file(&tmp_path);
            e
        };
        // create_new honours the umask; the ring's mode is what was asked for.
        std::fs::set_permissions(
            &tmp_path,
            std::os::unix::fs::PermissionsExt::from_mode(mode),
        )
        .map_err(|e| cleanup(Error::io(name, "chmod", e)))?;
        if let Err(e) = sys::fallocate(&file, geo.total_bytes) {
            let err = if e.raw_os_error() == Some(libc::ENOSPC)
                || e.raw_os_error() == Some(libc::EFBIG)
            {
                Error::NoSpace {
                    ring: name.to_string(),
                    needed: geo.total_bytes,
                    free: sys::free_bytes(&file).unwrap_or(0),
                }
            } else {
                Error::io(name, "allocate", e)
            };
            return Err(cleanup(err));
        }
        if !sys::try_lock(&file, WRITER_LOCK, 1).map_err(|e| cleanup(Error::io(name, "lock", e)))? {
            return Err(cleanup(Error::io(
                name,
                "lock",
                io::Error::other("a fresh file is locked"),
            )));
        }
        let map = MmapOptions::new()
            .len(geo.total_bytes as usize)
            .populate()
            .map_raw(&file)
            .map_err(|e| cleanup(Error::io(name, "map", e)))?;
        let info = HeaderInfo {
            ring_id: random_u64(),
            create_time_ns: now_ns(),
            creator_uid: sys::getuid(),
        };
        let inode = file.metadata().map(|m| m.ino()).unwrap_or(0);
        let ring = Ring {
            name: name.to_string(),
            path: tmp_path.clone(),
            file,
            map,
            geo: geo.clone(),
            info: info.clone(),
            inode,
        };
        let header = geo.encode(info.ring_id, info.create_time_ns, info.creator_uid);
        // SAFETY: the file has no name other readers could open yet: nobody else maps it.
        unsafe { ring.write_bytes(0, &header) };
        ring.u64(W_SEQ).store(1, Ordering::Relaxed);
        ring.u32(W_EPOCH).store(1, Ordering::Relaxed);
        ring.u32(W_PID).store(sys::getpid(), Ordering::Relaxed);
        ring.u32(W_STATE).store(STATE_OPEN, Ordering::Relaxed);
        for i in 0..geo.max_readers {
            ring.u64(geo.reader_record(i) + R_PIN_MIN)
                .store(u64::MAX, Ordering::Relaxed);
        }
        std::sync::atomic::fence(Ordering::SeqCst);
        Ok(Building { ring, tmp_path })
    }

    /// Takes over a ring whose writer died or closed it: a new epoch, and no slot left in the
    /// "being written" state. Frames already published stay readable.
    fn take_over(&self) {
        for s in 0..self.geo.slot_count as u64 {
            let stamp = self.u64(self.geo.slot_offset(s + 1) + SL_STAMP);
            let t = stamp.load(Ordering::Acquire);
            if t % 2 == 1 {
                stamp.store(0, Ordering::Release);
            }
        }
        self.u32(W_EPOCH).fetch_add(1, Ordering::AcqRel);
        self.u32(W_PID).store(sys::getpid(), Ordering::Release);
        self.u64(W_EOS).store(0, Ordering::Release);
        self.u32(W_STATE).store(STATE_OPEN, Ordering::Release);
    }
}

struct Building {
    ring: Ring,
    tmp_path: PathBuf,
}

impl std::ops::Deref for Building {
    type Target = Ring;
    fn deref(&self) -> &Ring {
        &self.ring
    }
}

impl Building {
    fn named(mut self, path: PathBuf) -> Result<(Ring, bool)> {
        self.ring.path = path;
        Ok((self.ring, false))
    }
}

fn read_prefix(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], got as u64)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

fn describe_magic(m: &[u8]) -> String {
    if m.is_empty() {
        return "an empty file".into();
    }
    if m.starts_with(b"QDAS") || m.starts_with(&0x5144_4153u32.to_le_bytes()) {
        return "a QADataSwap arena (magic QDAS)".into();
    }
    format!("magic {:02x?}", m)
}

pub(crate) fn open_error(name: &str, path: &Path, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::NotFound => Error::NotFound {
            ring: name.to_string(),
            path: path.to_path_buf(),
        },
        io::ErrorKind::PermissionDenied => {
            let (mode, owner) = std::fs::metadata(path)
                .map(|m| (m.mode() & 0o7777, m.uid()))
                .unwrap_or((0, 0));
            Error::PermissionDenied {
                ring: name.to_string(),
                path: path.to_path_buf(),
                mode,
                owner,
                uid: sys::getuid(),
            }
        }
        _ => Error::io(name, "open", e),
    }
}
