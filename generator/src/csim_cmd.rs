//! `bramble csim DIR --input X.npy [--json]`: the command-line glue over [`bramble::csim`]. Reads
//! and checks the bundle and the inputs exactly as `bramble sim` does, quantises with the
//! contract's function and prints the same results as `bramble infer`.

use anyhow::Result;
use bramble::csim::{self, CsimOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn run(dir: &Path, input: &Path, cache: Option<PathBuf>, json: bool) -> Result<()> {
    let mut out = bramble_host::report::claim_stdout()?;
    let bundle = bramble_host::Bundle::load_checked(dir)?;
    let inputs = bramble_host::report::read_inputs(input, &bundle)?;
    let m = bundle.manifest();
    let opts = CsimOptions {
        cache_dir: cache,
        cxx: None,
    };
    let driver = csim::build(dir, m, &opts)?;
    let (fi, fo) = (m.input, m.output);
    let q: Vec<Vec<i64>> = inputs
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|&x| bramble_abi::numeric::quantize(x, fi.frac_bits, fi.bits))
                .collect()
        })
        .collect();
    let raw = csim::run(&driver, &q)?.raw;
    let outputs: Vec<Vec<f64>> = raw
        .iter()
        .map(|r| {
            r.iter()
                .map(|&v| bramble_abi::numeric::dequantize(v, fo.frac_bits))
                .collect()
        })
        .collect();
    let mut text = String::new();
    if json {
        text = serde_json::json!({"outputs": outputs, "raw": raw}).to_string();
        text.push('\n');
    } else {
        for (i, (o, r)) in outputs.iter().zip(&raw).enumerate() {
            text.push_str(&format!("{i}: outputs {o:?}\n{i}: raw     {r:?}\n"));
        }
    }
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
