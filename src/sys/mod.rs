//! Readers: the only code that opens kernel files. Each reader is named after the file it reads;
//! parsing lives in [`parse`] and does no I/O.

pub mod bpf;
pub mod btf;
pub mod cgroup_control;
pub mod cgroupfs;
pub mod docker;
pub mod error;
pub mod http;
pub mod lxc;
pub mod mounts;
pub mod net;
pub mod nsfs;
pub mod oci;
pub mod parse;
pub mod podman;
pub mod pods;
pub mod proc_connector;
pub mod proc_handle;
pub mod procfs;
pub mod roots;
pub mod self_exe;
pub mod task_iter;
#[cfg(test)]
pub(crate) mod test_support;
pub mod users;
pub mod uts;

pub use error::{SysError, SysResult};
pub use roots::Roots;
