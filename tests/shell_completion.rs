//! Shell completion as an admin meets it (issue 16, item 2): bash loads the script
//! `nsview completions bash` prints, and `nsview enter <Tab>` offers what runs now: an isolation
//! group this test started (`comm[pid]`), a Docker container by its name, PIDs by their digits.
//! The completion function is called as bash's programmable completion calls it (COMP_WORDS,
//! COMP_CWORD, then the function with the command, the current word and the previous one).

mod common;

use common::runtimes::docker_run;
use common::*;
use std::path::Path;
use std::process::Command;

/// What bash's completion of `nsview WORDS...` offers, the last word being the one completed.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let bin_dir = Path::new(nsview_bin())
        .parent()
        .expect("nsview's directory");
    let script = run_ok(nsview_bin(), &["completions", "bash"]);
    let cword = words.len();
    let current = words.last().copied().unwrap_or("");
    let previous = words.len().checked_sub(2).map_or("nsview", |i| words[i]);
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let call = format!(
        "{script}\nCOMP_WORDS=(nsview {words}); COMP_CWORD={cword}; \
         COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9\n\
         _clap_complete_nsview nsview '{current}' '{previous}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
    );
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run_with_timeout(
        Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &call])
            .env("PATH", path),
        NSVIEW_TIMEOUT,
    );
    out.assert_success();
    out.stdout.lines().map(str::to_string).collect()
}

#[test]
fn enter_completes_an_isolation_group_by_name() {
    if !require_root_and_tools(
        "enter_completes_an_isolation_group_by_name",
        &["unshare", "bash"],
    ) {
        return;
    }
    let group = NsProcess::spawn(&["--pid", "--uts"], "exec sleep 100000", "sleep");
    let name = format!("sleep[{}]", group.inner);
    let offered = bash_complete(&["enter", ""]);
    assert!(offered.contains(&name), "{name} not in {offered:?}");
    // The prefix narrows it; options are not offered for a word that is not one.
    let offered = bash_complete(&["enter", "sleep["]);
    assert!(offered.contains(&name), "{name} not in {offered:?}");
    assert!(
        offered.iter().all(|o| o.starts_with("sleep[")),
        "{offered:?}"
    );
}

#[test]
fn enter_completes_a_docker_container_by_name() {
    let test = "enter_completes_a_docker_container_by_name";
    if !require_root_and_tools(test, &["bash"]) {
        return;
    }
    let Some(g) = docker_run(test, "complete", &[], &[]) else {
        return;
    };
    let offered = bash_complete(&["enter", ""]);
    assert!(
        offered.contains(&g.c.name),
        "{} not in {offered:?}",
        g.c.name
    );
    let offered = bash_complete(&["show", &g.c.name[..g.c.name.len() - 2]]);
    assert_eq!(offered, vec![g.c.name.clone()]);
}

#[test]
fn targets_complete_to_pids_by_their_digits() {
    if !require_root_and_tools("targets_complete_to_pids_by_their_digits", &["bash"]) {
        return;
    }
    let child = ChildGuard::spawn_sleep();
    let pid = child.pid().to_string();
    let offered = bash_complete(&["show", &pid]);
    assert!(offered.contains(&pid), "{pid} not in {offered:?}");
    assert!(offered.iter().all(|o| o.starts_with(&pid)), "{offered:?}");
    for sub in ["set", "freeze", "thaw", "devices"] {
        assert!(bash_complete(&[sub, &pid]).contains(&pid), "{sub} {pid}");
    }
}

#[test]
fn subcommands_and_options_complete() {
    let offered = bash_complete(&["comp"]);
    assert_eq!(offered, vec!["completions".to_string()]);
    let offered = bash_complete(&["completions", ""]);
    for shell in ["bash", "zsh", "fish"] {
        assert!(
            offered.iter().any(|o| o == shell),
            "{shell} not in {offered:?}"
        );
    }
    let offered = bash_complete(&["enter", "--pri"]);
    assert_eq!(offered, vec!["--privileged".to_string()]);
    // Hidden commands are not offered among the others.
    let offered = bash_complete(&[""]);
    assert!(offered.iter().any(|o| o == "enter"), "{offered:?}");
    assert!(!offered.iter().any(|o| o.starts_with("__")), "{offered:?}");
}

#[test]
fn man_page_renders_with_its_sections() {
    if which("man").is_none() {
        skip(
            "man_page_renders_with_its_sections",
            "needs `man` (Debian man-db)",
        );
        return;
    }
    let page = run_ok(nsview_bin(), &["man"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("nsview.1");
    std::fs::write(&file, page).expect("write page");
    let out = run_with_timeout(
        Command::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100"),
        NSVIEW_TIMEOUT,
    );
    out.assert_success();
    for section in [
        "SYNOPSIS",
        "VIEWS",
        "KEYS",
        "TARGET",
        "EXIT STATUS",
        "FILES",
        "ENVIRONMENT",
    ] {
        assert!(
            out.stdout.lines().any(|l| l.trim_end() == section),
            "no {section} section in:\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("TYPE:[INODE]"), "{}", out.stdout);
    // KEYS comes from the key table: the htop/k9s keys of issue 16 item 7 are in it.
    for key in ["F10", "F5 Ctrl-l", "/ F3 F4", "command line: :containers"] {
        assert!(
            out.stdout.contains(key),
            "KEYS lacks {key:?}:\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains("/var/lib/nsview/journal.jsonl"),
        "{}",
        out.stdout
    );
}
