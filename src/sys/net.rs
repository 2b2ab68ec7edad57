//! Network namespaces: the interfaces of each namespace, their addresses and veth peers.
//!
//! Why it is done this way:
//! - A namespace kept alive only by a bind mount (`ip netns add`) has no process whose
//!   /proc/PID/net could be read, so it has to be joined. setns(2) with CLONE_NEWNET is allowed
//!   for a single thread of a multithreaded process: dedicated, short-lived helper threads (one
//!   per call, or a few that share the namespaces out, then one for the peers) join each
//!   namespace, and the caller's thread never changes namespace.
//! - A netlink socket belongs to the namespace it was created in, wherever its thread goes
//!   afterwards. The helper creates one NETLINK_ROUTE socket right after each join, dumps
//!   RTM_GETLINK and RTM_GETADDR through it, and keeps it (within a budget) to ask that namespace
//!   more questions later without joining again.
//! - A veth whose peer lives in another namespace names that namespace only by an nsid, a
//!   number local to the veth's own namespace (IFLA_LINK_NETNSID). To turn it into an inode,
//!   the veth's namespace is asked (RTM_GETNSID with NETNSA_FD) which nsid it gives to each
//!   candidate namespace, one that has an interface at the peer's ifindex; the candidate whose
//!   nsid matches is the peer's namespace. Ifindexes repeat across namespaces, nsids do not
//!   within one, so the answer is exact.

use super::error::{SysError, SysResult};
use super::nsfs::{NsGroups, NsTarget, fail_all, group_by_ino, on_helper_threads, open_any};
use crate::model::Interface;
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_ALIGNTO, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NLMSG_OVERRUN, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, Parseable,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkInfo, LinkMessage};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use nix::libc;
use nix::sched::{CloneFlags, setns};
use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// How long one netlink reply may take. The kernel answers at once; the timeout only keeps a
/// kernel surprise from hanging the caller, who waits for the helper thread.
const RECV_TIMEOUT_SECS: libc::time_t = 5;

/// A dump the kernel flags as interrupted (NLM_F_DUMP_INTR: the list changed while it was being
/// sent) is repeated up to this many times in all; the last one is used as it is, as iproute2
/// does.
const DUMP_ATTEMPTS: usize = 3;

/// Sockets kept open from the dump for peer resolution. Past this, a namespace is joined again
/// when it has a peer to resolve. Bounds the descriptors held at once: the usual soft
/// RLIMIT_NOFILE is 1024 and the caller has its own files open.
const MAX_KEPT_SOCKETS: usize = 128;

/// Initial receive buffer. Dump datagrams are at most 32 KiB unless one message is larger;
/// every datagram is measured before it is read, and the buffer grows to fit.
const RECV_BUF_START: usize = 32 * 1024;

/// Size of `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;

/// Address families kept from the address dump (linux/socket.h). Others (MCTP, ...) have no IP
/// address to show.
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Interfaces of every given network namespace, keyed by namespace inode.
///
/// Each namespace is joined once by a helper thread that exits before this returns; targets
/// naming the same inode are read once, their paths tried in order until one opens. A
/// namespace that is gone gives `Err(Vanished)`, missing privilege `Err(Permission)`, and a
/// failure concerns only its own key.
///
/// `peer_netns` is set for a link with a peer (IFLA_LINK) in the same namespace, and for one
/// whose peer is in another namespace when that namespace is among `targets`; it stays `None`
/// when the peer's namespace is not among them or could not be asked.
pub fn read_netns_interfaces(targets: &[NsTarget]) -> HashMap<u64, SysResult<Vec<Interface>>> {
    read_netns_interfaces_on(targets, 1)
}

/// [`read_netns_interfaces`] with the dumps split over up to `threads` helper threads (each
/// joins its own share of the namespaces in turn and exits), then the peers resolved in one
/// more helper: the same result, sooner on a host with hundreds of namespaces.
pub fn read_netns_interfaces_on(
    targets: &[NsTarget],
    threads: usize,
) -> HashMap<u64, SysResult<Vec<Interface>>> {
    let groups = group_by_ino(targets);
    let kept = AtomicUsize::new(0);
    let dumps = on_helper_threads(
        "nsview-netns",
        &groups,
        threads,
        MIN_PER_THREAD,
        |part| dump_groups(part, &kept),
        |part, e| fail_all(part, e).into_iter().collect(),
    );
    let mut results = HashMap::with_capacity(groups.len());
    let mut dumped = Vec::with_capacity(dumps.len());
    for (ino, dump) in dumps {
        match dump {
            Ok(d) => dumped.push(d),
            Err(e) => {
                results.insert(ino, Err(e));
            }
        }
    }
    resolve_peers_in_helper(&mut dumped);
    for ns in dumped {
        let ifaces = ns.links.into_iter().map(|l| l.iface).collect();
        results.insert(ns.ino, Ok(ifaces));
    }
    results
}

/// Below this many namespaces per helper, another thread costs more than it saves.
const MIN_PER_THREAD: usize = 8;

/// One interface as dumped, with what peer resolution needs.
struct Link {
    iface: Interface,
    /// IFLA_LINK_NETNSID: the peer's namespace, as an nsid local to this namespace.
    link_netnsid: Option<i32>,
}

