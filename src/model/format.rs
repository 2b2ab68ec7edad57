//! Short text forms of model values, shared by the CLI's tables and the TUI.

use super::{CgValue, Cgroup, NsType, Snapshot};
use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` made safe to print on a terminal: every control character (C0 including tab and newline,
/// DEL, and C1 U+0080..U+009F, which some terminals take as CSI, OSC...) becomes `\xNN`, one per
/// byte of its UTF-8 encoding (ESC is `\x1b`, U+009B is `\xc2\x9b`). Hostnames, process names,
/// command lines and cgroup names are chosen by containers and local users; nothing they write
/// may move the admin's cursor, retitle the window or clear the screen. Text without control
/// characters is returned as it is, not copied. A backslash is not escaped: plain names (systemd's
/// `\x2d` in unit names) print unchanged.
pub fn printable(s: &str) -> Cow<'_, str> {
    escape_controls(s, |_| false)
}

/// [`printable`] for a message of several lines: newlines stay, every other control character
/// is escaped.
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    escape_controls(s, |c| c == '\n')
}

/// [`printable`] of an owned string: the same string back when nothing needs escaping.
pub fn printable_string(s: String) -> String {
    match printable(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(escaped) => escaped,
    }
}

/// Bytes from the system (a file name, a pipe) as printable text: valid UTF-8 as [`printable`],
/// each byte of an invalid sequence as `\xNN`.
pub fn printable_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return printable(s);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&printable(chunk.valid()));
        for b in chunk.invalid() {
            push_hex(&mut out, *b);
        }
    }
    Cow::Owned(out)
}

fn escape_controls(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    // char::is_control is exactly the Cc category: U+0000..U+001F and U+007F..U+009F.
    let escaped = |c: char| c.is_control() && !keep(c);
    if !s.chars().any(escaped) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if escaped(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                push_hex(&mut out, b);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn push_hex(out: &mut String, b: u8) {
    // Writing to a String cannot fail.
    let _ = write!(out, "\\x{b:02x}");
}

/// v1 writes "no limit" as the largest page-aligned number (9223372036854771712 with 4 KiB
/// pages), not as "max".
pub fn is_unlimited(v: i64) -> bool {
    v >= 0x7FFF_FFFF_FFFF_0000
}

/// A control file's value as one short line.
pub fn value(v: &CgValue) -> String {
    match v {
        // v1 writes "no limit" as the largest page-aligned number.
        CgValue::Int(i) if is_unlimited(*i) => format!("{i} (unlimited)"),
        CgValue::Int(i) => i.to_string(),
        CgValue::Text(s) => s.replace('\n', "; "),
        CgValue::List(l) => l.iter().map(value).collect::<Vec<_>>().join(" "),
        CgValue::Map(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        CgValue::Pressure(p) => p
            .iter()
            .map(|(k, f)| format!("{k} avg10={:.2}", f.get("avg10").copied().unwrap_or(0.0)))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Whether the control file `key` holds a size in bytes.
fn is_bytes_file(key: &str) -> bool {
    key.ends_with("_in_bytes")
        || matches!(
            key,
            "memory.max"
                | "memory.high"
                | "memory.low"
                | "memory.min"
                | "memory.current"
                | "memory.peak"
                | "memory.swap.max"
                | "memory.swap.high"
                | "memory.swap.current"
                | "memory.swap.peak"
        )
}

/// A control file's value as one line, with sizes also in human form: `134217728 (128M)`.
pub fn file_value(key: &str, v: &CgValue) -> String {
    match v {
        CgValue::Int(i) if *i >= 1024 && !is_unlimited(*i) && is_bytes_file(key) => {
            format!("{i} ({})", human_bytes(*i as u64))
        }
        _ => value(v),
    }
}

/// The limits worth a column: the ones an admin sets, when they are not the kernel's default.
pub fn main_limits(c: &Cgroup) -> String {
    c.limits
        .iter()
        .filter(|(k, v)| !is_default(k, v))
        .map(|(k, v)| format!("{k}={}", value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Values that mean "no limit" (cgroup-v1/v2 docs), left out of the compact view.
fn is_default(key: &str, v: &CgValue) -> bool {
    match (key, v) {
        (
            "memory.limit_in_bytes" | "memory.memsw.limit_in_bytes" | "memory.soft_limit_in_bytes",
            CgValue::Int(i),
        ) => is_unlimited(*i),
        ("cpu.cfs_quota_us", CgValue::Int(-1)) => true,
        ("cpu.cfs_period_us", CgValue::Int(100_000)) => true,
        ("cpu.shares", CgValue::Int(1024)) => true,
        ("cpu.weight", CgValue::Int(100)) => true,
        ("freezer.state", CgValue::Text(s)) => s == "THAWED",
        ("cgroup.freeze", CgValue::Int(0)) => true,
        ("memory.low" | "memory.min", CgValue::Int(0)) => true,
        (_, CgValue::Text(s)) if s == "max" || s.is_empty() => true,
        (_, CgValue::List(l)) => matches!(l.first(), Some(CgValue::Text(s)) if s == "max"),
        _ => false,
    }
}

/// A cgroup path with long container ids shortened the way `docker ps` shows them (12 hex
/// digits and an ellipsis): /docker/4653218bbd17…, /system.slice/docker-4653218bbd17….scope.
pub fn short_cgroup_path(path: &str) -> String {
    path.split('/')
        .map(|part| {
            // The longest run of hex digits in the component, if it looks like an id.
            let bytes = part.as_bytes();
            let mut best = (0, 0);
            let mut start = 0;
            for i in 0..=bytes.len() {
                let hex = i < bytes.len() && bytes[i].is_ascii_hexdigit();
                if !hex {
                    if i - start > best.1 - best.0 {
                        best = (start, i);
                    }
                    start = i + 1;
                }
            }
            if best.1 - best.0 >= 32 {
                format!(
                    "{}{}…{}",
                    &part[..best.0],
                    &part[best.0..best.0 + 12],
                    &part[best.1..]
                )
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// "1 process", "3 processes".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Human size, base 1024 as Docker writes limits: 1.5G, 128M, 512K, 900B.
pub fn human_bytes(v: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("T", 1 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ];
    for (u, size) in UNITS {
        if v >= size {
            let x = v as f64 / size as f64;
            return if x >= 100.0 || (x - x.round()).abs() < 0.05 {
                format!("{:.0}{u}", x)
            } else {
                format!("{x:.1}{u}")
            };
        }
    }
    format!("{v}B")
}

fn int(c: &Cgroup, file: &str, usage: bool) -> Option<i64> {
    let map = if usage { &c.usage } else { &c.limits };
    match map.get(file)? {
        CgValue::Int(i) => Some(*i),
        _ => None,
    }
}

/// Memory used and the limit (None = no limit) of a cgroup, v1 or v2.
pub fn memory_of(c: &Cgroup) -> Option<(u64, Option<u64>)> {
    let used = int(c, "memory.usage_in_bytes", true).or_else(|| int(c, "memory.current", true))?;
    let limit = int(c, "memory.limit_in_bytes", false)
        .or_else(|| int(c, "memory.max", false))
        .filter(|l| !is_unlimited(*l))
        .map(|l| l as u64);
    Some((used.max(0) as u64, limit))
}

/// pids.current and pids.max.
pub fn pids_of(c: &Cgroup) -> Option<(u64, Option<u64>)> {
    let cur = int(c, "pids.current", true)?;
    let max = int(c, "pids.max", false).map(|m| m as u64);
    Some((cur.max(0) as u64, max))
}

/// The hierarchy that holds `controller` for processes: a v1 hierarchy with it, else the v2 one
/// when its cgroup.controllers lists it.
pub fn hierarchy_for<'a>(snap: &'a Snapshot, controller: &str) -> Option<&'a str> {
    snap.hierarchies
        .iter()
        .find(|h| h.version == 1 && h.controllers.iter().any(|c| c == controller))
        .or_else(|| {
            snap.hierarchies
                .iter()
                .find(|h| h.version == 2 && h.controllers.iter().any(|c| c == controller))
        })
        .map(|h| h.key.as_str())
}

/// Namespace types, compactly: "mnt uts ipc pid net", or "all but pid" when that is shorter,
/// or "all 8".
pub fn ns_list(types: impl Iterator<Item = NsType>) -> String {
    let v: Vec<NsType> = types.collect();
    if v.is_empty() {
        return "-".into();
    }
    if v.len() == NsType::ALL.len() {
        return "all 8".into();
    }
    let listed = v.iter().map(|t| t.name()).collect::<Vec<_>>().join(" ");
    let missing: Vec<&str> = NsType::ALL
        .iter()
        .filter(|t| !v.contains(t))
        .map(|t| t.name())
        .collect();
    let but = format!("all but {}", missing.join(" "));
    if but.len() < listed.len() {
        but
    } else {
        listed
    }
}

#[cfg(test)]
mod tests {
    use super::{
        human_bytes, is_unlimited, printable, printable_bytes, printable_lines, printable_string,
        short_cgroup_path,
    };
    use std::borrow::Cow;

    #[test]
    fn printable_escapes_c0_del_and_c1() {
        assert_eq!(
            printable("evil\x1b]0;pwn\x07\x1b[2J"),
            "evil\\x1b]0;pwn\\x07\\x1b[2J"
        );
        assert_eq!(printable("a\tb\nc\rd\0"), "a\\x09b\\x0ac\\x0dd\\x00");
        assert_eq!(printable("del\x7f"), "del\\x7f");
        // C1 as characters (valid UTF-8 C2 80..C2 9F): CSI is U+009B.
        assert_eq!(
            printable("\u{80}x\u{9b}2J\u{9f}"),
            "\\xc2\\x80x\\xc2\\x9b2J\\xc2\\x9f"
        );
        // Just outside the control ranges: printed as they are.
        assert_eq!(printable("\u{a0}é ~ 名前"), "\u{a0}é ~ 名前");
        assert_eq!(printable_lines("one\ntwo\x1b"), "one\ntwo\\x1b");
    }

    #[test]
    fn printable_text_is_neither_changed_nor_copied() {
        for plain in [
            "",
            "nginx",
            "/system.slice/dev-disk-by\\x2duuid.swap",
            "sleep 100 ünï",
        ] {
            assert!(matches!(printable(plain), Cow::Borrowed(s) if s == plain));
            assert!(matches!(printable_bytes(plain.as_bytes()), Cow::Borrowed(s) if s == plain));
        }
        let owned = String::from("web-1");
        let ptr = owned.as_ptr();
        let same = printable_string(owned);
        assert_eq!(same.as_ptr(), ptr);
        assert_eq!(printable_string("a\x1bb".into()), "a\\x1bb");
    }

    #[test]
    fn printable_bytes_escapes_invalid_utf8() {
        assert_eq!(printable_bytes(b"ab\xffc\x9b2J"), "ab\\xffc\\x9b2J");
        assert_eq!(printable_bytes(b"\xc3(\x1b"), "\\xc3(\\x1b");
        // A cut multi-byte sequence at the end.
        assert_eq!(printable_bytes("é".as_bytes().get(..1).unwrap()), "\\xc3");
        assert_eq!(printable_bytes("ok é".as_bytes()), "ok é");
    }

    #[test]
    fn shortens_container_ids() {
        let id = "4653218bbd17a0c1e2f3a4b5c6d7e8f90123456789abcdef0123456789abcdef";
        assert_eq!(
            short_cgroup_path(&format!("/docker/{id}")),
            "/docker/4653218bbd17…"
        );
        assert_eq!(
            short_cgroup_path(&format!("/system.slice/docker-{id}.scope")),
            "/system.slice/docker-4653218bbd17….scope"
        );
        assert_eq!(short_cgroup_path("/user.slice/cafe"), "/user.slice/cafe");
        assert_eq!(short_cgroup_path("/"), "/");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(134217728), "128M");
        assert_eq!(human_bytes(1536 * 1024 * 1024), "1.5G");
        assert_eq!(human_bytes(512), "512B");
        assert_eq!(human_bytes(2_200_000), "2.1M");
        assert!(is_unlimited(9223372036854771712));
        assert!(!is_unlimited(134217728));
    }
}
