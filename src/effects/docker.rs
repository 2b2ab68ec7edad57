//! `set` on a Docker container through the Engine API (POST /containers/{id}/update), so that
//! `docker inspect` and restarts keep the change; the kernel files are re-read afterwards, as
//! for a direct write. Keys the API has no field for (memory.high) are written directly, and the
//! output says so. `--direct` skips the API and says that Docker's record was not changed.
//!
//! Mapping (Docker Engine API, ContainerUpdate / HostConfig resources): cpu.shares and cpu.weight
//! -> CpuShares (Docker converts to cpu.weight itself on v2), cpu.max and the CFS files ->
//! CpuQuota + CpuPeriod (or NanoCpus when the container was made with --cpus), cpuset.* ->
//! CpusetCpus / CpusetMems, memory.limit_in_bytes / memory.max -> Memory,
//! memory.soft_limit_in_bytes -> MemoryReservation, memory.memsw.limit_in_bytes -> MemorySwap
//! (memory + swap, as in v1), memory.swap.max -> MemorySwap = Memory + swap, pids.max ->
//! PidsLimit.

use super::cgroup::{
    self, CgroupError, CgroupWriter, Location, PlannedKey, SetOutcome, TakeBack, Transaction,
    Written,
};
use super::journal::{Action, Change};
use crate::model::containers::cgroup_path::is_id;
use crate::policy::limits::{self, Assignment, Knob, Quota, Value as LimitValue};
use crate::sys::http;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Updates make the daemon call runc, and lowering a memory limit makes the kernel reclaim
/// first: give it well beyond a read.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(30);

/// A Docker container to update through its daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerTarget {
    /// The full container id.
    pub id: String,
    /// The Engine API socket.
    pub sock: PathBuf,
}

/// HostConfig field names the update takes, and the kernel files they end up in.
const FIELDS: &[&str] = &[
    "CpuShares",
    "CpuPeriod",
    "CpuQuota",
    "NanoCpus",
    "CpusetCpus",
    "CpusetMems",
    "Memory",
    "MemorySwap",
    "MemoryReservation",
    "PidsLimit",
];

/// What the API gets, and what it cannot take.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiPlan {
    /// The update body.
    pub new: Map<String, Value>,
    /// The body that puts back what the container had (for rollback and undo).
    pub old: Map<String, Value>,
    /// Requests the API has no field for: written directly.
    pub direct: Vec<Assignment>,
    pub notes: Vec<String>,
}

fn int(hc: &Map<String, Value>, k: &str) -> i64 {
    hc.get(k).and_then(Value::as_i64).unwrap_or(0)
}

/// Map validated assignments to an update body, given the container's HostConfig (from GET
/// /containers/{id}/json). Pure.
pub fn api_plan(
    assignments: &[Assignment],
    host_config: &Map<String, Value>,
) -> Result<ApiPlan, limits::InputError> {
    let mut body = Body {
        hc: host_config,
        memory_asked: assignments
            .iter()
            .find_map(|r| match (r.key.knob, &r.value) {
                (Knob::MemoryLimit, LimitValue::Bytes(b)) => Some(*b),
                _ => None,
            }),
        new: Map::new(),
        direct: Vec::new(),
        notes: Vec::new(),
    };
    for r in assignments {
        body.add(r)?;
    }
    body.keep_swap();
    let old = old_body(&body.new, host_config);
    Ok(ApiPlan {
        new: body.new,
        old,
        direct: body.direct,
        notes: body.notes,
    })
}

/// An update body being built.
struct Body<'a> {
    /// The container's HostConfig.
    hc: &'a Map<String, Value>,
    /// The memory limit asked in the same set, if any (Some(None): no limit).
    memory_asked: Option<Option<u64>>,
    new: Map<String, Value>,
    direct: Vec<Assignment>,
    notes: Vec<String>,
}

