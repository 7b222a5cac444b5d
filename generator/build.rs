//! Embed every hand-written Verilog module of `hw/` (not `hw/sim/`) in the binary, so a bundle
//! always carries exactly the modules the engine instantiates.

use std::io::Write;
use std::path::Path;

fn main() {
    let hw = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hw");
    println!("cargo:rerun-if-changed={}", hw.display());
    let mut files: Vec<String> = std::fs::read_dir(&hw)
        .expect("hw/ beside generator/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".v"))
        .collect();
    files.sort();
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("hw_files.rs");
    let mut f = std::fs::File::create(out).unwrap();
    writeln!(f, "&[").unwrap();
    for name in files {
        let path = hw.join(&name);
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            f,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    writeln!(f, "]").unwrap();
}
