//! Side effects: everything nsview does to the system (as opposed to reading it) lives here, behind
//! a validation step that runs before anything is changed.
//!
//! - [`enter`]: run a command inside a target's namespaces and cgroups (`nsview enter`, the TUI's
//!   `x`), through a single-threaded helper process.

pub mod enter;
