//! Snapshots (insta) of the generated text for one tiny network: the top level, the manifest and
//! the plan. A change here is a reviewed change: run `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test --test snapshots`) and read the diff.

mod common;

use bramble::generate::{self, Options};
use bramble::parts;
use bramble::plan;

#[test]
fn tiny_network_top_manifest_plan() {
    let m = common::tiny();
    let part = parts::find("xc7z020").unwrap();
    let (g, p) = plan::choose(&m, part, Some(2)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tiny");
    let opts = Options {
        tb_inputs: None,
        tb_count: 2,
        ..Default::default()
    };
    let bundle = generate::generate(&m, part, &g, &p, &opts).unwrap();
    bundle.write(&dir, false).unwrap();
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
    insta::assert_snapshot!("tiny_top_v", read("rtl/tiny_top.v"));
    insta::assert_snapshot!("tiny_manifest_json", read("manifest.json"));
    insta::assert_snapshot!("tiny_plan_json", read("plan.json"));
    insta::assert_snapshot!("tiny_layers_mem", read("rtl/layers.mem"));
    insta::assert_snapshot!("tiny_pe0_entries_mem", read("rtl/pe0_entries.mem"));
}