impl Link {
    /// A peer in another namespace that is not resolved yet. A negative nsid means the kernel
    /// could not assign one: nothing can match it.
    fn needs_lookup(&self) -> bool {
        self.link_netnsid.is_some_and(|id| id >= 0)
            && self.iface.peer_ifindex.is_some()
            && self.iface.peer_netns.is_none()
    }
}

/// A namespace that was joined and dumped.
struct Dumped<'a> {
    ino: u64,
    /// The path that opened it: used again to join it or to name it in a query.
    target: &'a NsTarget,
    links: Vec<Link>,
    /// Its socket, kept when it has peers to resolve and the budget allows.
    socket: Option<RouteSocket>,
}

/// Runs in a helper thread: one join and two dumps per namespace. A namespace with a peer to
/// resolve keeps its socket while the budget shared by all helpers (`kept`) allows.
fn dump_groups<'a>(groups: &NsGroups<'a>, kept: &AtomicUsize) -> Vec<(u64, SysResult<Dumped<'a>>)> {
    let mut buf = vec![0u8; RECV_BUF_START];
    let mut out = Vec::with_capacity(groups.len());
    for (ino, paths) in groups {
        let dump = dump_namespace(paths, &mut buf).map(|(target, links, socket)| {
            let keep = links.iter().any(Link::needs_lookup)
                && kept
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                        (n < MAX_KEPT_SOCKETS).then_some(n + 1)
                    })
                    .is_ok();
            Dumped {
                ino: *ino,
                target,
                links,
                socket: keep.then_some(socket),
            }
        });
        out.push((*ino, dump));
    }
    out
}

/// [`resolve_peers`] in a helper thread of its own, as it may join namespaces again; none is
/// started when no link has a peer. Should it fail, the peers stay unresolved (`None`).
fn resolve_peers_in_helper(dumped: &mut [Dumped<'_>]) {
    let any_peer = dumped
        .iter()
        .any(|ns| ns.links.iter().any(|l| l.iface.peer_ifindex.is_some()));
    if !any_peer {
        return;
    }
    thread::scope(|scope| {
        let spawned = thread::Builder::new()
            .name("nsview-netns".into())
            .spawn_scoped(scope, || {
                let mut buf = vec![0u8; RECV_BUF_START];
                resolve_peers(dumped, &mut buf);
            });
        if let Ok(handle) = spawned {
            let _ = handle.join();
        }
    });
}

/// Joins a namespace (this thread only) and opens a route socket in it.
fn join<'a>(paths: &[&'a NsTarget]) -> SysResult<(&'a NsTarget, RouteSocket)> {
    let (target, file) = open_any(paths)?;
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| SysError::errno(&target.path, e))?;
    let socket = RouteSocket::open().map_err(|e| SysError::io(&target.path, e))?;
    Ok((target, socket))
}

fn dump_namespace<'a>(
    paths: &[&'a NsTarget],
    buf: &mut Vec<u8>,
) -> SysResult<(&'a NsTarget, Vec<Link>, RouteSocket)> {
    let (target, mut socket) = join(paths)?;
    let path = &target.path;
    let mut links = socket
        .dump(buf, link_dump_request, parse_link)
        .map_err(|e| e.into_sys(path))?;
    let addresses = socket
        .dump(buf, address_dump_request, parse_address)
        .map_err(|e| e.into_sys(path))?;
    let by_index: HashMap<u32, usize> = links
        .iter()
        .enumerate()
        .map(|(i, l)| (l.iface.ifindex, i))
        .collect();
    for (ifindex, address) in addresses {
        // An address of a link created between the two dumps has no link to go to.
        if let Some(&i) = by_index.get(&ifindex) {
            links[i].iface.addresses.push(address);
        }
    }
    Ok((target, links, socket))
}

