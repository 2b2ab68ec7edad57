//! Side effects: everything nsview does to the system (as opposed to reading it) lives here, behind
//! a validation step that runs before anything is changed.
//!
//! - [`ops`]: the operations layer (set, freeze, thaw, move, device rules, undo, previews) that
//!   the CLI and the TUI's worker both call; every policy check is made there or below.
//! - [`cgroup`]: the writes themselves, each one transaction: all or nothing, re-read and
//!   journaled.
//! - [`docker`]: `set` on a Docker container through the Engine API.
//! - [`runtime_pause`]: `freeze` and `thaw` of a Docker or podman container through its
//!   runtime's API.
//! - [`journal`]: the journal of applied changes that undo reads.
//! - [`request`]: the TUI's worker: an operation asked for in the TUI, and its outcome.
//! - [`enter`]: run a command inside a target's namespaces and cgroups (`nsview enter`, the TUI's
//!   `x`), through a single-threaded helper process.

pub mod cgroup;
pub mod docker;
pub mod enter;
pub mod journal;
pub mod ops;
pub mod request;
pub mod runtime_pause;
