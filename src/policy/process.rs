//! Which processes may be moved between cgroups.

/// Kernel threads stay in the root cgroup (the kernel refuses to move most of them, and the rest
/// must not be), and so does PID 1, the init of the pid namespace nsview runs in (the host's
/// init: the supervisor of everything else, whose cgroups the whole machine's accounting starts
/// from). Refused with one line for the admin.
pub fn check_movable(pid: i32, comm: &str, kernel_thread: bool) -> Result<(), String> {
    if kernel_thread {
        return Err(format!(
            "{pid} ({comm}) is a kernel thread: kernel threads stay in the root cgroup"
        ));
    }
    if pid == 1 {
        return Err(format!(
            "refusing to move PID 1 ({comm}): it is the host's init, which stays in the root \
             cgroups"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_and_kernel_threads_stay() {
        assert!(check_movable(1, "init", false).is_err_and(|e| e.contains("PID 1 (init)")));
        assert!(check_movable(2, "kthreadd", true).is_err_and(|e| e.contains("kernel thread")));
        assert!(check_movable(7146, "sleep", false).is_ok());
    }
}