/// Fills `peer_netns`: own inode for peers in the same namespace, the exact namespace from
/// RTM_GETNSID for peers elsewhere.
fn resolve_peers(dumped: &mut [Dumped<'_>], buf: &mut Vec<u8>) {
    for ns in dumped.iter_mut() {
        for link in &mut ns.links {
            // IFLA_LINK without IFLA_LINK_NETNSID: the kernel omits the nsid when the peer (or
            // lower device) is in the link's own namespace.
            if link.iface.peer_ifindex.is_some() && link.link_netnsid.is_none() {
                link.iface.peer_netns = Some(ns.ino);
            }
        }
    }

    // Where each ifindex occurs: (namespace, link) positions.
    let mut by_ifindex: HashMap<u32, Vec<(usize, usize)>> = HashMap::new();
    for (n, ns) in dumped.iter().enumerate() {
        for (k, link) in ns.links.iter().enumerate() {
            by_ifindex
                .entry(link.iface.ifindex)
                .or_default()
                .push((n, k));
        }
    }

    // Namespaces that kept their socket go first: asking them costs no join, and each answer
    // about a veth also settles its peer. The rest are then joined again, those with the most
    // links still open first (a host with one veth per container settles all of them at once).
    let (with_socket, without): (Vec<usize>, Vec<usize>) =
        (0..dumped.len()).partition(|&n| dumped[n].socket.is_some());
    for n in with_socket {
        resolve_namespace(dumped, &by_ifindex, n, buf);
    }
    let pending = |ns: &Dumped<'_>| ns.links.iter().filter(|l| l.needs_lookup()).count();
    let mut order: Vec<(usize, usize)> = without
        .into_iter()
        .map(|n| (n, pending(&dumped[n])))
        .collect();
    order.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
    for (n, _) in order {
        resolve_namespace(dumped, &by_ifindex, n, buf);
    }
}

/// Resolves the open peers of namespace `n`, asking from inside it.
fn resolve_namespace(
    dumped: &mut [Dumped<'_>],
    by_ifindex: &HashMap<u32, Vec<(usize, usize)>>,
    n: usize,
    buf: &mut Vec<u8>,
) {
    let socket = dumped[n].socket.take();
    if !dumped[n].links.iter().any(Link::needs_lookup) {
        return;
    }
    let mut asker = Asker::new(socket);
    for k in 0..dumped[n].links.len() {
        // Checked again each time: the reverse of an earlier answer may have settled it.
        if !dumped[n].links[k].needs_lookup() {
            continue;
        }
        let Some(peer_ns) = find_peer_netns(dumped, by_ifindex, n, k, &mut asker, buf) else {
            continue;
        };
        dumped[n].links[k].iface.peer_netns = Some(dumped[peer_ns].ino);
        fill_reverse(dumped, by_ifindex, (n, k), peer_ns);
    }
}

/// Asks the namespace `n` for the nsids of candidate namespaces until one matches the nsid of
/// link `k`. Candidates whose interface at the peer ifindex points back at this link come
/// first (the usual veth pair), the rest after, so collisions cost queries but never accuracy.
fn find_peer_netns(
    dumped: &[Dumped<'_>],
    by_ifindex: &HashMap<u32, Vec<(usize, usize)>>,
    n: usize,
    k: usize,
    asker: &mut Asker,
    buf: &mut Vec<u8>,
) -> Option<usize> {
    let link = &dumped[n].links[k];
    let nsid = link.link_netnsid?;
    let peer_ifindex = link.iface.peer_ifindex?;
    if let Some(&known) = asker.known.get(&nsid) {
        return Some(known);
    }
    let mut candidates: Vec<(usize, bool)> = by_ifindex
        .get(&peer_ifindex)
        .into_iter()
        .flatten()
        .filter(|&&(c, _)| c != n)
        .map(|&(c, pk)| {
            let back = dumped[c].links[pk].iface.peer_ifindex == Some(link.iface.ifindex);
            (c, back)
        })
        .collect();
    // Stable: among equals the order of `targets` is kept.
    candidates.sort_by_key(|&(_, back)| !back);
    for (c, _) in candidates {
        if !asker.asked.insert(c) {
            continue;
        }
        let Some(id) = asker.ask(dumped[n].target, dumped[c].target, buf) else {
            continue;
        };
        // -1 (NETNSA_NSID_NOT_ASSIGNED): this namespace has no nsid for `c`, so no link of
        // this namespace can point there.
        if id >= 0 {
            asker.known.insert(id, c);
        }
        if id == nsid {
            return Some(c);
        }
    }
    None
}

/// A veth pair is symmetric: once link `(n, k)` is known to have its peer in `peer_ns`, the
/// veth at the peer ifindex there has its peer in `n`, with no query needed.
fn fill_reverse(
    dumped: &mut [Dumped<'_>],
    by_ifindex: &HashMap<u32, Vec<(usize, usize)>>,
    (n, k): (usize, usize),
    peer_ns: usize,
) {
    let link = &dumped[n].links[k];
    if link.iface.kind.as_deref() != Some("veth") {
        return;
    }
    let (ifindex, own_ino) = (link.iface.ifindex, dumped[n].ino);
    let Some(peer_ifindex) = link.iface.peer_ifindex else {
        return;
    };
    let Some(&(_, pk)) = by_ifindex
        .get(&peer_ifindex)
        .and_then(|at| at.iter().find(|&&(c, _)| c == peer_ns))
    else {
        return;
    };
    let peer = &mut dumped[peer_ns].links[pk];
    if peer.iface.kind.as_deref() == Some("veth")
        && peer.iface.peer_ifindex == Some(ifindex)
        && peer.needs_lookup()
    {
        peer.iface.peer_netns = Some(own_ino);
    }
}

/// RTM_GETNSID queries from inside one namespace, with what was learned cached.
struct Asker {
    /// A socket of the asking namespace; opened by joining again when none was kept.
    socket: Option<RouteSocket>,
    /// Joining again failed (the namespace vanished meanwhile): stop trying.
    failed: bool,
    /// nsid -> index of the namespace it denotes.
    known: HashMap<i32, usize>,
    /// Namespaces already asked about.
    asked: HashSet<usize>,
}

impl Asker {
    fn new(socket: Option<RouteSocket>) -> Self {
        Asker {
            socket,
            failed: false,
            known: HashMap::new(),
            asked: HashSet::new(),
        }
    }

    /// The nsid the asking namespace `from` gives `about`. `None` when either cannot be
    /// reached; the link then stays unresolved rather than failing the whole namespace.
    fn ask(&mut self, from: &NsTarget, about: &NsTarget, buf: &mut Vec<u8>) -> Option<i32> {
        if self.socket.is_none() && !self.failed {
            match join(&[from]) {
                Ok((_, socket)) => self.socket = Some(socket),
                Err(_) => self.failed = true,
            }
        }
        let socket = self.socket.as_mut()?;
        let file = about.open().ok()?;
        match socket.netns_id(buf, file.as_fd()) {
            Ok(id) => Some(id),
            Err(_) => {
                // The socket may hold half an exchange: do not reuse it.
                self.socket = None;
                None
            }
        }
    }
}

fn link_dump_request() -> RouteNetlinkMessage {
    let mut message = LinkMessage::default();
    // Statistics are most of each link message and are not shown: skip them.
    message
        .attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    RouteNetlinkMessage::GetLink(message)
}

fn address_dump_request() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetAddress(AddressMessage::default())
}

/// One RTM_NEWLINK message as a [`Link`]; other message types are skipped.
fn parse_link(message_type: u16, payload: &[u8]) -> Result<Option<Link>, String> {
    if message_type != libc::RTM_NEWLINK {
        return Ok(None);
    }
    let message = LinkMessage::parse(payload).map_err(|e| format!("RTM_NEWLINK: {e}"))?;
    let ifindex = message.header.index;
    let mut name = None;
    let mut state = None;
    let mut kind = None;
    let mut mac = None;
    let mut iflink = None;
    let mut link_netnsid = None;
    for attribute in message.attributes {
        match attribute {
            LinkAttribute::IfName(n) => name = Some(n),
            LinkAttribute::OperState(s) => state = Some(s.to_string().to_ascii_lowercase()),
            LinkAttribute::LinkInfo(infos) => {
                kind = infos.into_iter().find_map(|info| match info {
                    LinkInfo::Kind(k) => Some(k.to_string()),
                    _ => None,
                });
            }
            LinkAttribute::Address(bytes) => mac = format_mac(&bytes),
            LinkAttribute::Link(l) => iflink = Some(l),
            LinkAttribute::LinkNetNsId(id) => link_netnsid = Some(id),
            _ => {}
        }
    }
    let name =
        name.ok_or_else(|| format!("RTM_NEWLINK for ifindex {ifindex} without IFLA_IFNAME"))?;
    // IFLA_LINK equal to the link's own ifindex means "no peer", except next to
    // IFLA_LINK_NETNSID: a veth in a fresh namespace often has the same ifindex as its peer in
    // the other one (va@if2 with ifindex 2), and the kernel then sends IFLA_LINK anyway. 0 is a
    // link whose peer is gone.
    let peer_ifindex = iflink.filter(|&l| l != 0 && (l != ifindex || link_netnsid.is_some()));
    Ok(Some(Link {
        iface: Interface {
            name,
            ifindex,
            state: state.unwrap_or_else(|| "unknown".to_string()),
            addresses: Vec::new(),
            kind,
            mac,
            peer_ifindex,
            peer_netns: None,
        },
        link_netnsid,
    }))
}

/// A 6-byte hardware address that is not all zero (loopback reports zeros, tunnels report IP
/// addresses in the same attribute; neither is a MAC).
fn format_mac(bytes: &[u8]) -> Option<String> {
    if bytes.len() != 6 || bytes.iter().all(|&b| b == 0) {
        return None;
    }
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Some(parts.join(":"))
}

/// One RTM_NEWADDR message as (ifindex, "address/prefix"); other types and families skipped.
fn parse_address(message_type: u16, payload: &[u8]) -> Result<Option<(u32, String)>, String> {
    if message_type != libc::RTM_NEWADDR {
        return Ok(None);
    }
    // Checked before parsing: the route crate rejects address lengths of other families.
    match payload.first() {
        Some(&family) if family == AF_INET || family == AF_INET6 => {}
        _ => return Ok(None),
    }
    let message = AddressMessage::parse(payload).map_err(|e| format!("RTM_NEWADDR: {e}"))?;
    let mut local = None;
    let mut address = None;
    for attribute in message.attributes {
        match attribute {
            AddressAttribute::Local(ip) => local = Some(ip),
            AddressAttribute::Address(ip) => address = Some(ip),
            _ => {}
        }
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the far end on point-to-point
    // links and equal to IFA_LOCAL otherwise (IPv6 sends only IFA_ADDRESS).
    let Some(ip) = local.or(address) else {
        return Ok(None);
    };
    Ok(Some((
        message.header.index,
        format!("{ip}/{}", message.header.prefix_len),
    )))
}

/// Receives each reply message (type, payload) of an exchange; an `Err` is a parse failure.
type OnMessage<'f> = dyn FnMut(u16, &[u8]) -> Result<(), String> + 'f;

/// Why a netlink exchange failed; becomes a [`SysError`] once the namespace's path is known.
#[derive(Debug)]
enum NlError {
    Io(io::Error),
    Decode(String),
}

impl NlError {
    fn into_sys(self, path: &Path) -> SysError {
        match self {
            NlError::Io(e) => SysError::io(path, e),
            NlError::Decode(reason) => SysError::parse(path, format!("netlink: {reason}")),
        }
    }
}

/// A NETLINK_ROUTE socket bound (by the kernel, on first send) in the namespace it was created
/// in, with the request sequence number.
struct RouteSocket {
    socket: Socket,
    seq: u32,
}

impl RouteSocket {
    fn open() -> io::Result<Self> {
        let socket = Socket::new(NETLINK_ROUTE)?;
        set_recv_timeout(&socket)?;
        Ok(RouteSocket { socket, seq: 0 })
    }

    /// Runs a dump and parses each message with `parse`, repeating an interrupted dump.
    fn dump<T>(
        &mut self,
        buf: &mut Vec<u8>,
        request: fn() -> RouteNetlinkMessage,
        parse: fn(u16, &[u8]) -> Result<Option<T>, String>,
    ) -> Result<Vec<T>, NlError> {
        let mut attempt = 1;
        loop {
            let mut items = Vec::new();
            let interrupted = self.exchange(buf, request(), NLM_F_DUMP, &mut |kind, payload| {
                if let Some(item) = parse(kind, payload)? {
                    items.push(item);
                }
                Ok(())
            })?;
            if !interrupted || attempt >= DUMP_ATTEMPTS {
                return Ok(items);
            }
            attempt += 1;
        }
    }

    /// The nsid this socket's namespace gives to the namespace open as `ns` (-1: none).
    fn netns_id(&mut self, buf: &mut Vec<u8>, ns: BorrowedFd<'_>) -> Result<i32, NlError> {
        let fd = u32::try_from(ns.as_raw_fd())
            .map_err(|_| NlError::Decode("negative file descriptor".into()))?;
        let mut request = NsidMessage::default();
        request.attributes.push(NsidAttribute::Fd(fd));
        let mut id = None;
        self.exchange(
            buf,
            RouteNetlinkMessage::GetNsId(request),
            0,
            &mut |kind, payload| {
                if kind == libc::RTM_NEWNSID {
                    let reply =
                        NsidMessage::parse(payload).map_err(|e| format!("RTM_NEWNSID: {e}"))?;
                    id = reply.attributes.iter().find_map(|a| match a {
                        NsidAttribute::Id(v) => Some(*v),
                        _ => None,
                    });
                }
                Ok(())
            },
        )?;
        id.ok_or_else(|| NlError::Decode("RTM_NEWNSID without NETNSA_NSID".into()))
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<u32, NlError> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut bytes = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.socket
            .send_to(&bytes, &SocketAddr::new(0, 0), 0)
            .map_err(NlError::Io)?;
        Ok(self.seq)
    }

    /// Sends `message` and hands every reply message to `on_message` until the exchange ends
    /// (NLMSG_DONE for a dump, the first reply otherwise, NLMSG_ERROR always). A parse error
    /// is reported only after the replies are drained, so the socket stays usable. Returns
    /// whether the kernel flagged the dump as interrupted.
    fn exchange(
        &mut self,
        buf: &mut Vec<u8>,
        message: RouteNetlinkMessage,
        flags: u16,
        on_message: &mut OnMessage<'_>,
    ) -> Result<bool, NlError> {
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let seq = self.send(message, flags)?;
        let mut progress = ExchangeProgress {
            seq,
            dump,
            interrupted: false,
            failure: None,
        };
        loop {
            let datagram = self.recv_datagram(buf)?;
            if progress.read_datagram(datagram, on_message)? {
                break;
            }
        }
        match progress.failure {
            Some(e) => Err(e),
            None => Ok(progress.interrupted),
        }
    }

    /// Reads one datagram whole: its size is taken first (MSG_PEEK | MSG_TRUNC) and the buffer
    /// grown to it, so a large message is never cut.
    fn recv_datagram<'b>(&self, buf: &'b mut Vec<u8>) -> Result<&'b [u8], NlError> {
        let size = retry_eintr(|| {
            let mut probe: &mut [u8] = &mut [];
            self.socket
                .recv(&mut probe, libc::MSG_PEEK | libc::MSG_TRUNC)
        })?;
        if buf.len() < size {
            buf.resize(size, 0);
        }
        let received = retry_eintr(|| {
            let mut whole: &mut [u8] = &mut buf[..];
            self.socket.recv(&mut whole, 0)
        })?;
        Ok(&buf[..received.min(buf.len())])
    }
}

/// Where an exchange stands after the datagrams read so far.
struct ExchangeProgress {
    /// The request's sequence number: replies with another one are skipped.
    seq: u32,
    /// A dump ends with NLMSG_DONE; any other request with its first reply.
    dump: bool,
    /// Whether the kernel flagged the dump as interrupted (NLM_F_DUMP_INTR).
    interrupted: bool,
    /// The first failure: a parse error of `on_message` or one an ending message reports.
    failure: Option<NlError>,
}

impl ExchangeProgress {
    /// Hands every message of `datagram` that answers the request to `on_message`; true when
    /// the exchange ended with it. `Err` only for a datagram that is not netlink at all.
    fn read_datagram(
        &mut self,
        mut rest: &[u8],
        on_message: &mut OnMessage<'_>,
    ) -> Result<bool, NlError> {
        let mut finished = false;
        while rest.len() >= NLMSG_HDRLEN {
            let packet =
                NetlinkBuffer::new_checked(rest).map_err(|e| NlError::Decode(e.to_string()))?;
            let length = packet.length() as usize;
            let aligned = length.next_multiple_of(usize::from(NLMSG_ALIGNTO));
            rest = rest.get(aligned..).unwrap_or_default();
            if packet.sequence_number() != self.seq {
                // A leftover of an earlier exchange: not ours to read.
                continue;
            }
            let payload = packet.payload();
            match packet.message_type() {
                NLMSG_NOOP => {}
                kind @ (NLMSG_DONE | NLMSG_ERROR | NLMSG_OVERRUN) => {
                    if let Some(e) = end_failure(kind, payload) {
                        self.failure.get_or_insert(e);
                    }
                    finished = true;
                }
                kind => {
                    self.interrupted |= packet.flags() & NLM_F_DUMP_INTR != 0;
                    if self.failure.is_none()
                        && let Err(reason) = on_message(kind, payload)
                    {
                        self.failure = Some(NlError::Decode(reason));
                    }
                    if !self.dump {
                        finished = true;
                    }
                }
            }
        }
        Ok(finished)
    }
}

/// One datagram of a link and address dump, read as [`read_netns_interfaces`] reads it (every
/// message of sequence number `seq` parsed as a link and as an address): the number of links
/// and addresses found, whether the dump ended, or the first failure. For the fuzz target
/// fuzz/fuzz_targets/netlink_route.rs.
#[doc(hidden)]
pub fn parse_dump_datagram(datagram: &[u8], seq: u32) -> Result<(usize, bool), String> {
    let mut progress = ExchangeProgress {
        seq,
        dump: true,
        interrupted: false,
        failure: None,
    };
    let mut found = 0;
    let finished = progress
        .read_datagram(datagram, &mut |kind, payload| {
            found += usize::from(parse_link(kind, payload)?.is_some());
            found += usize::from(parse_address(kind, payload)?.is_some());
            Ok(())
        })
        .map_err(|e| format!("{e:?}"))?;
    match progress.failure {
        Some(e) => Err(format!("{e:?}")),
        None => Ok((found, finished)),
    }
}

fn retry_eintr(mut call: impl FnMut() -> io::Result<usize>) -> Result<usize, NlError> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other.map_err(NlError::Io),
        }
    }
}

