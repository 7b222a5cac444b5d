//! The README as a new user types it: its quick start and its step-by-step flow, verbatim, in a
//! fresh temporary directory holding only the example (as a fresh clone has it) and the built
//! `bramble`, with relative paths and a cold simulation cache (`BRAMBLE_SIM_CACHE` set to a new
//! relative directory). Regression: relative bundle paths broke `sim` on a cold cache and
//! `verify` wrote its outputs relative to the wrong directory (issue 8, item 1).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The lines of the first ```sh block after the heading `heading` in README.md.
fn readme_block(heading: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no heading {heading:?}"));
    let rest = &text[at..];
    let start = rest.find("```sh\n").expect("a ```sh block") + "```sh\n".len();
    let end = rest[start..].find("```").expect("the block ends");
    rest[start..start + end]
        .lines()
        .map(str::to_string)
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A fresh directory laid out like a clone: `examples/digits` and `target/release/bramble`.
fn fresh_clone() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &repo().join("examples/digits"),
        &tmp.path().join("examples/digits"),
    );
    let bin = tmp.path().join("target/release");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_bramble"), bin.join("bramble")).unwrap();
    tmp
}

fn bash(dir: &Path, script: &str, env: &[(&str, &str)]) -> String {
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .envs(env.iter().copied())
        .env_remove("OUT")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README commands failed ({}):\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout
}

/// Nothing temporary is left next to the outputs.
fn assert_no_temporaries(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !(name.starts_with('.') && (name.contains(".tmp-") || name.contains(".old-"))),
            "left behind: {name}"
        );
    }
}

fn raw(path: &Path) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| {
            panic!("{} is not JSON: {e}", path.display());
        });
    v["raw"].clone()
}

#[test]
fn step_by_step_flow_runs_verbatim_with_relative_paths_and_a_cold_cache() {
    let tmp = fresh_clone();
    // The build line is what produced CARGO_BIN_EXE_bramble; every other line runs as written.
    let lines: Vec<String> = readme_block("## The flow, step by step")
        .into_iter()
        .filter(|l| !l.starts_with("cargo build"))
        .collect();
    assert!(lines.iter().any(|l| l.starts_with("$B sim")), "{lines:?}");
    bash(
        tmp.path(),
        &lines.join("\n"),
        &[("BRAMBLE_SIM_CACHE", "sim-cache")],
    );
    let d = tmp.path();
    assert!(d.join("digits_hw/manifest.json").is_file());
    assert!(
        d.join("sim-cache").is_dir(),
        "the relative cache directory is used"
    );
    let (infer, sim) = (raw(&d.join("infer.json")), raw(&d.join("sim.json")));
    assert_eq!(infer.as_array().map(Vec::len), Some(360));
    assert_eq!(infer, sim, "simulated hardware vs golden model");
    assert_eq!(
        infer,
        raw(&d.join("csim.json")),
        "HLS C simulation vs golden model"
    );
    // `verify` wrote nothing into the bundle (it works in a scratch directory).
    let mut names: Vec<String> = std::fs::read_dir(d.join("digits_hw"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "manifest.json",
            "model.json",
            "plan.json",
            "rtl",
            "tb",
            "vivado",
            "weights"
        ]
    );
    assert!(d.join("digits_pynq/vivado/build.tcl").is_file());
    assert!(d.join("digits_pynq/vivado/digits_top.dtso").is_file());
    assert_no_temporaries(d);
}

#[test]
fn quick_start_runs_verbatim_from_a_fresh_directory() {
    let tmp = fresh_clone();
    let block = readme_block("## Quick start");
    let cmd: Vec<&String> = block
        .iter()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(cmd.len(), 1, "one command: {block:?}");
    let bin = tmp.path().join("target/release/bramble");
    let out = bash(
        tmp.path(),
        cmd[0],
        &[
            ("BRAMBLE_SIM_CACHE", "qs-cache"),
            ("BRAMBLE_BIN", bin.to_str().unwrap()),
        ],
    );
    assert!(
        out.contains("simulated hardware vs golden model: identical raw outputs on 360 inputs"),
        "{out}"
    );
    assert!(tmp.path().join("qs-cache").is_dir());
    assert!(tmp
        .path()
        .join("target/digits/bundle/manifest.json")
        .is_file());
}
