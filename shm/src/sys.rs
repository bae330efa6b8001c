//! The system calls a ring needs that std does not offer: open-file-description locks (the
//! kernel releases them when a process dies, so they tell who is alive), futex waits and
//! wakes on a word in the shared mapping, and `posix_fallocate` (which reserves the whole
//! ring up front, so a full tmpfs fails at creation instead of with a later SIGBUS).
//!
//! Each function is a thin wrapper with its own `# Safety` reasoning; none of them hands out
//! memory.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

fn flock(kind: libc::c_int, start: u64, len: u64) -> libc::flock {
    // SAFETY: `flock` is a plain C struct of integers, for which all-zero bytes are a valid
    // value; every field the kernel reads is set below.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = start as libc::off_t;
    fl.l_len = len as libc::off_t;
    fl.l_pid = 0; // required to be 0 for OFD locks
    fl
}

/// Takes an exclusive open-file-description lock on bytes `start..start+len` of `file`
/// without waiting. `Ok(false)` when another open file description holds a lock there.
pub(crate) fn try_lock(file: &File, start: u64, len: u64) -> io::Result<bool> {
    let fl = flock(libc::F_WRLCK, start, len);
    // SAFETY: `fl` is a valid, initialised `flock` that outlives the call, and the file
    // descriptor is open for as long as `file` is borrowed.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &fl) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(false),
        _ => Err(err),
    }
}

/// Releases this description's lock on bytes `start..start+len`.
pub(crate) fn unlock(file: &File, start: u64, len: u64) -> io::Result<()> {
    let fl = flock(libc::F_UNLCK, start, len);
    // SAFETY: as in `try_lock`.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &fl) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether another open file description holds a lock on any byte of `start..start+len`.
/// A lock this description holds itself never counts.
pub(crate) fn is_locked(file: &File, start: u64, len: u64) -> io::Result<bool> {
    let mut fl = flock(libc::F_WRLCK, start, len);
    // SAFETY: `fl` is valid and writable for the kernel to fill in, and outlives the call.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fl.l_type != libc::F_UNLCK as libc::c_short)
}

/// Reserves `len` bytes of `file` in the file system: on tmpfs this allocates (and so
/// pre-faults) every page now, and fails at once with `ENOSPC` when they do not fit.
pub(crate) fn fallocate(file: &File, len: u64) -> io::Result<()> {
    // SAFETY: a plain system call on an open descriptor; no memory is passed.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len as libc::off_t) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Free bytes on the file system holding `file`, for error messages.
pub(crate) fn free_bytes(file: &File) -> io::Result<u64> {
    // SAFETY: `statvfs` is a plain C struct of integers; the kernel fills it in.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is writable and outlives the call; the descriptor is open.
    let rc = unsafe { libc::fstatvfs(file.as_raw_fd(), &mut st) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Sleeps while `word` still holds `expected`, for at most `timeout`. Returns early on a
/// wake, a changed value, a signal or the timeout: callers re-check their condition.
/// The futex is a shared one (no `FUTEX_PRIVATE_FLAG`): the word lives in a mapping other
/// processes see.
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a live, 4-byte-aligned atomic (the kernel only reads it and queues
    // this thread on its address); `ts` outlives the call. Every return value is acceptable:
    // the caller loops and re-checks.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// Wakes every process waiting on `word`.
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: `word` is a live, aligned atomic; FUTEX_WAKE does not touch memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

pub(crate) fn getpid() -> u32 {
    std::process::id()
}

pub(crate) fn getuid() -> u32 {
    // SAFETY: getuid cannot fail and takes no arguments.
    unsafe { libc::getuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_conflict_between_descriptions_and_free_on_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [0u8; 16]).unwrap();
        let open = || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .unwrap()
        };
        let (a, b) = (open(), open());
        assert!(try_lock(&a, 3, 1).unwrap());
        assert!(is_locked(&b, 3, 1).unwrap());
        assert!(!is_locked(&a, 3, 1).unwrap(), "own lock does not conflict");
        assert!(!try_lock(&b, 3, 1).unwrap());
        assert!(try_lock(&b, 4, 1).unwrap(), "other bytes are free");
        drop(a);
        assert!(!is_locked(&b, 0, 4).unwrap());
        assert!(try_lock(&b, 3, 1).unwrap());
        unlock(&b, 3, 1).unwrap();
    }
}
