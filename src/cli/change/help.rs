//! The longer help of the change commands.

/// KEY=VALUE of `set`.
pub(super) const SET_HELP: &str = "\
KEY is a kernel file name of either cgroup version; a v2 name on a v1 cgroup maps to its v1 file \
and the other way round (the output says so):
  cpu.shares (v1, 2..262144) / cpu.weight (v2, 1..10000); converted with runc's curve (1024 = 100)
  cpu.max (v2) / cpu.cfs_quota_us + cpu.cfs_period_us (v1): CPUs (1.5), 'QUOTA PERIOD' in us, or max
  cpuset.cpus, cpuset.mems: lists like 0-2,4, within the parent's
  memory.limit_in_bytes (v1) / memory.max (v2), memory.high (v2), memory.soft_limit_in_bytes (v1):
    sizes like 512k 128m 1.5g (base 1024) or bytes, max / unlimited / -1
  memory.memsw.limit_in_bytes (v1, memory + swap) / memory.swap.max (v2, swap alone)
  pids.max: a number or max
Swap: a memory limit given without a swap key keeps the group's swap amount. On v1,
memory.memsw.limit_in_bytes (memory + swap) moves with the memory limit and is listed with it
(128M memory + 256M memsw, memory.max=256m: memsw 256M -> 384M); an unlimited memory lifts it
too. `docker update --memory` alone would keep memory + swap and shrink the swap. Give
memory.swap.max or memory.memsw.limit_in_bytes to choose the swap; memory + swap below memory is
refused. Every file that will change is listed, old -> new, before (--dry-run) and after.
--dry-run makes every check the write makes, the runtime's included (a Docker container's memory
limit is at least 6M, Docker's minimum; cpusets stay within the parent's).
Several keys are applied all or nothing: if one write fails, the ones made are rolled back.
Every change is journaled (nsview journal) and can be undone (nsview undo).

Example (what docker run --cpu-shares 2048 --memory 128m does):
  nsview set /docker/4653218b cpu.shares=2048 memory.limit_in_bytes=128m";

/// TARGET of `move`.
pub(super) const MOVE_HELP: &str = "TARGET is a cgroup path (moved into that path in every hierarchy that has it), \
a PID (moved next to that process, in each of its hierarchies) or a container.";

/// RULE of `devices`.
pub(super) const DEVICES_HELP: &str = "RULE as devices.allow takes it: 'a' (all), or 'TYPE MAJOR:MINOR ACCESS' with TYPE \
a, b or c, * for any number, ACCESS from rwm. Examples:\n  nsview devices /docker/ID deny c 1:3 rwm\n  \
nsview devices 7146 allow 'c 136:* rw'\nOn cgroup v2 device rules are eBPF programs; nsview lists the attached ones.";

/// `undo`.
pub(super) const UNDO_HELP: &str = "\
Without ENTRY, undo reverts the newest change still done (nsview journal shows each entry's \
state: done, undone or skipped). Every file must still hold what nsview left, else nothing is \
undone. Something gone since (a removed container or cgroup, an exited process; Docker's HTTP 404 \
counts as gone) stops the undo: --force skips it and reverts the rest, and an entry of which \
nothing is left is marked skipped, so that the next undo reaches older changes.
Examples:
  nsview undo            the newest change
  nsview undo 7          entry 7 of nsview journal
  nsview undo --force    the newest change, skipping what is gone";
