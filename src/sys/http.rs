//! A minimal HTTP/1.1 GET over a Unix socket, for runtimes' local APIs (the Docker Engine API on
//! /var/run/docker.sock). Enough of RFC 9112 for a daemon's JSON answer: one request with
//! `Connection: close`, a body delimited by Content-Length, by chunked transfer coding (which
//! dockerd uses) or by the end of the connection. Short timeouts: a daemon that hangs costs a
//! collection pass a fraction of a second, never the pass.

use super::error::{SysError, SysResult};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Answers larger than this are refused (a host with thousands of containers answers a few MB).
const MAX_RESPONSE: usize = 64 << 20;

/// `GET target` on the HTTP server listening on the Unix socket `sock`; the body of a 200
/// answer. `timeout` bounds each read and write; the whole exchange may take at most ten times
/// that. No socket (ENOENT) or nobody listening (ECONNREFUSED) fail at once.
pub fn get_unix(sock: &Path, target: &str, timeout: Duration) -> SysResult<Vec<u8>> {
    match request_unix(sock, "GET", target, None, timeout)? {
        (200, body) => Ok(body),
        (code, _) => Err(SysError::parse(sock, format!("answered HTTP {code}"))),
    }
}

/// One request with an optional JSON body on the Unix socket `sock`, for the Docker Engine
/// API's updates: the status code and the body, whatever the status (the API explains refusals
/// in a JSON body: `{"message": "..."}`). Same timeouts as [`get_unix`].
pub fn request_unix(
    sock: &Path,
    method: &str,
    target: &str,
    body: Option<&[u8]>,
    timeout: Duration,
) -> SysResult<(u16, Vec<u8>)> {
    check_request_line(method, target).map_err(|why| SysError::parse(sock, why))?;
    let mut stream = connect_unix(sock, timeout)?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| SysError::io(sock, e))?;
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: nsview\r\nAccept: application/json\r\nConnection: close\r\n"
    );
    if !body.is_empty() || method != "GET" {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream
        .write_all(&bytes)
        .map_err(|e| SysError::io(sock, e))?;
    let deadline = Instant::now() + timeout * 10;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if Instant::now() > deadline {
            return Err(SysError::io(
                sock,
                std::io::Error::new(std::io::ErrorKind::TimedOut, "the answer took too long"),
            ));
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(buf.get(..n).unwrap_or_default());
                if raw.len() > MAX_RESPONSE {
                    return Err(SysError::parse(sock, "answer too large"));
                }
                if let Some(done) = complete(&raw) {
                    return Ok(done);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(SysError::io(sock, e)),
        }
    }
    match split_head(&raw) {
        Some((head, rest)) if !is_chunked(&head) && content_length(&head).is_none() => {
            let code = status_code(&head).ok_or_else(|| SysError::parse(sock, "no status"))?;
            Ok((code, rest.to_vec()))
        }
        _ => complete(&raw).ok_or_else(|| SysError::parse(sock, "the answer ended early")),
    }
}

/// A request line is built from `method` and `target`: neither may hold a space, CR, LF or any
/// other control character (a container id or path from a record must not add headers or a
/// second request).
fn check_request_line(method: &str, target: &str) -> Result<(), String> {
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
    if !plain(method) || !plain(target) || !target.starts_with('/') {
        return Err(format!(
            "refusing the request target {target:?}: only a path without spaces or control \
             characters is sent"
        ));
    }
    Ok(())
}

/// Connect to the Unix socket `sock` within `timeout`: a listener that does not accept (its
/// backlog full) would block a plain connect(2) for ever. No socket (ENOENT) or nobody listening
/// (ECONNREFUSED) fail at once.
fn connect_unix(sock: &Path, timeout: Duration) -> SysResult<UnixStream> {
    use rustix::io::Errno;
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let io_err = |e: Errno| SysError::io(sock, e.into());
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .map_err(io_err)?;
    let addr = SocketAddrUnix::new(sock).map_err(io_err)?;
    let deadline = Instant::now() + timeout;
    loop {
        match rustix::net::connect(&fd, &addr) {
            Ok(()) => break,
            Err(Errno::INTR) => continue,
            // A Unix socket's backlog is full: connect(2) says EAGAIN until there is room.
            Err(Errno::AGAIN) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(Errno::AGAIN) => {
                return Err(SysError::io(
                    sock,
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "connect timed out: the daemon does not accept connections",
                    ),
                ));
            }
            Err(e) => return Err(io_err(e)),
        }
    }
    let stream = UnixStream::from(fd);
    stream
        .set_nonblocking(false)
        .map_err(|e| SysError::io(sock, e))?;
    Ok(stream)
}