fn not_applicable(r: &Assignment, why: &str) -> limits::InputError {
    limits::InputError::NotApplicable {
        key: r.key.name.to_string(),
        why: why.to_string(),
    }
}

impl Body<'_> {
    fn set(&mut self, field: &str, v: Value) {
        self.new.insert(field.into(), v);
    }

    /// Written to the cgroup directly, with why.
    fn direct(&mut self, r: &Assignment, note: String) {
        self.direct.push(r.clone());
        self.notes.push(note);
    }

    fn add(&mut self, r: &Assignment) -> Result<(), limits::InputError> {
        limits::check_docker(r)?;
        match (&r.value, r.key.knob) {
            (LimitValue::Shares(s), _) => self.set("CpuShares", json!(s)),
            (LimitValue::Weight(w), _) => {
                let s = limits::weight_to_shares(*w);
                self.set("CpuShares", json!(s));
                self.notes.push(format!(
                    "cpu.weight {w} sent to Docker as CpuShares {s} (runc/crun curve; Docker \
                     converts back on cgroup v2)"
                ));
            }
            (LimitValue::Bandwidth { quota, period }, _) => self.bandwidth(r, *quota, *period)?,
            (LimitValue::List(l), Knob::CpusetCpus) => {
                self.set("CpusetCpus", json!(limits::format_list(l)))
            }
            (LimitValue::List(l), _) => self.set("CpusetMems", json!(limits::format_list(l))),
            (LimitValue::Count(n), _) => self.set("PidsLimit", json!(n.map_or(-1, |n| n as i64))),
            (LimitValue::Bytes(Some(b)), Knob::MemoryLimit) => self.set("Memory", json!(b)),
            // The API cannot lift a memory limit (it takes 0 as "unchanged" and refuses values
            // below 6 MB).
            (LimitValue::Bytes(None), Knob::MemoryLimit) => self.direct(
                r,
                format!(
                    "{}=max written to the cgroup directly: Docker's update cannot remove a \
                     memory limit, so its record keeps the old one",
                    r.key.name
                ),
            ),
            (LimitValue::Bytes(b), Knob::MemorySoftLimit) => {
                self.set("MemoryReservation", json!(b.map_or(0, |b| b as i64)))
            }
            (LimitValue::Bytes(b), Knob::Swap) => {
                let v = self.swap(r, *b)?;
                self.set("MemorySwap", json!(v));
            }
            (LimitValue::Bytes(_), _) => self.direct(
                r,
                format!(
                    "{} has no field in Docker's update: written to the cgroup directly (Docker's \
                     record does not have it)",
                    r.key.name
                ),
            ),
        }
        Ok(())
    }

    /// CPU quota and period: CpuQuota / CpuPeriod, or NanoCpus for a container made with --cpus.
    fn bandwidth(
        &mut self,
        r: &Assignment,
        quota: Quota,
        period: Option<u64>,
    ) -> Result<(), limits::InputError> {
        let cur_period = match int(self.hc, "CpuPeriod") {
            0 => limits::PERIOD_DEFAULT as i64,
            p => p,
        };
        let p = period.map_or(cur_period, |p| p as i64);
        let nano = int(self.hc, "NanoCpus");
        match quota {
            // Docker refuses CpuQuota on a container made with --cpus: keep its form.
            Quota::Cpus(c) if nano > 0 && period.is_none() => {
                self.set("NanoCpus", json!((c * 1e9).round() as i64))
            }
            _ if nano > 0 => {
                return Err(not_applicable(
                    r,
                    "this container was made with --cpus (NanoCpus): give CPUs (e.g. \
                     cpu.max=1.5), or use --direct",
                ));
            }
            // The period only when asked: once set, Docker refuses --cpus for good.
            Quota::Keep => {}
            Quota::Max => self.set("CpuQuota", json!(-1)),
            Quota::Micros(q) => self.set("CpuQuota", json!(q)),
            Quota::Cpus(c) => self.set("CpuQuota", json!((c * p as f64).round() as i64)),
        }
        if period.is_some() {
            self.set("CpuPeriod", json!(p));
        }
        Ok(())
    }

    /// MemorySwap is memory + swap: v1's memsw as it is, v2's swap alone added to the memory.
    fn swap(&mut self, r: &Assignment, b: Option<u64>) -> Result<i64, limits::InputError> {
        let swap = match (b, r.key.name) {
            (None, _) => return Ok(-1),
            (Some(b), "memory.memsw.limit_in_bytes") => return Ok(b as i64),
            (Some(swap), _) => swap,
        };
        let memory = match self.memory_asked {
            Some(Some(m)) => m as i64,
            _ => int(self.hc, "Memory"),
        };
        if memory <= 0 {
            return Err(not_applicable(
                r,
                "Docker's MemorySwap is memory + swap, and this container has no memory limit to \
                 add the swap to: set memory.max too",
            ));
        }
        self.notes.push(
            "memory.swap.max (swap alone) sent to Docker as MemorySwap = Memory + swap".into(),
        );
        memory
            .checked_add(swap as i64)
            .ok_or_else(|| not_applicable(r, "memory + swap is larger than the kernel can count"))
    }

    /// A Memory given without a swap key keeps the container's swap amount, as nsview's swap
    /// rule says (see `policy::limits`, memory_limit_v1): MemorySwap = Memory + the swap it had.
    /// Docker alone would leave MemorySwap as it is (the swap shrinks) and refuses a Memory above
    /// it; with no memory + swap limit in place (0 or -1) it still wants MemorySwap along, and
    /// -1 keeps swap unlimited, as it was.
    fn keep_swap(&mut self) {
        let Some(m) = self.new.get("Memory").and_then(Value::as_i64) else {
            return;
        };
        if self.new.contains_key("MemorySwap") {
            return;
        }
        let (old_mem, old_swap) = (int(self.hc, "Memory"), int(self.hc, "MemorySwap"));
        if old_swap <= 0 {
            self.set("MemorySwap", json!(-1));
            self.notes
                .push("MemorySwap -1 sent along (swap stays unlimited, as it was)".into());
            return;
        }
        let (follows, swap) = if old_mem > 0 {
            let swap = (old_swap - old_mem).max(0);
            (m.saturating_add(swap), swap)
        } else {
            (old_swap.max(m), 0)
        };
        if follows != old_swap {
            self.set("MemorySwap", json!(follows));
            self.notes.push(format!(
                "MemorySwap {} sent along to keep the container's {} of swap (docker update \
                 --memory alone would keep MemorySwap, shrinking the swap)",
                limits::human_size(follows as u64),
                limits::human_size(swap as u64)
            ));
        }
    }
}

