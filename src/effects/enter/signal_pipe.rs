//! A signal delivered as a byte on a pipe (signal-hook's self-pipe), for the caller's poll loops:
//! the pty relay (`pty`) and the wait for the helper (`interrupt`).

use nix::fcntl::OFlag;
use std::os::fd::OwnedFd;

/// The pipe a handler for `signal` writes to while this lives; the handler goes on drop.
pub(super) struct SignalPipe {
    pub(super) signal: i32,
    /// Readable (poll IN) once the signal arrived.
    pub(super) read: OwnedFd,
    id: signal_hook::SigId,
}

impl SignalPipe {
    pub(super) fn register(signal: i32) -> std::io::Result<SignalPipe> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        let id = signal_hook::low_level::pipe::register(signal, write)?;
        Ok(SignalPipe { signal, read, id })
    }

    /// Whether the signal arrived since the last call, emptying the pipe.
    pub(super) fn drain(&self) -> bool {
        let mut buf = [0u8; 64];
        let mut arrived = false;
        while let Ok(n) = rustix::io::read(&self.read, &mut buf) {
            if n == 0 {
                break;
            }
            arrived = true;
        }
        arrived
    }
}

impl Drop for SignalPipe {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.id);
    }
}
