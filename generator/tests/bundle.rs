//! Bundles are checked, never trusted; outputs never destroy inputs; a model the engine cannot run
//! is refused at `plan`; Ctrl-C leaves nothing behind (issue 8, items 5, 6 and 8). Each test names
//! what it pins; most fail before any simulator runs, so they are cheap.

mod common;

use bramble::synthetic::{self, LayerSpec, Spec};
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Exit code for a bad bundle, manifest or input file (docs/host.md).
const BAD_INPUT: i32 = 7;

/// A tiny description compressed and generated into `DIR/hw` (8 testbench vectors).
fn tiny_bundle() -> tempfile::TempDir {
    let dir = tiny_dir(TINY_YAML);
    bramble_in(dir.path(), &["compress", "net.yaml", "-o", "tiny.model"]).expect_ok("compress");
    bramble_in(
        dir.path(),
        &["generate", "tiny.model", "--part", "xc7z020", "-o", "hw"],
    )
    .expect_ok("generate");
    let x = dir.path().join("x.npy");
    write_npy_rows(&x, &[vec![0.5, -0.25, 1.0]]);
    dir
}

/// `verify`, `sim` and `run --backend sim` all refuse the bundle, exit 7, naming `needle`,
/// before anything is built (the cache directory stays empty).
fn all_refuse(dir: &Path, needles: &[&str]) {
    let runs: [&[&str]; 4] = [
        &["verify", "hw", "--yosys"],
        &["sim", "hw", "--input", "x.npy", "--sim-cache", "cache"],
        &[
            "sim",
            "hw",
            "--input",
            "x.npy",
            "--sim-cache",
            "cache",
            "--json",
        ],
        &[
            "run",
            "hw",
            "--backend",
            "sim",
            "--input",
            "x.npy",
            "--sim-cache",
            "cache",
        ],
    ];
    for args in runs {
        let out = bramble_in(dir, args);
        let ctx = format!("{args:?}: {:?}\n{}\n{}", out.code, out.stdout, out.stderr);
        assert_eq!(out.code, Some(BAD_INPUT), "{ctx}");
        assert!(!out.stderr.contains("panicked"), "{ctx}");
        assert!(out.stdout.is_empty(), "{ctx}");
        for n in needles {
            assert!(out.stderr.contains(n), "stderr lacks {n:?}; {ctx}");
        }
        assert!(!dir.join("cache").exists(), "nothing built; {ctx}");
    }
}

#[test]
fn deleted_memory_image_is_refused_not_simulated_with_zeros() {
    let d = tiny_bundle();
    std::fs::remove_file(d.path().join("hw/rtl/codebook.mem")).unwrap();
    all_refuse(d.path(), &["rtl/codebook.mem", "missing"]);
}

#[test]
fn edited_memory_image_is_refused() {
    let d = tiny_bundle();
    let p = d.path().join("hw/rtl/pe0_bias.mem");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.replace_range(0..1, if text.starts_with('0') { "1" } else { "0" });
    std::fs::write(&p, text).unwrap();
    all_refuse(d.path(), &["rtl/pe0_bias.mem", "modified"]);
}

#[test]
fn extra_file_with_a_shell_injection_name_is_refused_and_never_run() {
    let d = tiny_bundle();
    let evil = "0.v ; exec -- touch PWNED ; .v";
    std::fs::write(d.path().join("hw/rtl").join(evil), "module x; endmodule\n").unwrap();
    all_refuse(d.path(), &["extra file"]);
    assert!(!d.path().join("PWNED").exists());
    assert!(!d.path().join("hw/rtl/PWNED").exists());
}

