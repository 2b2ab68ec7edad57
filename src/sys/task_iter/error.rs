//! Why the task iterator is not available.

use crate::sys::error::SysError;

/// Why the iterator is not available (callers fall back to /proc and can say why).
#[derive(Debug, thiserror::Error)]
pub enum IterError {
    /// /sys/kernel/btf/vmlinux could not be read.
    #[error("kernel BTF: {0}")]
    Btf(#[from] SysError),
    /// A struct member the program reads is not in this kernel's BTF.
    #[error("kernel BTF lacks {0}")]
    Layout(String),
    /// A bpf(2) command failed (EPERM: not root).
    #[error("bpf({cmd}): {source}")]
    Bpf {
        cmd: &'static str,
        source: std::io::Error,
    },
    /// The verifier refused the program; the last lines of its log.
    #[error("the verifier refused the task iterator: {0}")]
    Verifier(String),
    /// A bug in the assembler (a jump without its label).
    #[error("assembling the task iterator: {0}")]
    Assembly(String),
    /// The instruction encoding here is little-endian and pointers 8 bytes.
    #[error("the task iterator is built for 64-bit little-endian machines")]
    Machine,
}
