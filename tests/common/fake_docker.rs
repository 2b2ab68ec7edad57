//! A fake Docker Engine API on a fixture's /var/run/docker.sock: what nsview asks a dockerd for
//! the names of containers it found by their cgroups.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A fake Docker Engine API on `sock`: answers every GET with `body` (or, with
/// [`FakeDocker::serve_routes`], the body of the first route whose path the request's starts
/// with, else 404), in chunks as dockerd does; records the requests.
pub struct FakeDocker {
    stop: Arc<AtomicBool>,
    pub requests: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeDocker {
    pub fn serve(sock: &Path, body: String) -> FakeDocker {
        Self::serve_routes(sock, vec![("/".to_string(), body)])
    }

    /// Answer a GET whose path starts with a route's prefix with that route's body (the first
    /// that matches), any other with 404 and Docker's `{"message": ...}`.
    pub fn serve_routes(sock: &Path, routes: Vec<(String, String)>) -> FakeDocker {
        std::fs::create_dir_all(sock.parent().unwrap()).unwrap();
        let listener = UnixListener::bind(sock).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (st, rq) = (stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                s.set_nonblocking(false).unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.ends_with(b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                rq.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&req).into_owned());
                let text = String::from_utf8_lossy(&req);
                let path = text.split(' ').nth(1).unwrap_or("");
                let (status, body) = routes
                    .iter()
                    .find(|(prefix, _)| path.starts_with(prefix.as_str()))
                    .map(|(_, body)| ("200 OK", body.clone()))
                    .unwrap_or_else(|| {
                        (
                            "404 Not Found",
                            r#"{"message":"No such container"}"#.to_string(),
                        )
                    });
                let mut answer = format!(
                    "HTTP/1.1 {status}\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nDocker-Experimental: false\r\nServer: Docker/20.10.24 (linux)\r\nTransfer-Encoding: chunked\r\n\r\n",
                );
                let bytes = body.as_bytes();
                for chunk in bytes.chunks(100) {
                    answer.push_str(&format!(
                        "{:x}\r\n{}\r\n",
                        chunk.len(),
                        String::from_utf8_lossy(chunk)
                    ));
                }
                answer.push_str("0\r\n\r\n");
                let _ = s.write_all(answer.as_bytes());
            }
        });
        FakeDocker {
            stop,
            requests,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeDocker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
