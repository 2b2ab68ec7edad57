//! The command's own terminal (issue 12): when the caller's stdin is a terminal, the command never
//! gets it. It gets a pseudo-terminal of its own instead, as `docker exec -t` does, and nsview
//! relays between the two; without a terminal the command only gets a session of its own.
//!
//! - caller ([`socket_pair`], [`receive_master`], [`Relay`]): before starting the helper, a socket
//!   pair; the helper sends the pty's master back over it (SCM_RIGHTS). The relay puts the caller's
//!   terminal in raw mode (restored on drop, whatever the way out), copies stdin to the master and
//!   the master to stdout, copies the window size (at the start and on every SIGWINCH), and passes
//!   SIGTERM, SIGHUP, SIGINT and SIGQUIT on to the pty's foreground process group.
//! - helper ([`PtyRequest`]): after joining the namespaces it opens `dev/ptmx` beneath the target's
//!   root when the mount namespace is joined (the container's devpts, so the pty is the
//!   container's), else the host's, opened before joining; it keeps the slave for the child.
//! - child ([`become_session_leader`]): setsid(); with a slave, that slave becomes its controlling
//!   terminal and its fds 0, 1 and 2. A TIOCSTI from the command can then only reach its own pty.

use super::error::EnterError;
use super::open::Opened;
use super::plan::EnterSpec;
use super::report::warn;
use super::signal_pipe::SignalPipe;
use crate::model::NsType;
use nix::fcntl::OFlag;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use rustix::pty::OpenptFlags;
use rustix::termios::{OptionalActions, Termios};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGWINCH};
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::thread::JoinHandle;
use std::time::Duration;

/// Signals the caller passes on to the command's foreground process group.
const FORWARDED: [i32; 4] = [SIGTERM, SIGHUP, SIGINT, SIGQUIT];

/// How long the relay keeps reading the master after the command ended, while output still comes
/// (a process the command left behind may hold the pty open for ever).
const DRAIN_QUIET: Duration = Duration::from_millis(200);

// ---------------------------------------------------------------------------------------------
// Caller
// ---------------------------------------------------------------------------------------------

/// Stdin is a terminal: the command gets a pty of its own.
pub(super) fn stdin_is_terminal() -> bool {
    rustix::termios::isatty(rustix::stdio::stdin())
}

