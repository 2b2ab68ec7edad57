//! Which container a cgroup path belongs to, from the directory names runtimes give their
//! cgroups (shared/docs/kernel-notes.md, "Container cgroup layouts"). No daemon is asked: the
//! kernel's /proc/PID/cgroup alone says "this is Docker container 4653218b...".

use super::Runtime;

/// What a cgroup path says about the container it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMatch<'a> {
    pub runtime: Runtime,
    /// The container's identity as the path gives it.
    pub ident: Ident<'a>,
    /// The Kubernetes pod UID (with dashes), when the container sits in a kubepods tree.
    pub pod_uid: Option<String>,
    /// The container's own cgroup: `path` up to and including the directory that matched.
    pub cgroup: &'a str,
}

/// A container's identity in a cgroup path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ident<'a> {
    /// A 64-hex-digit id (Docker, podman, containerd, CRI-O).
    Id(&'a str),
    /// A name (LXC, systemd-nspawn), unescaped.
    Name(String),
}

/// The container `path` (as in /proc/PID/cgroup) belongs to, if a runtime's layout is
/// recognised. The innermost match wins: a process of a container nested in another
/// (/docker/<outer>/docker/<inner>) belongs to the inner one, while the sub-cgroups a runtime
/// makes inside its container (podman's libpod-<id>.scope/container, systemd's init.scope in an
/// LXC payload) match nothing and so stay with the container around them.
pub fn recognise(path: &str) -> Option<PathMatch<'_>> {
    let mut found: Option<PathMatch> = None;
    let mut pod_uid: Option<String> = None;
    let mut in_kubepods = false;
    let mut prev: &str = "";
    let mut start = 0;
    for part in path.split('/') {
        let end = start + part.len();
        let cgroup = path.get(..end).unwrap_or(path);
        start = end + 1;
        if part.is_empty() {
            continue;
        }
        if part.starts_with("kubepods") {
            in_kubepods = true;
            // systemd driver: kubepods-burstable-pod<uid with underscores>.slice.
            if let Some(uid) = slice_pod_uid(part) {
                pod_uid = Some(uid);
            }
        } else if in_kubepods && let Some(uid) = part.strip_prefix("pod") {
            // cgroupfs driver: /kubepods/burstable/pod<uid>.
            pod_uid = Some(uid.to_string());
        }
        if let Some((runtime, ident)) = match_part(part, prev, in_kubepods) {
            let in_pod = matches!(ident, Ident::Id(_));
            found = Some(PathMatch {
                runtime,
                ident,
                pod_uid: pod_uid.clone().filter(|_| in_pod && in_kubepods),
                cgroup,
            });
        }
        prev = part;
    }
    found
}

/// One directory name, after `prev`: the runtime and identity it names, if any.
fn match_part<'a>(part: &'a str, prev: &str, in_kubepods: bool) -> Option<(Runtime, Ident<'a>)> {
    let id = |runtime: Runtime, id: &'a str| Some((runtime, Ident::Id(id)));
    if let Some(x) = scoped_id(part, "docker-") {
        id(Runtime::Docker, x)
    } else if let Some(x) = scoped_id(part, "cri-containerd-") {
        id(Runtime::Containerd, x)
    } else if let Some(x) = scoped_id(part, "crio-") {
        id(Runtime::CriO, x)
    } else if let Some(x) = scoped_id(part, "libpod-") {
        id(Runtime::Podman, x)
    } else if is_id(part) && prev == "docker" {
        id(Runtime::Docker, part)
    } else if is_id(part) && in_kubepods && prev.starts_with("pod") {
        // The engine (containerd or Docker) is not in the path: runtime records tell.
        id(Runtime::Kubernetes, part)
    } else if let Some(name) = part.strip_prefix("lxc.payload.").filter(|n| !n.is_empty()) {
        Some((Runtime::Lxc, Ident::Name(name.to_string())))
    } else if prev == "lxc" && !part.starts_with("lxc.") {
        // LXC before 4.0: /lxc/<name>.
        Some((Runtime::Lxc, Ident::Name(part.to_string())))
    } else {
        part.strip_prefix("machine-")
            .and_then(|s| s.strip_suffix(".scope"))
            .filter(|n| !n.is_empty())
            .map(|name| (Runtime::Nspawn, Ident::Name(unescape_unit_name(name))))
    }
}

