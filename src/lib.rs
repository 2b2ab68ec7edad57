//! nsview: what isolation is really in place on a Linux host, read straight from the kernel.

pub mod app;
pub mod cli;
pub mod collect;
pub mod effects;
pub mod model;
pub mod policy;
pub mod record;
pub mod sys;
pub mod tui;
pub mod ui;
