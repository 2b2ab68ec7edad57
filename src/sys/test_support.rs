//! Shared by the readers' real-kernel unit tests.

/// Real-kernel tests need root: skip with a reason, except under CI=true, where a skip would
/// hide a broken setup.
pub fn require_root(what: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but not root: {what} need root"
    );
    eprintln!("skipped: {what} need root");
    false
}