/// The HostConfig values of the fields in `new`, as an update body that restores them. Values
/// Docker reads as "unchanged" in an update (0) are written as "unlimited" (-1) where that is
/// what 0 meant.
fn old_body(new: &Map<String, Value>, hc: &Map<String, Value>) -> Map<String, Value> {
    let mut old = Map::new();
    for k in new.keys() {
        let v = hc.get(k).cloned().unwrap_or(Value::Null);
        let v = match (k.as_str(), v.as_i64()) {
            ("PidsLimit" | "MemorySwap" | "CpuQuota", Some(0)) | ("PidsLimit", None) => json!(-1),
            _ if v.is_null() => json!(0),
            _ => v,
        };
        old.insert(k.clone(), v);
    }
    old
}

/// GET /containers/{id}/json's HostConfig.
fn host_config(d: &DockerTarget) -> Result<Map<String, Value>, CgroupError> {
    let (code, body) = http::request_unix(
        &d.sock,
        "GET",
        &container_path(d, "json")?,
        None,
        UPDATE_TIMEOUT,
    )
    .map_err(|e| unreachable_daemon(&d.sock, &e.to_string()))?;
    if code != 200 {
        return Err(refused(code, &body));
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| CgroupError::Unsupported {
        what: format!("Docker's answer about {} is not JSON: {e}", short(&d.id)),
    })?;
    let hc = v.get("HostConfig").and_then(Value::as_object).cloned();
    Ok(hc
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| FIELDS.contains(&k.as_str()))
        .collect())
}