/// What a message that ends an exchange reports: NLMSG_DONE with a negative errno (a dump that
/// failed), NLMSG_ERROR with a non-zero one (0 is an acknowledgement), NLMSG_OVERRUN.
fn end_failure(kind: u16, payload: &[u8]) -> Option<NlError> {
    match kind {
        NLMSG_DONE => errno_of(payload)
            .filter(|&c| c < 0)
            .map(|code| NlError::Io(io::Error::from_raw_os_error(code.saturating_neg()))),
        NLMSG_ERROR => match errno_of(payload) {
            Some(0) => None,
            Some(code) => Some(NlError::Io(io::Error::from_raw_os_error(
                code.saturating_abs(),
            ))),
            None => Some(NlError::Decode("short NLMSG_ERROR".into())),
        },
        _ => Some(NlError::Decode("NLMSG_OVERRUN".into())),
    }
}

/// The `int error` that starts NLMSG_ERROR and NLMSG_DONE payloads.
fn errno_of(payload: &[u8]) -> Option<i32> {
    let bytes: [u8; 4] = payload.get(..4)?.try_into().ok()?;
    Some(i32::from_ne_bytes(bytes))
}

/// SO_RCVTIMEO, so a reply that never comes ends in an error instead of a hang.
fn set_recv_timeout(socket: &Socket) -> io::Result<()> {
    let timeout = libc::timeval {
        tv_sec: RECV_TIMEOUT_SECS,
        tv_usec: 0,
    };
    // SAFETY: the fd is a socket owned by `socket` for the whole call; SO_RCVTIMEO reads exactly
    // one `struct timeval`, which `timeout` is, and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const timeout).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::path::PathBuf;
    use std::process::Command;
    use std::time::{Duration, Instant};

    fn require_root() -> bool {
        crate::sys::test_support::require_root("the network namespace tests")
    }

    fn ip(args: &[&str]) {
        let out = Command::new("ip").args(args).output().expect("run ip");
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Network namespaces made by one test (`ip netns add`), deleted on drop, also when the
    /// test fails. Names carry the PID and a tag so parallel tests and runs never share one.
    struct Netns {
        names: Vec<String>,
    }

    impl Netns {
        fn create(tag: &str, count: usize) -> Netns {
            let mut set = Netns { names: Vec::new() };
            for i in 0..count {
                let name = format!("nsview-test-{}-{tag}-{i}", std::process::id());
                // Recorded before it exists, so a half-made set is still removed.
                set.names.push(name.clone());
                ip(&["netns", "add", &name]);
            }
            set
        }

        fn name(&self, i: usize) -> &str {
            &self.names[i]
        }

        fn target(&self, i: usize) -> NsTarget {
            let path = PathBuf::from(format!("/run/netns/{}", self.names[i]));
            let ino = std::fs::metadata(&path).expect("stat netns").ino();
            NsTarget::link(ino, path)
        }

        fn ip(&self, i: usize, args: &[&str]) {
            let mut all = vec!["-n", self.name(i)];
            all.extend_from_slice(args);
            ip(&all);
        }
    }

    impl Drop for Netns {
        fn drop(&mut self) {
            for name in &self.names {
                let _ = Command::new("ip").args(["netns", "del", name]).output();
            }
        }
    }

    fn own_netns_ino() -> u64 {
        std::fs::metadata("/proc/thread-self/ns/net")
            .expect("stat own netns")
            .ino()
    }

    fn find<'a>(ifaces: &'a [Interface], name: &str) -> &'a Interface {
        ifaces
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("no interface {name} in {ifaces:?}"))
    }

    /// Operstate follows carrier through the kernel's linkwatch, which may lag by up to a
    /// second: read until `ready` holds or 5 s pass.
    fn read_until(
        targets: &[NsTarget],
        ready: impl Fn(&HashMap<u64, SysResult<Vec<Interface>>>) -> bool,
    ) -> HashMap<u64, SysResult<Vec<Interface>>> {
        let start = Instant::now();
        loop {
            let result = read_netns_interfaces(targets);
            if ready(&result) || start.elapsed() > Duration::from_secs(5) {
                return result;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Two namespaces joined by a veth pair (va ifindex 10 in 0, vb ifindex 20 in 1), with
    /// addresses (inside these namespaces only) and fixed MACs, plus a veth pair inside 0.
    fn veth_setup(tag: &str) -> Netns {
        let ns = Netns::create(tag, 2);
        let peer_ns = ns.name(1).to_string();
        ns.ip(
            0,
            &[
                "link",
                "add",
                "va",
                "index",
                "10",
                "address",
                "02:00:00:00:00:0a",
                "type",
                "veth",
                "peer",
                "name",
                "vb",
                "index",
                "20",
                "address",
                "02:00:00:00:00:0b",
                "netns",
                &peer_ns,
            ],
        );
        ns.ip(0, &["addr", "add", "10.254.0.1/24", "dev", "va"]);
        ns.ip(1, &["addr", "add", "10.254.0.2/24", "dev", "vb"]);
        ns.ip(0, &["link", "set", "va", "up"]);
        ns.ip(1, &["link", "set", "vb", "up"]);
        ns.ip(0, &["link", "set", "lo", "up"]);
        ns.ip(
            0,
            &["link", "add", "vs1", "type", "veth", "peer", "name", "vs2"],
        );
        ns
    }

    fn both_up(result: &HashMap<u64, SysResult<Vec<Interface>>>) -> bool {
        let up = |name: &str| {
            result
                .values()
                .flatten()
                .flatten()
                .any(|i| i.name == name && i.state == "up")
        };
        up("va") && up("vb")
    }

    #[test]
    fn veth_pair_across_namespaces() {
        if !require_root() {
            return;
        }
        let ns = veth_setup("pair");
        let (a, b) = (ns.target(0), ns.target(1));
        let before = own_netns_ino();

        // `a` twice: read once, one key.
        let result = read_until(&[a.clone(), b.clone(), a.clone()], both_up);
        assert_eq!(result.len(), 2);
        assert_eq!(
            own_netns_ino(),
            before,
            "the caller's thread changed namespace"
        );

        let in_a = result[&a.ino].as_ref().expect("namespace a");
        let lo = find(in_a, "lo");
        assert_eq!(lo.ifindex, 1);
        assert_eq!(lo.state, "unknown");
        assert!(lo.addresses.contains(&"127.0.0.1/8".to_string()), "{lo:?}");
        assert_eq!((lo.kind.as_deref(), lo.mac.as_deref()), (None, None));
        assert_eq!((lo.peer_ifindex, lo.peer_netns), (None, None));

        let va = find(in_a, "va");
        assert_eq!(va.ifindex, 10);
        assert_eq!(va.state, "up");
        assert!(
            va.addresses.contains(&"10.254.0.1/24".to_string()),
            "{va:?}"
        );
        assert_eq!(va.kind.as_deref(), Some("veth"));
        assert_eq!(va.mac.as_deref(), Some("02:00:00:00:00:0a"));
        assert_eq!(va.peer_ifindex, Some(20));
        assert_eq!(va.peer_netns, Some(b.ino));

        let in_b = result[&b.ino].as_ref().expect("namespace b");
        let vb = find(in_b, "vb");
        assert_eq!(vb.ifindex, 20);
        assert_eq!(vb.state, "up");
        assert!(
            vb.addresses.contains(&"10.254.0.2/24".to_string()),
            "{vb:?}"
        );
        assert_eq!(vb.kind.as_deref(), Some("veth"));
        assert_eq!(vb.mac.as_deref(), Some("02:00:00:00:00:0b"));
        assert_eq!(vb.peer_ifindex, Some(10));
        assert_eq!(vb.peer_netns, Some(a.ino));
        assert_eq!(find(in_b, "lo").state, "down");

        // A pair inside one namespace: no IFLA_LINK_NETNSID, the peer is at home.
        let (vs1, vs2) = (find(in_a, "vs1"), find(in_a, "vs2"));
        assert_eq!(vs1.peer_ifindex, Some(vs2.ifindex));
        assert_eq!(vs2.peer_ifindex, Some(vs1.ifindex));
        assert_eq!((vs1.peer_netns, vs2.peer_netns), (Some(a.ino), Some(a.ino)));
        assert_eq!(vs1.state, "down");
    }

    #[test]
    fn peer_outside_targets_stays_unresolved() {
        if !require_root() {
            return;
        }
        let ns = veth_setup("alone");
        let a = ns.target(0);
        let result = read_netns_interfaces(std::slice::from_ref(&a));
        let in_a = result[&a.ino].as_ref().expect("namespace a");
        let va = find(in_a, "va");
        assert_eq!(va.peer_ifindex, Some(20));
        assert_eq!(va.peer_netns, None);
        assert_eq!(find(in_a, "vs1").peer_netns, Some(a.ino));
    }

    #[test]
    fn colliding_ifindexes_resolve_exactly() {
        if !require_root() {
            return;
        }
        // Two pairs, 0<->1 and 2<->3, all four ends at ifindex 7 and pointing at 7: the
        // ifindex alone cannot tell the peers apart, only the nsid can.
        let ns = Netns::create("clash", 4);
        for (from, to) in [(0, 1), (2, 3)] {
            let peer_ns = ns.name(to).to_string();
            ns.ip(
                from,
                &[
                    "link", "add", "x", "index", "7", "type", "veth", "peer", "name", "y", "index",
                    "7", "netns", &peer_ns,
                ],
            );
        }
        let t: Vec<NsTarget> = (0..4).map(|i| ns.target(i)).collect();
        // Wrong candidates come first for every link in this order.
        let order = [t[2].clone(), t[3].clone(), t[0].clone(), t[1].clone()];
        let result = read_netns_interfaces(&order);
        let peer_of = |i: usize, name: &str| {
            let ifaces = result[&t[i].ino].as_ref().expect("namespace");
            let link = find(ifaces, name);
            assert_eq!(link.peer_ifindex, Some(7), "{link:?}");
            link.peer_netns
        };
        assert_eq!(peer_of(0, "x"), Some(t[1].ino));
        assert_eq!(peer_of(1, "y"), Some(t[0].ino));
        assert_eq!(peer_of(2, "x"), Some(t[3].ino));
        assert_eq!(peer_of(3, "y"), Some(t[2].ino));
    }

    #[test]
    fn vanished_and_reused_targets_fail_alone() {
        if !require_root() {
            return;
        }
        let ns = Netns::create("gone", 1);
        let good = ns.target(0);
        let missing = NsTarget::link(1, PathBuf::from("/run/netns/nsview-test-does-not-exist"));
        // The right file with another inode: what a reused PID looks like.
        let reused = NsTarget::link(good.ino + 1_000_000, good.path.clone());
        let result = read_netns_interfaces(&[missing.clone(), good.clone(), reused.clone()]);
        let err = result[&missing.ino].as_ref().expect_err("missing target");
        assert!(err.is_vanished(), "{err}");
        assert_eq!(err.path(), missing.path);
        assert!(
            result[&reused.ino]
                .as_ref()
                .is_err_and(SysError::is_vanished)
        );
        let ifaces = result[&good.ino].as_ref().expect("good target");
        assert_eq!(find(ifaces, "lo").ifindex, 1);
    }

    #[test]
    fn second_path_of_same_namespace_is_tried() {
        if !require_root() {
            return;
        }
        let ns = Netns::create("alt", 1);
        let good = ns.target(0);
        let dead = NsTarget::link(good.ino, PathBuf::from("/proc/nonexistent-nsview/ns/net"));
        let result = read_netns_interfaces(&[dead, good.clone()]);
        assert!(result[&good.ino].is_ok());
    }

    #[test]
    fn missing_privilege_is_permission() {
        if !require_root() {
            return;
        }
        let ns = Netns::create("perm", 1);
        let target = ns.target(0);
        // A thread that drops to nobody; the helper thread it spawns inherits its credentials,
        // and no other thread of the test process is affected.
        let result = std::thread::spawn(move || {
            // SAFETY: the raw setresuid syscall changes the credentials of this thread only
            // (glibc's wrapper would change every thread); it takes three plain integers.
            let rc = unsafe {
                nix::libc::syscall(nix::libc::SYS_setresuid, 65534u32, 65534u32, 65534u32)
            };
            assert_eq!(rc, 0, "setresuid: {}", io::Error::last_os_error());
            read_netns_interfaces(std::slice::from_ref(&target))
                .remove(&target.ino)
                .expect("a result for the target")
        })
        .join()
        .expect("unprivileged thread");
        let err = result.expect_err("nobody cannot join a network namespace");
        assert!(err.is_permission(), "{err}");
    }

    #[test]
    fn empty_input_spawns_nothing() {
        assert!(read_netns_interfaces(&[]).is_empty());
    }

    #[test]
    fn mac_only_for_six_nonzero_bytes() {
        assert_eq!(
            format_mac(&[0x02, 0, 0, 0xab, 0xcd, 0xef]).as_deref(),
            Some("02:00:00:ab:cd:ef")
        );
        assert_eq!(format_mac(&[0; 6]), None);
        assert_eq!(format_mac(&[10, 0, 0, 1]), None);
        assert_eq!(format_mac(&[]), None);
    }

    #[test]
    fn address_of_other_family_is_skipped() {
        // An MCTP (family 45) address message: header then a 1-byte IFA_LOCAL.
        let payload = [45u8, 0, 0, 0, 3, 0, 0, 0, 5, 0, 2, 0, 8, 0, 0, 0];
        assert_eq!(parse_address(libc::RTM_NEWADDR, &payload), Ok(None));
        assert_eq!(parse_address(libc::RTM_NEWLINK, &payload), Ok(None));
    }

    #[test]
    fn errno_needs_four_bytes() {
        assert_eq!(errno_of(&(-13i32).to_ne_bytes()), Some(-13));
        assert_eq!(errno_of(&[1, 2]), None);
    }

    #[test]
    fn a_done_with_the_lowest_errno_is_a_failure() {
        // fuzz target netlink_route: negating i32::MIN overflowed. NLMSG_DONE, sequence 9.
        let mut datagram = 20u32.to_ne_bytes().to_vec();
        datagram.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        datagram.extend_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTIPART
        datagram.extend_from_slice(&9u32.to_ne_bytes()); // sequence number
        datagram.extend_from_slice(&0u32.to_ne_bytes()); // port id
        datagram.extend_from_slice(&i32::MIN.to_ne_bytes());
        assert!(parse_dump_datagram(&datagram, 9).is_err());
        // Another sequence number: not this exchange's, skipped.
        assert_eq!(parse_dump_datagram(&datagram, 8), Ok((0, false)));
    }
}
