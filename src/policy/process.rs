//! Which processes may be moved between cgroups.

/// Kernel threads stay in the root cgroup (the kernel refuses to move most of them, and the rest
/// must not be): refused with one line for the admin.
pub fn check_movable(pid: i32, comm: &str, kernel_thread: bool) -> Result<(), String> {
    if kernel_thread {
        return Err(format!(
            "{pid} ({comm}) is a kernel thread: kernel threads stay in the root cgroup"
        ));
    }
    Ok(())
}