/// The socket pair the helper sends the master over: (the caller's end, the helper's end), both
/// close-on-exec (the caller clears the flag of the helper's end in the forked child only).
pub(super) fn socket_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// The master the helper sent; None when the helper ended without sending one (it failed before,
/// and says why over the report pipe).
pub(super) fn receive_master(socket: &OwnedFd) -> Option<OwnedFd> {
    let mut byte = [0u8; 1];
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    loop {
        match rustix::net::recvmsg(
            socket,
            &mut [IoSliceMut::new(&mut byte)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        ) {
            Ok(_) => break,
            Err(Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
    let mut master = None;
    for msg in control.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = msg {
            master = master.or(fds.into_iter().next());
        }
    }
    master
}

/// The caller's terminal in raw mode; put back as it was on drop.
struct RawMode {
    saved: Termios,
}

impl RawMode {
    fn enter() -> Option<RawMode> {
        let stdin = rustix::stdio::stdin();
        let saved = rustix::termios::tcgetattr(stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(stdin, OptionalActions::Now, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ =
            rustix::termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &self.saved);
    }
}

/// The relay between the caller's terminal and the command's pty, in a thread of the caller.
/// Field order is drop order: the thread is stopped and joined before the terminal is restored.
pub(super) struct Relay {
    stop: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
    _raw: Option<RawMode>,
}

impl Relay {
    /// Raw mode, the window size, the signal pipes, then the thread.
    pub(super) fn start(master: OwnedFd) -> std::io::Result<Relay> {
        rustix::io::ioctl_fionbio(&master, true)?;
        let signals = [SIGWINCH]
            .into_iter()
            .chain(FORWARDED)
            .map(SignalPipe::register)
            .collect::<std::io::Result<Vec<_>>>()?;
        let (stop_read, stop_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let raw = RawMode::enter();
        copy_window_size(&master);
        let thread = std::thread::Builder::new()
            .name("nsview-pty".into())
            .spawn(move || relay_loop(&master, &stop_read, &signals))?;
        Ok(Relay {
            stop: Some(stop_write),
            thread: Some(thread),
            _raw: raw,
        })
    }

    /// The command has ended: copy what it still wrote, stop the thread.
    pub(super) fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = rustix::io::write(&stop, b"x");
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// The caller's window size onto the pty.
fn copy_window_size(master: &OwnedFd) {
    if let Ok(size) = rustix::termios::tcgetwinsize(rustix::stdio::stdin()) {
        let _ = rustix::termios::tcsetwinsize(master, size);
    }
}

/// What the relay copies and where it stands.
struct Streams<'a> {
    master: &'a OwnedFd,
    /// Read from stdin, not yet taken by the master.
    pending: Vec<u8>,
    stdin_open: bool,
    master_open: bool,
}

/// The relay thread: poll stdin, the master, the stop pipe and the signal pipes until stopped.
fn relay_loop(master: &OwnedFd, stop: &OwnedFd, signals: &[SignalPipe]) {
    let mut s = Streams {
        master,
        pending: Vec::new(),
        stdin_open: true,
        master_open: true,
    };
    let stdin = rustix::stdio::stdin();
    loop {
        let want_stdin = s.stdin_open && s.pending.is_empty();
        let mut master_events = PollFlags::empty();
        if s.master_open {
            master_events |= PollFlags::IN;
            if !s.pending.is_empty() {
                master_events |= PollFlags::OUT;
            }
        }
        let mut fds = vec![
            PollFd::new(&stop, PollFlags::IN),
            PollFd::new(master, master_events),
            PollFd::new(
                &stdin,
                if want_stdin {
                    PollFlags::IN
                } else {
                    PollFlags::empty()
                },
            ),
        ];
        fds.extend(signals.iter().map(|p| PollFd::new(&p.read, PollFlags::IN)));
        match poll(&mut fds, None) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(_) => return,
        }
        let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        drop(fds);
        if ready[0] {
            s.drain_master();
            return;
        }
        if ready[1] {
            s.master_ready();
        }
        if ready[2] {
            s.stdin_ready(stdin);
        }
        for (pipe, _) in signals.iter().zip(&ready[3..]).filter(|(_, r)| **r) {
            pipe.drain();
            s.pass_signal(pipe.signal);
        }
    }
}

impl Streams<'_> {
    /// The master is readable (output for stdout) or writable (room for pending input).
    fn master_ready(&mut self) {
        if !self.pending.is_empty() {
            match rustix::io::write(self.master, &self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(_) => self.pending.clear(),
            }
        }
        let mut buf = [0u8; 8192];
        match rustix::io::read(self.master, &mut buf) {
            Ok(0) => self.master_open = false,
            Ok(n) => write_stdout(&buf[..n]),
            Err(Errno::AGAIN | Errno::INTR) => {}
            // EIO: no process holds the slave any more.
            Err(_) => self.master_open = false,
        }
    }

    fn stdin_ready(&mut self, stdin: BorrowedFd<'_>) {
        let mut buf = [0u8; 4096];
        match rustix::io::read(stdin, &mut buf) {
            Ok(0) => self.stdin_open = false,
            Ok(n) => self.pending.extend_from_slice(&buf[..n]),
            Err(Errno::AGAIN | Errno::INTR) => {}
            Err(_) => self.stdin_open = false,
        }
    }

    /// SIGWINCH: the new size onto the pty (the kernel signals its foreground group). Others: on
    /// to the pty's foreground process group, as the terminal would have sent them.
    fn pass_signal(&self, signal: i32) {
        if signal == SIGWINCH {
            copy_window_size(self.master);
            return;
        }
        if let (Ok(group), Some(sig)) = (
            rustix::termios::tcgetpgrp(self.master),
            rustix::process::Signal::from_named_raw(signal),
        ) {
            let _ = rustix::process::kill_process_group(group, sig);
        }
    }

    /// After the command ended: copy the rest of its output, until the pty is closed or quiet.
    fn drain_master(&self) {
        let timeout = Timespec::try_from(DRAIN_QUIET).unwrap_or_default();
        if !self.master_open {
            return;
        }
        loop {
            let mut fds = [PollFd::new(self.master, PollFlags::IN)];
            match poll(&mut fds, Some(&timeout)) {
                Ok(0) => return,
                Ok(_) | Err(Errno::INTR) => {}
                Err(_) => return,
            }
            let mut buf = [0u8; 8192];
            match rustix::io::read(self.master, &mut buf) {
                Ok(0) => return,
                Ok(n) => write_stdout(&buf[..n]),
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(_) => return,
            }
        }
    }
}

/// All of `bytes` to fd 1 (the caller's terminal; blocking, as the terminal takes its time).
fn write_stdout(mut bytes: &[u8]) {
    let stdout = rustix::stdio::stdout();
    while !bytes.is_empty() {
        match rustix::io::write(stdout, bytes) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(_) => return,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helper
// ---------------------------------------------------------------------------------------------

/// The caller asked for a pty: the socket to send the master over, and the host's ptmx opened
/// before joining (the fallback when the target has none).
pub(super) struct PtyRequest {
    socket: OwnedFd,
    host_ptmx: Option<OwnedFd>,
}

impl PtyRequest {
    /// Take `fd` (the helper's end of the socket pair) if it is open, and open the host's ptmx.
    pub(super) fn adopt(fd: RawFd) -> Option<PtyRequest> {
        // SAFETY: F_GETFD only reads the flags of an fd number; an fd above 2 that is open here
        // was passed by the caller for this purpose and is owned by nothing else in the helper.
        let socket = unsafe {
            if fd <= 2 || nix::libc::fcntl(fd, nix::libc::F_GETFD) == -1 {
                return None;
            }
            OwnedFd::from_raw_fd(fd)
        };
        let _ = rustix::io::fcntl_setfd(&socket, rustix::io::FdFlags::CLOEXEC);
        let host_ptmx =
            rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
                .ok();
        Some(PtyRequest { socket, host_ptmx })
    }

    /// After joining the namespaces: a pty (the target's when its mount namespace is joined),
    /// its master sent to the caller. Returns the slave, for the child.
    pub(super) fn allocate(self, spec: &EnterSpec, o: &Opened) -> Result<OwnedFd, EnterError> {
        let target = if spec.types().contains(&NsType::Mnt) {
            let found = open_target_ptmx(o);
            if found.is_none() {
                warn("the target has no usable /dev/ptmx: the command's terminal is a host pty");
            }
            found
        } else {
            None
        };
        let master = target.or(self.host_ptmx).ok_or_else(|| {
            spec.failed("cannot open /dev/ptmx for the command's terminal".into())
        })?;
        rustix::pty::unlockpt(&master).map_err(|e| spec.failed(format!("unlockpt: {e}")))?;
        let slave = rustix::pty::ioctl_tiocgptpeer(
            &master,
            OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC,
        )
        .map_err(|e| spec.failed(format!("opening the pty's slave: {e}")))?;
        send_master(&self.socket, &master)
            .map_err(|e| spec.failed(format!("handing the pty to nsview: {e}")))?;
        Ok(slave)
    }
}

/// `dev/ptmx` beneath the target's root (resolved inside it, symlinks included), if it is the
/// pty multiplexer (character device 5:2) and a pty can be had from it.
fn open_target_ptmx(o: &Opened) -> Option<OwnedFd> {
    let root = match &o.root {
        Some(fd) => fd.as_fd(),
        None => rustix::fs::CWD,
    };
    let path = if o.root.is_some() {
        "dev/ptmx"
    } else {
        "/dev/ptmx"
    };
    let fd = rustix::fs::openat2(
        root,
        path,
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
    .ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    let is_char =
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::CharacterDevice;
    let ptmx = rustix::fs::makedev(5, 2);
    if !is_char || st.st_rdev != ptmx {
        return None;
    }
    rustix::fs::fcntl_setfl(&fd, OFlags::RDWR).ok()?;
    Some(fd)
}

fn send_master(socket: &OwnedFd, master: &OwnedFd) -> std::io::Result<()> {
    let fds = [master.as_fd()];
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    control.push(SendAncillaryMessage::ScmRights(&fds));
    rustix::net::sendmsg(
        socket,
        &[IoSlice::new(b"m")],
        &mut control,
        SendFlags::NOSIGNAL,
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Child
// ---------------------------------------------------------------------------------------------

/// A session of its own; with `terminal`, that pty as the controlling terminal and fds 0, 1, 2.
pub(super) fn become_session_leader(
    spec: &EnterSpec,
    terminal: Option<OwnedFd>,
) -> Result<(), EnterError> {
    rustix::process::setsid().map_err(|e| spec.failed(format!("setsid: {e}")))?;
    let Some(tty) = terminal else {
        return Ok(());
    };
    rustix::process::ioctl_tiocsctty(&tty)
        .map_err(|e| spec.failed(format!("TIOCSCTTY on its pty: {e}")))?;
    for target in 0..=2 {
        // SAFETY: fds 0, 1 and 2 are the standard streams, which nothing in the child holds as
        // a Rust object; dup2 replaces them with the pty.
        let mut std_fd = unsafe { OwnedFd::from_raw_fd(target) };
        let r = rustix::io::dup2(&tty, &mut std_fd);
        std::mem::forget(std_fd);
        r.map_err(|e| spec.failed(format!("dup2 of its pty: {e}")))?;
    }
    Ok(())
}