#[test]
fn manifest_path_leading_out_of_the_bundle_is_refused() {
    let d = tiny_bundle();
    let outside = d.path().join("x.v");
    std::fs::write(&outside, "module outside; endmodule\n").unwrap();
    let p = d.path().join("hw/manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    m["rtl_files"]
        .as_array_mut()
        .unwrap()
        .push("../../x.v".into());
    std::fs::write(&p, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    all_refuse(d.path(), &["rtl_files", "../../x.v"]);
}

#[test]
fn symlink_inside_the_bundle_is_refused() {
    let d = tiny_bundle();
    let top = d.path().join("hw/rtl/bramble_fifo.v");
    std::fs::remove_file(&top).unwrap();
    std::fs::write(d.path().join("real.v"), "").unwrap();
    std::os::unix::fs::symlink(d.path().join("real.v"), &top).unwrap();
    all_refuse(d.path(), &["rtl/bramble_fifo.v", "symbolic link"]);
}

#[test]
fn verify_works_on_a_read_only_bundle_and_writes_nothing_into_it() {
    let d = tiny_bundle();
    let hw = d.path().join("hw");
    let before = dir_names(&hw.join("rtl"));
    let mut perms = vec![];
    for sub in ["hw/rtl", "hw/tb", "hw"] {
        let p = d.path().join(sub);
        let mut m = std::fs::metadata(&p).unwrap().permissions();
        perms.push((p.clone(), m.clone()));
        m.set_readonly(true);
        std::fs::set_permissions(&p, m).unwrap();
    }
    // From another directory, with a relative path to the bundle.
    let sub = d.path().join("elsewhere");
    std::fs::create_dir(&sub).unwrap();
    let out = bramble_in(&sub, &["verify", "../hw", "--no-verilator"]);
    for (p, m) in perms.into_iter().rev() {
        let mut m = m;
        #[allow(clippy::permissions_set_readonly_false)]
        m.set_readonly(false);
        std::fs::set_permissions(&p, m).unwrap();
    }
    let out = out.expect_ok("verify a read-only bundle");
    assert!(
        out.stdout.contains("Icarus testbench: PASS"),
        "{}",
        out.stdout
    );
    assert_eq!(dir_names(&hw.join("rtl")), before);
    assert_eq!(
        dir_names(&hw),
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
    assert_eq!(dir_names(&sub), Vec::<String>::new());
}

#[test]
fn compress_refuses_to_overwrite_its_own_description_or_weights() {
    let d = tiny_dir(TINY_YAML);
    let yaml = std::fs::read(d.path().join("net.yaml")).unwrap();
    let npz = std::fs::read(d.path().join("w.npz")).unwrap();
    for (target, force) in [
        ("net.yaml", false),
        ("net.yaml", true),
        ("./w.npz", true),
        ("../$DIR/w.npz", true),
    ] {
        let name = d.path().file_name().unwrap().to_str().unwrap();
        let target = target.replace("$DIR", name);
        let mut args = vec!["compress", "net.yaml", "-o", &target];
        if force {
            args.push("--force");
        }
        let out = bramble_in(d.path(), &args);
        assert_clean_failure(&out, &target, &["same file as the input"]);
    }
    assert_eq!(std::fs::read(d.path().join("net.yaml")).unwrap(), yaml);
    assert_eq!(std::fs::read(d.path().join("w.npz")).unwrap(), npz);
    // An existing output is replaced only with --force.
    std::fs::write(d.path().join("m.model"), "keep").unwrap();
    let out = bramble_in(d.path(), &["compress", "net.yaml", "-o", "m.model"]);
    assert_clean_failure(&out, "existing output", &["--force"]);
    assert_eq!(
        std::fs::read_to_string(d.path().join("m.model")).unwrap(),
        "keep"
    );
    bramble_in(
        d.path(),
        &["compress", "net.yaml", "-o", "m.model", "--force"],
    )
    .expect_ok("--force");
    assert_eq!(
        dir_names(d.path()),
        ["m.model", "net.yaml", "w.npz"],
        "no temporary left"
    );
}

#[test]
fn sim_trace_onto_the_input_or_into_the_bundle_is_refused() {
    let d = tiny_bundle();
    let x = std::fs::read(d.path().join("x.npy")).unwrap();
    for trace in ["x.npy", "hw/rtl/trace.fst"] {
        let out = bramble_in(
            d.path(),
            &[
                "sim",
                "hw",
                "--input",
                "x.npy",
                "--trace",
                trace,
                "--force",
                "--sim-cache",
                "cache",
            ],
        );
        assert!(!out.ok(), "{trace}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert!(out.stderr.contains("input"), "{trace}: {}", out.stderr);
        assert!(!d.path().join("cache").exists());
    }
    assert_eq!(std::fs::read(d.path().join("x.npy")).unwrap(), x);
}

/// A model file the engine cannot run (built from the library, saved as users' tools would).
fn save_model(dir: &Path, name: &str, spec: Spec) -> String {
    let m = synthetic::model(&spec);
    let file = format!("{name}.model");
    m.save(&dir.join(&file)).unwrap();
    file
}

fn spec(name: &str, input: usize, layers: &[(usize, usize)]) -> Spec {
    Spec {
        name: name.into(),
        input,
        layers: layers
            .iter()
            .map(|&(rows, cols)| LayerSpec {
                rows,
                cols,
                density: 0.5,
                relu: true,
            })
            .collect(),
        act_bits: 16,
        weight_bits: 4,
        codebook_bits: 16,
        empty_every: 0,
        seed: 1,
    }
}

#[test]
fn plan_refuses_what_generate_would_refuse_mixed_act_bits() {
    let d = tiny_dir(&TINY_YAML.replace("activation: relu}", "activation: relu, act_bits: 8}"));
    for args in [
        &["plan", "net.yaml", "--part", "xc7z020"][..],
        &["generate", "net.yaml", "--part", "xc7z020", "-o", "hw"],
        &["inspect", "net.yaml", "--part", "xc7z020"],
    ] {
        let out = bramble_in(d.path(), args);
        assert_clean_failure(&out, &format!("{args:?}"), &["act_bits", "differs"]);
    }
    assert!(!d.path().join("hw").exists());
    // Without a part, inspect reports on the model as before.
    bramble_in(d.path(), &["inspect", "net.yaml"]).expect_ok("inspect without --part");
}

#[test]
fn plan_refuses_an_empty_input() {
    let d = tempfile::tempdir().unwrap();
    let f = save_model(d.path(), "empty", spec("empty", 0, &[(3, 0)]));
    for args in [
        &["plan", &f, "--part", "xc7z020"][..],
        &["generate", &f, "--part", "xc7z020", "-o", "hw"],
    ] {
        let out = bramble_in(d.path(), args);
        assert!(!out.ok(), "{args:?} must fail: {}", out.stdout);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert!(out.stderr.contains("input"), "{}", out.stderr);
    }
    assert!(!d.path().join("hw").exists());
}

#[test]
fn tb_count_is_bounded() {
    let d = tiny_dir(TINY_YAML);
    for n in ["0", "10001", "18446744073709551615"] {
        let out = bramble_in(
            d.path(),
            &[
                "generate",
                "net.yaml",
                "--part",
                "xc7z020",
                "-o",
                "hw",
                "--tb-count",
                n,
            ],
        );
        assert_clean_failure(&out, n, &["--tb-count", "10000"]);
    }
    assert!(!d.path().join("hw").exists());
}

/// `.NAME.tmp-*`, `.NAME.old-*` and cache build directories left in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    dir_names(dir)
        .into_iter()
        .filter(|n| n.contains(".tmp") || n.contains(".old-"))
        .collect()
}

fn interrupt(child: &std::process::Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
}

#[test]
fn ctrl_c_during_generate_leaves_no_temporary_directory() {
    let d = tempfile::tempdir().unwrap();
    let f = save_model(
        d.path(),
        "big",
        spec("big", 1024, &[(1024, 1024), (512, 1024)]),
    );
    // Interrupt at growing delays: whenever it lands, the result is a whole bundle (exit 0) or
    // nothing at all (exit 130), never a temporary directory.
    for delay_ms in [0u64, 20, 60, 150, 400] {
        let _ = std::fs::remove_dir_all(d.path().join("hw"));
        let child = Command::new(env!("CARGO_BIN_EXE_bramble"))
            .args(["generate", &f, "--part", "xcu250", "--pes", "8", "-o", "hw"])
            .current_dir(d.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        interrupt(&child);
        let status = child.wait_with_output().unwrap().status;
        match status.code() {
            Some(0) => assert!(d.path().join("hw/manifest.json").is_file()),
            // 130: our handler cleaned up; no code: the signal came before the handler was
            // installed, when nothing had been written yet.
            Some(130) | None => assert!(!d.path().join("hw").exists()),
            other => panic!("delay {delay_ms} ms: exit {other:?}"),
        }
        assert_eq!(
            temporaries(d.path()),
            Vec::<String>::new(),
            "delay {delay_ms} ms"
        );
    }
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                found.push(cmd);
            }
        }
    }
    found
}

#[test]
fn ctrl_c_during_a_cold_simulation_build_stops_verilator_and_cleans_the_cache() {
    let d = tiny_bundle();
    let cache = d.path().join("cold-cache");
    let child = Command::new(env!("CARGO_BIN_EXE_bramble"))
        .args(["sim", "hw", "--input", "x.npy", "--sim-cache", "cold-cache"])
        .current_dir(d.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the build directory exists and the compiler is running, then interrupt.
    let began = Instant::now();
    loop {
        let building = cache.is_dir() && !temporaries(&cache).is_empty();
        if building && !processes_mentioning(cache.to_str().unwrap()).is_empty() {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "the build never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(temporaries(&cache), Vec::<String>::new());
    // The killed process group takes a moment to be reaped by init.
    let began = Instant::now();
    while !processes_mentioning(cache.to_str().unwrap()).is_empty() {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "orphaned: {:?}",
            processes_mentioning(cache.to_str().unwrap())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `plan` says which entry format it chose and why (text and JSON); `--gap-bits` pins it on plan
/// and generate, and a width outside 3..=8 is a clean error.
#[test]
fn plan_reports_the_entry_format_and_gap_bits_is_checked() {
    let d = tiny_dir(TINY_YAML);
    let out = bramble_in(d.path(), &["plan", "net.yaml", "--part", "xc7z020"]);
    let text = out.expect_ok("plan").stdout;
    for needle in ["entry format:", "gap bits", "<- chosen", "why:", "padding"] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let out = bramble_in(
        d.path(),
        &[
            "plan",
            "net.yaml",
            "--part",
            "xc7z020",
            "--gap-bits",
            "7",
            "--json",
        ],
    );
    let v = out.expect_ok("plan --json").json();
    assert_eq!(v["gap_bits"], 7);
    assert_eq!(v["formats"].as_array().unwrap().len(), 1);
    assert!(v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["gap_bits"] == 7));
    assert!(v["why"].as_str().unwrap().contains("--gap-bits"));
    bramble_in(
        d.path(),
        &[
            "generate",
            "net.yaml",
            "--part",
            "xc7z020",
            "--gap-bits",
            "6",
            "-o",
            "hw",
        ],
    )
    .expect_ok("generate --gap-bits 6");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("hw/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["gap_bits"], 6);
    let defs = std::fs::read_to_string(d.path().join("hw/rtl/bramble_defs.vh")).unwrap();
    assert!(
        defs.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["`define", "BRAMBLE_ENTRY_MAX_GAP", "63"]),
        "{defs}"
    );
    for bad in ["2", "9", "x"] {
        let args = ["plan", "net.yaml", "--part", "xc7z020", "--gap-bits", bad];
        let out = bramble_in(d.path(), &args);
        assert!(!out.ok(), "{bad}");
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert!(out.stderr.contains("--gap-bits"), "{}", out.stderr);
    }
}

/// `--geometry-of` as a user types it, with relative paths: a run-time-weights bundle, then the
/// weights of another network of the same shapes as a weights-only bundle (the image, no RTL).
/// A weights-only bundle is refused as the engine to fit to, and options `--geometry-of` would
/// ignore are refused by the command line; neither leaves an output directory behind.
#[test]
fn geometry_of_from_the_command_line() {
    let dir = tiny_dir(TINY_YAML);
    let d = dir.path();
    let scaled: Vec<T> = tiny_tensors()
        .into_iter()
        .map(|mut t| {
            t.data.iter_mut().for_each(|x| *x *= -0.5);
            t
        })
        .collect();
    write_npz(&d.join("w2.npz"), &scaled, false);
    std::fs::write(
        d.join("net2.yaml"),
        TINY_YAML
            .replace("name: tiny", "name: tiny2")
            .replace("w.npz", "w2.npz"),
    )
    .unwrap();
    let gen = |args: &[&str]| {
        let mut a = vec!["generate"];
        a.extend_from_slice(args);
        bramble_in(d, &a)
    };
    gen(&[
        "net.yaml",
        "--part",
        "xc7z020",
        "--weights",
        "runtime",
        "-o",
        "eng",
    ])
    .expect_ok("run-time-weights bundle");
    gen(&["net2.yaml", "--geometry-of", "eng", "-o", "w2"]).expect_ok("weights-only bundle");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("w2/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["weights"]["weights_only"], true, "{m}");
    assert_eq!(m["name"], "tiny2");
    assert!(d.join("w2/weights/weights.bin").is_file());
    assert!(!d.join("w2/rtl").exists());

    let out = gen(&["net2.yaml", "--geometry-of", "w2", "-o", "w3"]);
    assert_clean_failure(
        &out,
        "weights-only bundle as BUNDLE",
        &["weights-only bundle"],
    );
    assert!(!d.join("w3").exists());

    let out = gen(&[
        "net2.yaml",
        "--geometry-of",
        "eng",
        "--pes",
        "2",
        "-o",
        "w4",
    ]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
    assert!(!d.join("w4").exists());
}

/// The HLS kernel has no weight loader: `--hls --weights runtime` is refused with the reason,
/// and nothing is written.
#[test]
fn hls_with_runtime_weights_is_refused() {
    let dir = tiny_dir(TINY_YAML);
    let d = dir.path();
    let out = bramble_in(
        d,
        &[
            "generate",
            "net.yaml",
            "--part",
            "xczu9eg",
            "--weights",
            "runtime",
            "--hls",
            "-o",
            "b",
        ],
    );
    assert_clean_failure(&out, "--hls --weights runtime", &["no weight loader"]);
    assert!(!d.join("b").exists());
}
