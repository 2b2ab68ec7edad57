//! Pure rules of what may be written, shared by the front ends (the TUI's forms validate as the
//! admin types) and the operations layer (`effects::ops`, which enforces them before writing).
//! No I/O: only `model` and `sys::parse` below.
//!
//! - [`limits`]: what `set` accepts (keys, units, ranges, v1 <-> v2 mapping) and the writes it
//!   plans.
//! - [`devices`]: the syntax of a v1 device rule.
//! - [`process`]: which processes may be moved.

pub mod devices;
pub mod limits;
pub mod process;