/// The status code and body of a complete answer in `raw`; None while more is needed (or, for
/// an answer delimited by the end of the connection, until then).
fn complete(raw: &[u8]) -> Option<(u16, Vec<u8>)> {
    let (head, rest) = split_head(raw)?;
    let code = status_code(&head)?;
    if is_chunked(&head) {
        return dechunk(rest).ok().flatten().map(|b| (code, b));
    }
    match content_length(&head) {
        Some(n) if rest.len() >= n => Some((code, rest.get(..n).unwrap_or_default().to_vec())),
        _ => None,
    }
}

/// What the client makes of the bytes `raw` received so far: the status code and body once the
/// answer is complete (as [`request_unix`] decides while reading). For the fuzz target
/// fuzz/fuzz_targets/http_response.rs.
#[doc(hidden)]
pub fn parse_response(raw: &[u8]) -> Option<(u16, Vec<u8>)> {
    complete(raw)
}

/// The status code of an HTTP/1.x status line.
fn status_code(head: &Head) -> Option<u16> {
    if !head.status.starts_with("HTTP/1.") {
        return None;
    }
    head.status.split_whitespace().nth(1)?.parse().ok()
}

/// The head (status line and headers, lower-cased names) and the rest, once the blank line
/// that ends the head has arrived.
fn split_head(raw: &[u8]) -> Option<(Head, &[u8])> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(raw.get(..end)?);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((Head { status, headers }, raw.get(end + 4..)?))
}