/// A container id: 64 lower-case hex digits, as every engine prints them.
pub fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `<prefix><id>.scope` (systemd driver) or `<prefix><id>` (cgroupfs driver). A prefix followed
/// by anything but an id, such as podman's libpod-conmon-<id>.scope or CRI-O's
/// crio-conmon-<id>.scope (the monitor process, not the container), does not match.
fn scoped_id<'p>(part: &'p str, prefix: &str) -> Option<&'p str> {
    let rest = part.strip_prefix(prefix)?;
    let id = rest.strip_suffix(".scope").unwrap_or(rest);
    is_id(id).then_some(id)
}

/// The pod UID in a kubelet slice name (systemd driver): kubepods-pod<uid>.slice (guaranteed)
/// or kubepods-<qos>-pod<uid>.slice, where systemd needs the UID's dashes written as
/// underscores.
fn slice_pod_uid(part: &str) -> Option<String> {
    let stem = part.strip_suffix(".slice")?;
    let at = stem.rfind("-pod")?;
    let uid = stem.get(at + 4..)?;
    (!uid.is_empty()).then(|| uid.replace('_', "-"))
}

/// Undo systemd's unit name escaping (systemd.unit(5)): `\xNN` is the byte NN, so
/// machine-foo\x2dbar.scope is the machine "foo-bar".
pub fn unescape_unit_name(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i) == Some(&b'\\')
            && bytes.get(i + 1) == Some(&b'x')
            && let Some(b) = bytes
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 4;
        } else {
            out.extend(bytes.get(i).copied());
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4653218bbd17a0c1e2f3a4b5c6d7e8f90123456789abcdef0123456789abcdef";
    const UID: &str = "2f4b7d1e-8c3a-4e5f-9b6d-0a1c2e3f4a5b";

    fn id_match(path: &str) -> Option<(Runtime, String, Option<String>, String)> {
        let m = recognise(path)?;
        let ident = match m.ident {
            Ident::Id(id) => id.to_string(),
            Ident::Name(n) => n,
        };
        Some((m.runtime, ident, m.pod_uid, m.cgroup.to_string()))
    }

    fn expect(path: &str, runtime: Runtime, ident: &str, pod: Option<&str>, cgroup: &str) {
        assert_eq!(
            id_match(path),
            Some((
                runtime,
                ident.to_string(),
                pod.map(str::to_string),
                cgroup.to_string()
            )),
            "{path}"
        );
    }

    #[test]
    fn docker_cgroupfs_and_systemd_drivers() {
        let p = format!("/docker/{ID}");
        expect(&p, Runtime::Docker, ID, None, &p);
        let p = format!("/system.slice/docker-{ID}.scope");
        expect(&p, Runtime::Docker, ID, None, &p);
        // A sub-cgroup the container made stays with it.
        expect(
            &format!("/docker/{ID}/app"),
            Runtime::Docker,
            ID,
            None,
            &format!("/docker/{ID}"),
        );
        // Docker in Docker: the inner container.
        let inner = "b".repeat(64);
        let p = format!("/docker/{ID}/docker/{inner}");
        expect(&p, Runtime::Docker, &inner, None, &p);
        // The daemon itself and look-alikes are not containers.
        assert_eq!(recognise("/system.slice/docker.service"), None);
        assert_eq!(recognise("/docker"), None);
        assert_eq!(recognise(&format!("/docker/{}", &ID[..12])), None);
        assert_eq!(recognise(&format!("/docker/{}", ID.to_uppercase())), None);
        assert_eq!(recognise(&format!("/other/{ID}")), None);
    }

    #[test]
    fn kubernetes_cgroupfs_and_systemd_drivers() {
        let p = format!("/kubepods/burstable/pod{UID}/{ID}");
        expect(&p, Runtime::Kubernetes, ID, Some(UID), &p);
        let p = format!("/kubepods/pod{UID}/{ID}");
        expect(&p, Runtime::Kubernetes, ID, Some(UID), &p);
        let p = format!("/kubepods/besteffort/pod{UID}/crio-{ID}");
        expect(&p, Runtime::CriO, ID, Some(UID), &p);
        let slice_uid = UID.replace('-', "_");
        let p = format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{slice_uid}.slice/cri-containerd-{ID}.scope"
        );
        expect(&p, Runtime::Containerd, ID, Some(UID), &p);
        let p = format!("/kubepods.slice/kubepods-pod{slice_uid}.slice/crio-{ID}.scope");
        expect(&p, Runtime::CriO, ID, Some(UID), &p);
        let p = format!(
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{slice_uid}.slice/docker-{ID}.scope"
        );
        expect(&p, Runtime::Docker, ID, Some(UID), &p);
        // The pod's own cgroup and the QoS classes are not containers; neither is CRI-O's conmon.
        assert_eq!(recognise(&format!("/kubepods/burstable/pod{UID}")), None);
        assert_eq!(recognise("/kubepods.slice/kubepods-burstable.slice"), None);
        assert_eq!(
            recognise(&format!(
                "/kubepods.slice/kubepods-pod{slice_uid}.slice/crio-conmon-{ID}.scope"
            )),
            None
        );
        // A bare id under a pod-like directory outside kubepods is nobody's.
        assert_eq!(recognise(&format!("/pods/pod{UID}/{ID}")), None);
    }

    #[test]
    fn podman_but_not_conmon() {
        let p = format!("/libpod_parent/libpod-{ID}");
        expect(&p, Runtime::Podman, ID, None, &p);
        let p = format!("/machine.slice/libpod-{ID}.scope");
        expect(&p, Runtime::Podman, ID, None, &p);
        expect(
            &format!("/machine.slice/libpod-{ID}.scope/container"),
            Runtime::Podman,
            ID,
            None,
            &format!("/machine.slice/libpod-{ID}.scope"),
        );
        assert_eq!(recognise("/libpod_parent/conmon"), None);
        assert_eq!(
            recognise(&format!("/machine.slice/libpod-conmon-{ID}.scope")),
            None
        );
        assert_eq!(recognise("/libpod_parent"), None);
    }

    #[test]
    fn lxc_new_and_old_but_not_the_monitor() {
        expect(
            "/lxc.payload.web",
            Runtime::Lxc,
            "web",
            None,
            "/lxc.payload.web",
        );
        expect(
            "/lxc.payload.web/init.scope",
            Runtime::Lxc,
            "web",
            None,
            "/lxc.payload.web",
        );
        expect("/lxc/db", Runtime::Lxc, "db", None, "/lxc/db");
        assert_eq!(recognise("/lxc.monitor.web"), None);
        assert_eq!(recognise("/lxc"), None);
        assert_eq!(recognise("/lxc.payload."), None);
    }

    #[test]
    fn nspawn_machines_with_escaped_names() {
        expect(
            "/machine.slice/machine-debian.scope",
            Runtime::Nspawn,
            "debian",
            None,
            "/machine.slice/machine-debian.scope",
        );
        expect(
            "/machine.slice/machine-build\\x2d01.scope/payload",
            Runtime::Nspawn,
            "build-01",
            None,
            "/machine.slice/machine-build\\x2d01.scope",
        );
        assert_eq!(recognise("/machine.slice"), None);
        assert_eq!(unescape_unit_name("a\\x2db\\x5cc\\xzz"), "a-b\\c\\xzz");
    }

    #[test]
    fn host_paths_are_nobodys() {
        for p in [
            "/",
            "",
            "/init.scope",
            "/system.slice/containerd.service",
            "/user.slice/user-1000.slice/session-1.scope",
            "/nsview-test-123/c1",
        ] {
            assert_eq!(recognise(p), None, "{p}");
        }
    }
}
