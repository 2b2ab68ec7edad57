//! The helper's binary: a sealed in-memory copy of nsview, so that nothing the helper or its
//! forked child exposes to the target (/proc/PID/exe) leads to the host's nsview binary.
//!
//! CVE-2019-5736: a process in a container opened runc's binary through /proc/PID/exe of the
//! `runc init` that was joining it, and overwrote it on the host. runc's answer, taken here: run
//! the joining process from a memfd copy, sealed against every change (memfd_create(2),
//! fcntl(2) F_ADD_SEALS), so /proc/PID/exe is `/memfd:nsview (deleted)` and cannot be written.
//! One copy per `enter`, nothing cached: the copy goes away with the last process running it.

use crate::sys::{Roots, SysError, self_exe};
use rustix::fs::{MemfdFlags, SealFlags};
use rustix::io::Errno;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The memfd's name: /proc/PID/exe of the helper reads `/memfd:nsview (deleted)`.
const MEMFD_NAME: &str = "nsview";

/// Bytes asked of one copy_file_range(2) or sendfile(2) call.
const CHUNK: usize = 1 << 30;

/// A sealed memfd holding a copy of an executable; close-on-exec, so the helper it starts does
/// not keep it open.
#[derive(Debug)]
pub(super) struct SealedExe {
    memfd: OwnedFd,
}

impl SealedExe {
    /// Copy the executable at `path` into a new memfd and seal it. Errors are one line naming
    /// what failed.
    pub(super) fn copy_of(path: &Path) -> Result<SealedExe, String> {
        let source = self_exe::open_executable(path).map_err(|e| e.to_string())?;
        let expected = source
            .metadata()
            .map_err(|e| SysError::io(path, e).to_string())?
            .len();
        let memfd = create_memfd().map_err(|e| format!("memfd_create: {e}"))?;
        let copied = copy_all(&source, &memfd)
            .map_err(|e| format!("copying {} into a memfd: {e}", path.display()))?;
        if copied != expected {
            return Err(format!(
                "copying {}: {copied} of {expected} bytes",
                path.display()
            ));
        }
        seal(&memfd).map_err(|e| format!("sealing the copy of {}: {e}", path.display()))?;
        Ok(SealedExe { memfd })
    }

    /// The path that execs the copy from this process (/proc/self/fd/N, what fexecve(3) does):
    /// valid in this process and in a child forked from it until that child execs.
    pub(super) fn exec_path(&self) -> PathBuf {
        self_exe::self_fd_path(&Roots::default(), self.memfd.as_raw_fd())
    }
}

/// memfd_create(2), close-on-exec, sealable, executable. MFD_EXEC (Linux 6.3) says so explicitly
/// where vm.memfd_noexec would otherwise make it non-executable; older kernels refuse the flag.
fn create_memfd() -> io::Result<OwnedFd> {
    let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    match rustix::fs::memfd_create(MEMFD_NAME, flags | MemfdFlags::EXEC) {
        Err(Errno::INVAL) => Ok(rustix::fs::memfd_create(MEMFD_NAME, flags)?),
        r => Ok(r?),
    }
}

/// Copy all of `source` into `memfd` (both at offset 0): copy_file_range(2) in the kernel,
/// sendfile(2) where it refuses (EXDEV across file systems before Linux 5.3 and since 5.19),
/// read and write where both do. Returns the bytes copied.
fn copy_all(source: &File, memfd: &OwnedFd) -> io::Result<u64> {
    let mut copied = 0u64;
    loop {
        match rustix::fs::copy_file_range(source, None, memfd, None, CHUNK) {
            Ok(0) => return Ok(copied),
            Ok(n) => copied += n as u64,
            Err(Errno::INTR) => {}
            Err(Errno::XDEV | Errno::NOSYS | Errno::INVAL | Errno::OPNOTSUPP) if copied == 0 => {
                return sendfile_all(source, memfd);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The rest of `source` into `memfd` with sendfile(2), falling back to read and write.
fn sendfile_all(source: &File, memfd: &OwnedFd) -> io::Result<u64> {
    let mut copied = 0u64;
    loop {
        match rustix::fs::sendfile(memfd, source, None, CHUNK) {
            Ok(0) => return Ok(copied),
            Ok(n) => copied += n as u64,
            Err(Errno::INTR) => {}
            Err(Errno::NOSYS | Errno::INVAL) if copied == 0 => {
                return read_write_all(source, memfd);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The rest of `source` into `memfd` through a buffer.
fn read_write_all(mut source: &File, memfd: &OwnedFd) -> io::Result<u64> {
    let mut out = File::from(memfd.try_clone()?);
    io::copy(&mut source, &mut out).and_then(|n| out.flush().map(|()| n))
}

/// Seal the copy: no write, no resize, no further seal; and no chmod of the exec bits where the
/// kernel has F_SEAL_EXEC (Linux 6.3).
fn seal(memfd: &OwnedFd) -> io::Result<()> {
    let fd = memfd.as_fd();
    let _ = rustix::fs::fcntl_add_seals(fd, SealFlags::EXEC);
    rustix::fs::fcntl_add_seals(
        fd,
        SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom};

    #[test]
    fn copy_is_identical_and_sealed_against_every_change() {
        let exe = self_exe::self_exe_path(&Roots::default());
        let sealed = SealedExe::copy_of(&exe).expect("copy");
        let original = std::fs::read(&exe).expect("read self");
        let mut copy = Vec::new();
        let mut f = File::from(sealed.memfd.try_clone().expect("dup"));
        f.seek(SeekFrom::Start(0)).expect("seek");
        f.read_to_end(&mut copy).expect("read copy");
        assert!(copy == original, "the copy differs from /proc/self/exe");

        let seals = rustix::fs::fcntl_get_seals(&sealed.memfd).expect("get seals");
        for s in [
            SealFlags::SEAL,
            SealFlags::SHRINK,
            SealFlags::GROW,
            SealFlags::WRITE,
        ] {
            assert!(seals.contains(s), "{s:?} missing in {seals:?}");
        }
        assert!(f.write_all(b"x").is_err(), "a sealed memfd took a write");
        assert!(f.set_len(0).is_err(), "a sealed memfd was truncated");
        let link = std::fs::read_link(sealed.exec_path()).expect("readlink");
        assert_eq!(link, Path::new("/memfd:nsview (deleted)"));
    }
}