struct Head {
    status: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_chunked(head: &Head) -> bool {
    head.header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
}

fn content_length(head: &Head) -> Option<usize> {
    head.header("content-length")?.parse().ok()
}

/// Decode a chunked body (RFC 9112 section 7.1): `size[;ext]CRLF data CRLF`... up to the chunk
/// of size 0; trailers are ignored. `Ok(None)` while incomplete.
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(rest.get(..eol).unwrap_or_default());
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = chunk_size(size_text, body.len())?;
        rest = rest.get(eol + 2..).unwrap_or_default();
        if size == 0 {
            return Ok(Some(body));
        }
        // `size` is at most MAX_RESPONSE: no overflow.
        let Some(data) = rest.get(..size) else {
            return Ok(None);
        };
        let Some(after) = rest.get(size..size + 2) else {
            return Ok(None);
        };
        if after != b"\r\n" {
            return Err("a chunk does not end with CRLF".into());
        }
        body.extend_from_slice(data);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

/// A chunk size: hex digits only (no sign, no spaces), and with the `so_far` bytes of body
/// already decoded, within [`MAX_RESPONSE`].
fn chunk_size(text: &str, so_far: usize) -> Result<usize, String> {
    let bad = || format!("bad chunk size '{text}'");
    if text.is_empty() || text.len() > 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let size = u64::from_str_radix(text, 16).map_err(|_| bad())?;
    match usize::try_from(size) {
        Ok(n) if n <= MAX_RESPONSE.saturating_sub(so_far) => Ok(n),
        _ => Err(format!("chunk size '{text}' beyond the answer's limit")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn chunked_and_sized_answers() {
        let chunked = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{\"a\"\r\n4;ext=1\r\n:1}]\r\n0\r\n\r\n";
        assert_eq!(complete(chunked), Some((200, b"[{\"a\":1}]".to_vec())));
        // Cut anywhere: incomplete.
        for cut in 0..chunked.len() - 4 {
            assert_eq!(complete(&chunked[..cut]), None, "cut at {cut}");
        }
        let sized = b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n[]";
        assert_eq!(complete(sized), Some((200, b"[]".to_vec())));
        let error = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(complete(error), Some((500, vec![])));
        assert_eq!(
            complete(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            None
        );
    }

    #[test]
    fn chunk_sizes_cannot_overflow() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for size in [
            "ffffffffffffffff",
            "fffffffffffffffe",
            "10000000000000000",
            "+5",
            "-1",
            "5 5",
        ] {
            let raw = format!("{head}{size}\r\nabcde\r\n0\r\n\r\n");
            assert_eq!(complete(raw.as_bytes()), None, "{size}");
            assert!(
                dechunk(format!("{size}\r\nabcde\r\n").as_bytes()).is_err(),
                "{size}"
            );
        }
        // Two chunks whose sizes add up beyond the limit.
        let half = format!("{:x}", MAX_RESPONSE / 2 + 1);
        assert!(dechunk(format!("{half}\r\n").as_bytes()).is_ok());
        assert!(chunk_size(&half, MAX_RESPONSE / 2 + 1).is_err());
        // A chunk not followed by CRLF.
        assert!(dechunk(b"2\r\n[]xx0\r\n\r\n").is_err());
    }

    #[test]
    fn a_request_target_adds_no_header() {
        for target in ["/a b", "/a\r\nX-Evil: 1", "/a\n", "a", "", "/\u{7f}"] {
            assert!(check_request_line("GET", target).is_err(), "{target:?}");
        }
        assert!(check_request_line("GET", "/containers/json?all=1").is_ok());
        let dir = tempfile::tempdir().unwrap();
        let e = get_unix(
            &dir.path().join("none.sock"),
            "/x\r\nHost: y",
            Duration::from_millis(50),
        );
        assert!(e.is_err_and(|e| e.to_string().contains("refusing the request target")));
    }

    #[test]
    fn a_daemon_that_never_accepts_times_out_on_connect() {
        use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("full.sock");
        let listener = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        rustix::net::bind(&listener, &SocketAddrUnix::new(&sock).unwrap()).unwrap();
        rustix::net::listen(&listener, 0).unwrap();
        // Fill the backlog: connections nobody accepts.
        let mut held = Vec::new();
        loop {
            let fd = rustix::net::socket_with(
                AddressFamily::UNIX,
                SocketType::STREAM,
                SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
                None,
            )
            .unwrap();
            match rustix::net::connect(&fd, &SocketAddrUnix::new(&sock).unwrap()) {
                Ok(()) => held.push(fd),
                Err(_) => break,
            }
            assert!(held.len() < 1000, "the backlog never filled");
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let path = sock.clone();
        std::thread::spawn(move || {
            let _ = tx.send(get_unix(&path, "/_ping", Duration::from_millis(100)));
        });
        let r = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("connect must give up after its timeout");
        let e = r.expect_err("nobody accepted");
        assert!(e.to_string().contains("connect timed out"), "{e}");
        drop(listener);
    }

    fn serve(answer: &'static [u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("api.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut req = [0u8; 1024];
                let n = s.read(&mut req).unwrap_or(0);
                assert!(req[..n].starts_with(b"GET /containers/json?all=1 HTTP/1.1\r\n"));
                // In two writes, as a daemon flushing headers first would.
                let (a, b) = answer.split_at(answer.len() / 2);
                let _ = s.write_all(a);
                std::thread::sleep(Duration::from_millis(20));
                let _ = s.write_all(b);
            }
        });
        (dir, sock)
    }

    #[test]
    fn get_over_a_unix_socket() {
        let (_dir, sock) =
            serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n");
        let body = get_unix(&sock, "/containers/json?all=1", Duration::from_millis(500));
        assert_eq!(body.ok(), Some(b"[]".to_vec()));
        // Delimited by the end of the connection.
        let (_dir, sock) = serve(b"HTTP/1.1 200 OK\r\n\r\n[1]");
        let body = get_unix(&sock, "/containers/json?all=1", Duration::from_millis(500));
        assert_eq!(body.ok(), Some(b"[1]".to_vec()));
    }

    #[test]
    fn no_socket_is_vanished() {
        let dir = tempfile::tempdir().unwrap();
        let err = get_unix(
            &dir.path().join("none.sock"),
            "/",
            Duration::from_millis(300),
        );
        assert!(err.is_err_and(|e| e.is_vanished()));
    }

    #[test]
    fn a_silent_server_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("silent.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let err = get_unix(&sock, "/", Duration::from_millis(50));
        drop(listener);
        assert!(err.is_err());
    }
}
