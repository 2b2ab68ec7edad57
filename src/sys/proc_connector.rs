//! The kernel's process events connector (NETLINK_CONNECTOR, multicast group CN_IDX_PROC;
//! include/uapi/linux/cn_proc.h, Documentation/driver-api/connector.rst): the kernel sends one
//! datagram per fork, exec, exit, comm, uid, gid, sid, ptrace and coredump of every task on the
//! host, so a live view learns which processes came, went or exec'd without listing /proc.
//!
//! Only root in the initial user and pid namespaces may listen (CAP_NET_ADMIN to bind to the
//! group; the kernel answers PROC_CN_MCAST_LISTEN from elsewhere with EPERM), and PIDs are those
//! of the initial pid namespace. The socket's receive buffer can overflow when many processes
//! start at once: the next read then fails with ENOBUFS ([`Drained::Overrun`]) and the events
//! lost are unknown, so the caller must list /proc again.
//!
//! What the connector does not report: setns(2) and unshare(2), a move to another cgroup, a
//! command line rewritten in place, a hostname or interface change. The caller keeps reading
//! those some other way.

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_CONNECTOR};
use nix::libc;
use std::io;

/// CN_IDX_PROC and CN_VAL_PROC (connector.h): the connector's id of process events.
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
/// enum proc_cn_mcast_op: PROC_CN_MCAST_LISTEN.
const PROC_CN_MCAST_LISTEN: u32 = 1;
/// NLMSG_DONE: the message type the connector's own tools send requests with.
const NLMSG_DONE: u16 = 3;
/// sizeof(struct nlmsghdr) and sizeof(struct cn_msg).
const NLMSG_HDRLEN: usize = 16;
const CN_MSG_LEN: usize = 20;
/// enum proc_event.what values this module tells apart.
const PROC_EVENT_NONE: u32 = 0;
const PROC_EVENT_FORK: u32 = 0x0000_0001;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
const PROC_EVENT_UID: u32 = 0x0000_0004;
const PROC_EVENT_GID: u32 = 0x0000_0040;
const PROC_EVENT_COMM: u32 = 0x0000_0200;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;
/// Receive buffer asked for (root may exceed rmem_max with SO_RCVBUFFORCE): room for tens of
/// thousands of events between two passes, so that a container start rarely overruns it.
const RECV_BUFFER: libc::c_int = 8 << 20;

/// One event that matters to a process list (thread events are dropped: a thread that is not
/// its group's leader is not a process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcEvent {
    /// A new process (thread group), `tgid`, forked by `parent` (a TGID).
    Fork { tgid: i32, parent: i32 },
    /// Process `tgid` exec'd: new command line, comm, maybe credentials.
    Exec(i32),
    /// The leader of thread group `tgid` exited: normally the whole process (the others go
    /// first), but a leader that calls pthread_exit(3) leaves its process running without it,
    /// and an exec by another thread kills the leader before the exec event.
    Exit(i32),
    /// Its comm, UID or GID changed.
    Changed(i32),
}

/// How a drain went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every event since the last drain is in the output.
    Complete,
    /// The receive buffer overflowed (ENOBUFS): events were lost.
    Overrun,
}

/// A socket subscribed to process events.
pub struct ProcEvents {
    socket: Socket,
    buf: Vec<u8>,
}