/// POST /containers/{id}/update with `body`.
fn update(d: &DockerTarget, body: &Map<String, Value>) -> Result<Vec<String>, CgroupError> {
    let bytes = serde_json::to_vec(body).map_err(|e| CgroupError::Unsupported {
        what: e.to_string(),
    })?;
    let (code, answer) = http::request_unix(
        &d.sock,
        "POST",
        &container_path(d, "update")?,
        Some(&bytes),
        UPDATE_TIMEOUT,
    )
    .map_err(|e| {
        if e.to_string().contains("took too long") || e.to_string().contains("timed out") {
            CgroupError::Unsupported {
                what: format!(
                    "Docker did not answer the update of {} within {} s; it may still complete: \
                     check with nsview show (nothing journaled)",
                    short(&d.id),
                    UPDATE_TIMEOUT.as_secs()
                ),
            }
        } else {
            unreachable_daemon(&d.sock, &e.to_string())
        }
    })?;
    if code == 404 {
        // The container was removed (docker rm): gone, which an undo --force skips.
        return Err(CgroupError::Gone {
            what: format!(
                "Docker has no container {} any more (HTTP 404): it was removed",
                short(&d.id)
            ),
        });
    }
    if code != 200 {
        return Err(refused(code, &answer));
    }
    // Docker answers {"Warnings": [...]} for what it accepted but did not do as asked.
    Ok(serde_json::from_slice::<Value>(&answer)
        .ok()
        .and_then(|v| v.get("Warnings").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .map(|w| format!("Docker: {w}"))
        .collect())
}

/// `/containers/{id}/{what}`, for a container id only (64 hex digits): an id is never a path.
fn container_path(d: &DockerTarget, what: &str) -> Result<String, CgroupError> {
    if !is_id(&d.id) {
        return Err(CgroupError::Unsupported {
            what: format!("{:?} is not a Docker container id (64 hex digits)", d.id),
        });
    }
    Ok(format!("/containers/{}/{what}", d.id))
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn unreachable_daemon(sock: &Path, why: &str) -> CgroupError {
    CgroupError::Unsupported {
        what: format!(
            "cannot reach the Docker daemon at {} ({why}); --direct writes the cgroup files \
             instead (Docker's record then keeps the old values)",
            sock.display()
        ),
    }
}

/// Docker explains a refusal in `{"message": "..."}`.
fn refused(code: u16, body: &[u8]) -> CgroupError {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    CgroupError::Unsupported {
        what: format!("Docker refused the update (HTTP {code}): {message}; nothing changed"),
    }
}

/// On v1, the memory + swap the preview shows (the kernel plan: the file as the swap rule
/// leaves it) is the MemorySwap Docker gets along with a Memory, so that what is written is what
/// was shown even where Docker's record and the kernel disagree (after a `--direct` write).
fn follow_kernel_swap(
    api: &mut ApiPlan,
    assignments: &[Assignment],
    locs: &[Location],
    planned: &[Written],
    hc: &Map<String, Value>,
) {
    const MEMSW: &str = "memory.memsw.limit_in_bytes";
    // Only a Memory sent without a swap key the admin gave.
    let swap_asked = assignments.iter().any(|r| r.key.knob == Knob::Swap);
    if !api.new.contains_key("Memory") || swap_asked {
        return;
    }
    let after = match planned.iter().find(|w| w.write.file == MEMSW) {
        Some(w) => w.write.content.clone(),
        None => match locs
            .iter()
            .filter(|l| l.version == 1)
            .find_map(|l| cgroup::read_control(l, MEMSW).ok())
        {
            Some(now) => now,
            None => return,
        },
    };
    let Ok(n) = after.trim().parse::<i64>() else {
        return;
    };
    let sent = if n < 0 || crate::model::format::is_unlimited(n) {
        -1
    } else {
        n
    };
    if api.new.get("MemorySwap").and_then(Value::as_i64) == Some(sent) {
        return;
    }
    api.new.insert("MemorySwap".into(), json!(sent));
    api.notes.retain(|n| !n.starts_with("MemorySwap"));
    api.notes.push(format!(
        "MemorySwap {sent} sent along: memory + swap as the kernel has it after this set (Docker's \
         record says {}, the kernel differs)",
        int(hc, "MemorySwap")
    ));
    let old = old_body(&api.new, hc);
    if let Some(v) = old.get("MemorySwap") {
        api.old.insert("MemorySwap".into(), v.clone());
    }
}

/// The plan of a Docker set: the update bodies, and the writes through the API and directly.
struct DockerPlan {
    api: ApiPlan,
    through_api: Vec<Written>,
    direct: Vec<Written>,
    notes: Vec<String>,
}

impl CgroupWriter {
    /// The writes of a Docker set, as the kernel files hold them now.
    fn plan_docker(
        &self,
        docker: &DockerTarget,
        locs: &[Location],
        assignments: &[Assignment],
    ) -> Result<DockerPlan, CgroupError> {
        let hc = host_config(docker)?;
        let mut api = api_plan(assignments, &hc)?;
        let through: Vec<Assignment> = assignments
            .iter()
            .filter(|r| !api.direct.contains(r))
            .cloned()
            .collect();
        // What the kernel files hold now, and what they should read after.
        let through_api = self.plan(locs, &through)?;
        let direct = self.plan(locs, &api.direct)?;
        follow_kernel_swap(&mut api, &through, locs, &through_api, &hc);
        let mut notes = vec![format!(
            "applied through the Docker Engine API (container {}), so docker inspect and restarts \
             keep it",
            short(&docker.id)
        )];
        notes.extend(api.notes.iter().cloned());
        Ok(DockerPlan {
            api,
            through_api,
            direct,
            notes,
        })
    }

    /// `set` on a Docker container: the API for what it can take, direct writes for the rest;
    /// old values read from the kernel first, new ones re-read after. One journal entry, with
    /// the update bodies that made and that revert the change.
    pub fn set_docker(
        &self,
        docker: &DockerTarget,
        target: &str,
        locs: &[Location],
        assignments: &[Assignment],
        dry_run: bool,
        expect: Option<&[PlannedKey]>,
    ) -> Result<SetOutcome, CgroupError> {
        // The lock first, so that the values read for the plan are the ones replaced.
        let tx = if dry_run {
            None
        } else {
            Some(self.begin("set")?)
        };
        let plan = self.plan_docker(docker, locs, assignments)?;
        let all: Vec<Written> = plan
            .through_api
            .iter()
            .chain(&plan.direct)
            .cloned()
            .collect();
        let Some(mut tx) = tx else {
            let (unchanged, written) = all.into_iter().partition(Written::is_in_place);
            return Ok(SetOutcome {
                written,
                unchanged,
                dry_run: true,
                entry: None,
                notes: plan.notes,
            });
        };
        cgroup::check_expected(expect, &all)?;
        let api = plan.api.clone();
        let Applied {
            written,
            changes,
            notes,
        } = apply_docker(&mut tx, docker, plan)?;
        tx.record_api(json!({"id": docker.id, "old": api.old, "new": api.new}));
        let entry = tx.commit(Action::Set, target, changes, None)?;
        let (unchanged, written) = written.into_iter().partition(|w| w.old == w.now);
        Ok(SetOutcome {
            written,
            unchanged,
            dry_run: false,
            entry,
            notes,
        })
    }
}

/// What a Docker set did: the files re-read, the changes to journal, the notes.
struct Applied {
    written: Vec<Written>,
    changes: Vec<Change>,
    notes: Vec<String>,
}

/// The update through Docker's API (taken back if the rest fails), then the direct writes; the
/// files re-read, the changes to journal (those made through the API marked so), and the notes.
fn apply_docker(
    tx: &mut Transaction,
    docker: &DockerTarget,
    plan: DockerPlan,
) -> Result<Applied, CgroupError> {
    let mut notes = plan.notes;
    if !plan.api.new.is_empty() {
        notes.extend(update(docker, &plan.api.new)?);
        tx.made(UpdateBack {
            docker: docker.clone(),
            old: plan.api.old.clone(),
            written: plan.through_api.clone(),
        });
    }
    let via_api: Vec<(String, String)> = plan
        .through_api
        .iter()
        .map(|w| (w.location.hierarchy.clone(), w.write.file.clone()))
        .collect();
    let mut written: Vec<Written> = plan
        .through_api
        .into_iter()
        .map(|mut w| {
            w.now = cgroup::read_control(&w.location, &w.write.file).unwrap_or_default();
            w
        })
        .collect();
    let direct_todo = plan
        .direct
        .into_iter()
        .filter(|w| !w.is_in_place())
        .collect();
    written.extend(tx.write_in_order(direct_todo)?);
    let changes: Vec<Change> = written
        .iter()
        .filter(|w| w.old != w.now)
        .map(|w| {
            let mut c = w.change();
            if via_api.contains(&(w.location.hierarchy.clone(), w.write.file.clone())) {
                c.via = Some("docker-api".into());
            }
            c
        })
        .collect();
    Ok(Applied {
        written,
        changes,
        notes,
    })
}

/// Docker's update made: the body that restores the old values is posted, then the kernel files
/// are checked: what Docker cannot put back (it reads 0 and "" as "leave as is") is written
/// directly.
struct UpdateBack {
    docker: DockerTarget,
    old: Map<String, Value>,
    written: Vec<Written>,
}

impl TakeBack for UpdateBack {
    fn take_back(&self) -> Result<(), String> {
        let mut failures = Vec::new();
        if let Err(e) = update(&self.docker, &self.old) {
            failures.push(format!("Docker's update stays: {e}"));
        }
        for w in &self.written {
            let now = cgroup::read_control(&w.location, &w.write.file).unwrap_or_default();
            if !cgroup::same_value(&w.write.file, &w.old, &now)
                && let Err(e) = cgroup::restore_file(&w.location, &w.write.file, &w.old)
            {
                failures.push(format!("{} NOT restored: {e}", w.write.file));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }
}

/// Undo the API part of an entry: post the body that restores the old values. The record comes
/// from the journal: the id must be a container id (64 hex digits) and the body may hold only the
/// HostConfig fields nsview writes, else nothing is posted.
pub fn revert(api: &Value, sock: &Path) -> Result<(), CgroupError> {
    let id = api.get("id").and_then(Value::as_str).unwrap_or_default();
    let old = api
        .get("old")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if old.is_empty() {
        return Ok(());
    }
    check_revert_record(id, &old).map_err(|why| CgroupError::Unsupported {
        what: format!(
            "the journal's Docker record is not one nsview wrote ({why}); nothing posted"
        ),
    })?;
    update(
        &DockerTarget {
            id: id.to_string(),
            sock: sock.to_path_buf(),
        },
        &old,
    )
    .map(|_| ())
}

/// A record of an update nsview made: a container id, and only the fields nsview sends.
fn check_revert_record(id: &str, body: &Map<String, Value>) -> Result<(), String> {
    if !is_id(id) {
        return Err("the container id is not 64 hex digits".into());
    }
    if let Some(k) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("{k:?} is not a field nsview updates"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn plan(args: &[&str], h: Value) -> ApiPlan {
        let reqs = limits::parse_assignments(args).expect("valid");
        api_plan(&reqs, &hc(h)).expect("plan")
    }

    #[test]
    fn keys_map_to_update_fields() {
        // What `docker run --cpu-shares 2048 --memory 128m --cpuset-cpus 0` records.
        let made = json!({"CpuShares": 2048, "Memory": 134217728, "MemorySwap": 268435456,
            "CpusetCpus": "0", "CpuPeriod": 0, "CpuQuota": 0, "NanoCpus": 0, "PidsLimit": null});
        let p = plan(
            &[
                "memory.max=256m",
                "cpu.weight=100",
                "cpu.max=1.5",
                "pids.max=64",
                "cpuset.cpus=0-1",
            ],
            made.clone(),
        );
        assert_eq!(
            Value::Object(p.new.clone()),
            json!({"Memory": 268435456, "MemorySwap": 402653184, "CpuShares": 1024,
                "CpuQuota": 150000, "PidsLimit": 64, "CpusetCpus": "0-1"})
        );
        assert_eq!(
            Value::Object(p.old.clone()),
            json!({"Memory": 134217728, "MemorySwap": 268435456, "CpuShares": 2048,
                "CpuQuota": -1, "PidsLimit": -1, "CpusetCpus": "0"})
        );
        // The swap rule: memory alone keeps the 128M of swap the container had, also when the
        // new memory equals the memory + swap in place (Docker alone would leave no swap).
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("keep the container's 128M of swap"))
        );
        assert!(p.direct.is_empty());
        // Above the memory + swap in place: swap kept.
        let p = plan(&["memory.limit_in_bytes=512m"], made.clone());
        assert_eq!(p.new.get("MemorySwap"), Some(&json!(671088640)));
        // Docker's 6 MB minimum, said before Docker is asked.
        let small = limits::parse_assignments(&["memory.limit_in_bytes=100k"]).expect("valid");
        let e = api_plan(&small, &hc(made.clone())).unwrap_err().to_string();
        assert!(e.contains("at least 6M (6291456 bytes)"), "{e}");
        // memory.high has no field: direct, and said.
        let p = plan(&["memory.high=1g", "memory.swap.max=64m"], made);
        assert_eq!(p.direct.len(), 1);
        assert_eq!(p.new.get("MemorySwap"), Some(&json!(134217728 + 67108864)));
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("memory.high has no field"))
        );
    }

    #[test]
    fn a_journal_record_is_replayed_only_when_nsview_could_have_written_it() {
        let id = "0123456789abcdef".repeat(4);
        let body = hc(json!({"Memory": 1, "CpusetCpus": "0-1"}));
        assert!(check_revert_record(&id, &body).is_ok());
        let bad_ids = [
            "abc".to_string(),
            format!("{}/../../containers/create", &id[..40]),
            format!("{}\r\nX: y", &id[..60]),
            id.to_uppercase(),
        ];
        for bad in &bad_ids {
            assert!(check_revert_record(bad, &body).is_err(), "{bad:?}");
        }
        let privileged = hc(json!({"Memory": 1, "Privileged": true}));
        assert!(check_revert_record(&id, &privileged).is_err());
        let sock = Path::new("/nonexistent/docker.sock");
        let e = revert(&json!({"id": "x/../y", "old": {"Memory": 1}}), sock).unwrap_err();
        assert!(e.to_string().contains("nothing posted"), "{e}");
    }

    #[test]
    fn nano_cpus_containers_take_cpus_only() {
        let h = json!({"NanoCpus": 1500000000i64});
        let p = plan(&["cpu.max=0.5"], h.clone());
        assert_eq!(p.new.get("NanoCpus"), Some(&json!(500000000)));
        let reqs = limits::parse_assignments(&["cpu.cfs_quota_us=50000"]).expect("valid");
        assert!(api_plan(&reqs, &hc(h)).is_err());
    }
}
