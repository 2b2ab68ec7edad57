//! Side effects: everything nsview does to the system (as opposed to reading it) lives here, behind
//! a validation step that runs before anything is changed.
//!
//! - [`enter`]: run a command inside a target's namespaces and cgroups (`nsview enter`, the TUI's
//!   `x`), through a single-threaded helper process.
//! - [`cgroup`]: the writes themselves (set, freeze/thaw, move, device rules, undo), all or
//!   nothing, re-read and journaled.
//! - [`docker`]: `set` on a Docker container through the Engine API.
//! - [`journal`]: the journal of applied changes that undo reads.
//! - [`request`]: a change asked for in the TUI, run on a worker thread.

pub mod cgroup;
pub mod docker;
pub mod enter;
pub mod journal;
pub mod request;