impl ProcEvents {
    /// Bind to the process events group and ask the kernel to send them. Fails when nsview may
    /// not listen (not root, not in the initial namespaces) or the kernel lacks
    /// CONFIG_PROC_EVENTS.
    pub fn subscribe() -> io::Result<ProcEvents> {
        let mut socket = Socket::new(NETLINK_CONNECTOR)?;
        // Bound before listening starts, so that no event after the request is missed.
        socket.bind(&SocketAddr::new(0, CN_IDX_PROC))?;
        set_recv_buffer(&socket);
        socket.set_non_blocking(true)?;
        // The answer is multicast like the events, so other listeners' answers can arrive too:
        // ours carries our ack plus one (cn_proc_ack; its seq is the kernel's event counter).
        let ack = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() ^ std::process::id());
        let request = listen_request(ack);
        socket.send(&request, 0)?;
        let mut events = ProcEvents {
            socket,
            buf: vec![0; 4096],
        };
        // The kernel answers at once (the reply is queued before send returns) with a
        // PROC_EVENT_NONE whose ack.err is 0, or EPERM when this process may not listen; events
        // of other processes may come before it. Outside the initial namespaces older kernels
        // do not answer at all.
        loop {
            let Some(datagram) = events.recv()? else {
                return Err(io::Error::other(
                    "the process events connector did not answer (CONFIG_PROC_EVENTS, or not in \
                     the initial namespaces)",
                ));
            };
            match parse_ack(datagram) {
                Some((a, 0)) if a == ack.wrapping_add(1) => return Ok(events),
                Some((a, err)) if a == ack.wrapping_add(1) => {
                    return Err(io::Error::from_raw_os_error(err));
                }
                _ => {}
            }
        }
    }

    /// Append every event received since the last call to `out`, oldest first. An error other
    /// than an overrun means the socket is no longer usable.
    pub fn drain(&mut self, out: &mut Vec<ProcEvent>) -> io::Result<Drained> {
        loop {
            match self.recv() {
                Ok(Some(datagram)) => out.extend(parse_event(datagram)),
                Ok(None) => return Ok(Drained::Complete),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // The error is reported once; what is queued after it is consistent again,
                    // but the caller lists /proc anyway, so it is dropped too.
                    self.discard()?;
                    return Ok(Drained::Overrun);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Drop every queued event (the caller is about to list /proc, which supersedes them).
    pub fn discard(&mut self) -> io::Result<()> {
        loop {
            match self.recv() {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// One datagram from the kernel, or `None` when none is queued. Datagrams from any other
    /// sender (a process's netlink socket has a port id other than 0) are dropped: only the
    /// kernel says which processes came and went.
    fn recv(&mut self) -> io::Result<Option<&[u8]>> {
        loop {
            let mut whole: &mut [u8] = &mut self.buf[..];
            match self.socket.recv_from(&mut whole, 0) {
                Ok((_, from)) if !from_kernel(&from) => {}
                Ok((n, _)) => return Ok(self.buf.get(..n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The kernel sends from port id (nl_pid) 0; every process's socket has another.
fn from_kernel(from: &SocketAddr) -> bool {
    from.port_number() == 0
}

/// Ask for a receive buffer large enough for bursts: SO_RCVBUFFORCE (root), else SO_RCVBUF up to
/// rmem_max. A smaller buffer only means more overruns, so failures are ignored.
fn set_recv_buffer(socket: &Socket) {
    use std::os::fd::AsRawFd;
    let size = RECV_BUFFER;
    // SAFETY: the fd is a socket owned by `socket` for the whole call; SO_RCVBUFFORCE reads
    // exactly one `int`, which `size` is, and the length passed is its size.
    let forced = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if forced != 0 {
        let _ = socket.set_rx_buf_sz(size);
    }
}

/// nlmsghdr + cn_msg {id CN_IDX_PROC/CN_VAL_PROC, ack, len 4} + PROC_CN_MCAST_LISTEN. The 4-byte
/// form (not struct proc_input) asks for every event on every kernel since 2.6.15.
fn listen_request(ack: u32) -> Vec<u8> {
    let payload = PROC_CN_MCAST_LISTEN.to_ne_bytes();
    let total = NLMSG_HDRLEN + CN_MSG_LEN + payload.len();
    let mut m = Vec::with_capacity(total);
    m.extend_from_slice(&(total as u32).to_ne_bytes()); // nlmsg_len
    m.extend_from_slice(&NLMSG_DONE.to_ne_bytes()); // nlmsg_type
    m.extend_from_slice(&0u16.to_ne_bytes()); // nlmsg_flags
    m.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_seq
    m.extend_from_slice(&std::process::id().to_ne_bytes()); // nlmsg_pid
    m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes()); // cn_msg.id.idx
    m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes()); // cn_msg.id.val
    m.extend_from_slice(&0u32.to_ne_bytes()); // cn_msg.seq
    m.extend_from_slice(&ack.to_ne_bytes()); // cn_msg.ack
    m.extend_from_slice(&(payload.len() as u16).to_ne_bytes()); // len
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&payload);
    m
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// struct proc_event inside a datagram: (what, event_data), after checking that the datagram is
/// a connector message with the process events id.
fn proc_event(datagram: &[u8]) -> Option<(u32, &[u8])> {
    let idx = u32_at(datagram, NLMSG_HDRLEN)?;
    let val = u32_at(datagram, NLMSG_HDRLEN + 4)?;
    if (idx, val) != (CN_IDX_PROC, CN_VAL_PROC) {
        return None;
    }
    // struct proc_event: what (u32), cpu (u32), timestamp_ns (u64), then the union.
    let ev = datagram.get(NLMSG_HDRLEN + CN_MSG_LEN..)?;
    Some((u32_at(ev, 0)?, ev.get(16..)?))
}

/// An answer to a listen request: PROC_EVENT_NONE, with the request's cn_msg ack plus one, and
/// ack.err (0 or an errno).
fn parse_ack(datagram: &[u8]) -> Option<(u32, i32)> {
    let (what, data) = proc_event(datagram)?;
    if what != PROC_EVENT_NONE {
        return None;
    }
    let ack = u32_at(datagram, NLMSG_HDRLEN + 12)?;
    // ack: { __u32 err; }
    Some((ack, u32_at(data, 0)? as i32))
}

/// One datagram as a [`ProcEvent`]; `None` for thread events, events that do not change what a
/// process list shows (ptrace, coredump), and anything malformed.
pub fn parse_event(datagram: &[u8]) -> Option<ProcEvent> {
    let (what, data) = proc_event(datagram)?;
    let pid_tgid =
        || -> Option<(i32, i32)> { Some((u32_at(data, 0)? as i32, u32_at(data, 4)? as i32)) };
    match what {
        PROC_EVENT_FORK => {
            // fork: parent_pid, parent_tgid, child_pid, child_tgid.
            let parent = u32_at(data, 4)? as i32;
            let (child, child_tgid) = (u32_at(data, 8)? as i32, u32_at(data, 12)? as i32);
            (child == child_tgid).then_some(ProcEvent::Fork {
                tgid: child_tgid,
                parent,
            })
        }
        // exec: process_pid, process_tgid (after de_thread the exec'ing thread is the leader).
        PROC_EVENT_EXEC => pid_tgid().map(|(_, tgid)| ProcEvent::Exec(tgid)),
        // exit: process_pid, process_tgid, ...: only a leader's exit can end a process.
        PROC_EVENT_EXIT => {
            let (pid, tgid) = pid_tgid()?;
            (pid == tgid).then_some(ProcEvent::Exit(tgid))
        }
        // /proc/PID shows the leader's comm and credentials: another thread's (a thread naming
        // itself with PR_SET_NAME, as nsview's helpers do) are not the process's. set*id(2)
        // through libc changes every thread, the leader included, and a write to
        // /proc/PID/comm is the leader's own event.
        PROC_EVENT_UID | PROC_EVENT_GID | PROC_EVENT_COMM => {
            let (pid, tgid) = pid_tgid()?;
            (pid == tgid).then_some(ProcEvent::Changed(tgid))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram as the kernel sends it: nlmsghdr, cn_msg, proc_event with `what` and `data`.
    fn datagram(what: u32, data: &[u32]) -> Vec<u8> {
        answer(0, 0, what, data)
    }

    /// The same, with cn_msg's seq and ack.
    fn answer(seq: u32, ack: u32, what: u32, data: &[u32]) -> Vec<u8> {
        let mut m = vec![0u8; NLMSG_HDRLEN];
        m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&ack.to_ne_bytes());
        m.extend_from_slice(&[0u8; 4]); // len, flags
        m.extend_from_slice(&what.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes()); // cpu
        m.extend_from_slice(&0u64.to_ne_bytes()); // timestamp
        for v in data {
            m.extend_from_slice(&v.to_ne_bytes());
        }
        m
    }

    #[test]
    fn events_forged_by_a_process_are_dropped() {
        // A socket of the connector's protocol, as subscribe() makes, not subscribed (no root
        // needed): a process sends it a fork event from its own port.
        let mut socket = Socket::new(NETLINK_CONNECTOR).expect("socket");
        let ours = socket.bind_auto().expect("bind");
        socket.set_non_blocking(true).expect("non-blocking");
        let mut events = ProcEvents {
            socket,
            buf: vec![0; 4096],
        };
        let mut forger = Socket::new(NETLINK_CONNECTOR).expect("socket");
        let forger_addr = forger.bind_auto().expect("bind");
        assert_ne!(forger_addr.port_number(), 0);
        let forged = datagram(PROC_EVENT_FORK, &[10, 10, 20, 20]);
        let sent = forger.send_to(&forged, &SocketAddr::new(ours.port_number(), 0), 0);
        assert_eq!(sent.ok(), Some(forged.len()));
        let mut out = Vec::new();
        assert_eq!(events.drain(&mut out).ok(), Some(Drained::Complete));
        assert!(out.is_empty(), "{out:?}");
        assert!(from_kernel(&SocketAddr::new(0, CN_IDX_PROC)));
        assert!(!from_kernel(&forger_addr));
    }

    #[test]
    fn processes_are_told_apart_from_threads() {
        assert_eq!(
            parse_event(&datagram(PROC_EVENT_FORK, &[10, 10, 20, 20])),
            Some(ProcEvent::Fork {
                tgid: 20,
                parent: 10
            })
        );
        // A new thread of process 10.
        assert_eq!(
            parse_event(&datagram(PROC_EVENT_FORK, &[10, 10, 21, 10])),
            None
        );
        assert_eq!(
            parse_event(&datagram(PROC_EVENT_EXIT, &[20, 20, 0, 17, 10, 10])),
            Some(ProcEvent::Exit(20))
        );
        assert_eq!(
            parse_event(&datagram(PROC_EVENT_EXIT, &[21, 10, 0, 17, 10, 10])),
            None
        );
        assert_eq!(
            parse_event(&datagram(PROC_EVENT_EXEC, &[20, 20])),
            Some(ProcEvent::Exec(20))
        );
        assert_eq!(
            parse_event(&datagram(PROC_EVENT_COMM, &[20, 20, 0x6f6f66])),
            Some(ProcEvent::Changed(20))
        );
        // A thread that names itself.
        assert_eq!(
            parse_event(&datagram(PROC_EVENT_COMM, &[21, 20, 0x6f6f66])),
            None
        );
        assert_eq!(
            parse_event(&datagram(PROC_EVENT_UID, &[20, 20, 0, 1000])),
            Some(ProcEvent::Changed(20))
        );
    }

    #[test]
    fn acks_and_foreign_or_short_messages() {
        assert_eq!(
            parse_ack(&answer(77, 1001, PROC_EVENT_NONE, &[0])),
            Some((1001, 0))
        );
        assert_eq!(
            parse_ack(&answer(77, 1001, PROC_EVENT_NONE, &[1])),
            Some((1001, 1))
        );
        assert_eq!(parse_ack(&datagram(PROC_EVENT_EXEC, &[20, 20])), None);
        assert_eq!(parse_event(&datagram(PROC_EVENT_NONE, &[0])), None);
        let mut other = datagram(PROC_EVENT_EXEC, &[20, 20]);
        other[NLMSG_HDRLEN] = 9; // another connector's id
        assert_eq!(parse_event(&other), None);
        let short = datagram(PROC_EVENT_FORK, &[10, 10]);
        assert_eq!(parse_event(&short), None);
        assert_eq!(parse_event(&[]), None);
        let request = listen_request(1000);
        assert_eq!(request.len(), NLMSG_HDRLEN + CN_MSG_LEN + 4);
        assert_eq!(u32_at(&request, 0), Some(request.len() as u32));
        assert_eq!(u32_at(&request, NLMSG_HDRLEN + 12), Some(1000));
        assert_eq!(u32_at(&request, NLMSG_HDRLEN + CN_MSG_LEN), Some(1));
    }

    #[test]
    fn root_hears_a_child_start_and_end() {
        if !crate::sys::test_support::require_root("root_hears_a_child_start_and_end") {
            return;
        }
        let mut events = ProcEvents::subscribe().expect("subscribe as root");
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id() as i32;
        let _ = child.wait();
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline && !seen.contains(&ProcEvent::Exit(pid)) {
            assert_eq!(events.drain(&mut seen).expect("drain"), Drained::Complete);
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let own = std::process::id() as i32;
        assert!(
            seen.contains(&ProcEvent::Fork {
                tgid: pid,
                parent: own
            }),
            "{seen:?}"
        );
        assert!(seen.contains(&ProcEvent::Exec(pid)), "{seen:?}");
        assert!(seen.contains(&ProcEvent::Exit(pid)), "{seen:?}");
    }
}
