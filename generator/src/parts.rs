//! Xilinx parts Bramble knows: block RAM, UltraRAM and DSP counts. Adding a part is one row.

use serde::Serialize;

/// Device family: decides primitive names (E1 vs E2) and Yosys's `-family`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Family {
    #[serde(rename = "7series")]
    Series7,
    #[serde(rename = "ultrascale+")]
    UltraScalePlus,
}

impl Family {
    /// The `synth_xilinx -family` argument.
    pub fn yosys_family(self) -> &'static str {
        match self {
            Family::Series7 => "xc7",
            Family::UltraScalePlus => "xcup",
        }
    }
    pub fn ramb18(self) -> &'static str {
        match self {
            Family::Series7 => "RAMB18E1",
            Family::UltraScalePlus => "RAMB18E2",
        }
    }
    pub fn ramb36(self) -> &'static str {
        match self {
            Family::Series7 => "RAMB36E1",
            Family::UltraScalePlus => "RAMB36E2",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Family::Series7 => "7series",
            Family::UltraScalePlus => "ultrascale+",
        }
    }
}

/// One part's resources.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Part {
    pub name: &'static str,
    pub family: Family,
    /// RAMB36 tiles (each also usable as two RAMB18).
    pub bram36: u32,
    pub uram: u32,
    pub dsp: u32,
    /// A board it is found on, for messages.
    pub board: &'static str,
}

pub const PARTS: &[Part] = &[
    Part {
        name: "xc7z020",
        family: Family::Series7,
        bram36: 140,
        uram: 0,
        dsp: 220,
        board: "PYNQ-Z2",
    },
    Part {
        name: "xc7z045",
        family: Family::Series7,
        bram36: 545,
        uram: 0,
        dsp: 900,
        board: "ZC706",
    },
    Part {
        name: "xczu3eg",
        family: Family::UltraScalePlus,
        bram36: 216,
        uram: 0,
        dsp: 360,
        board: "Ultra96",
    },
    Part {
        name: "xczu9eg",
        family: Family::UltraScalePlus,
        bram36: 912,
        uram: 0,
        dsp: 2520,
        board: "ZCU102",
    },
    Part {
        name: "xcu250",
        family: Family::UltraScalePlus,
        bram36: 2688,
        uram: 1280,
        dsp: 12288,
        board: "Alveo U250",
    },
    Part {
        name: "xcu55c",
        family: Family::UltraScalePlus,
        bram36: 2016,
        uram: 960,
        dsp: 9024,
        board: "Alveo U55C",
    },
];

/// Look a part up by name, case-insensitively, ignoring package and speed grade as Vivado and the
/// `.bit` header spell them (`xc7z020clg400-1`, `xczu9eg-ffvb1156-2-e`). The error lists the
/// known parts.
pub fn find(name: &str) -> Result<&'static Part, String> {
    let lower = name.to_ascii_lowercase();
    let base = lower.split('-').next().unwrap_or("");
    let base = if base.starts_with("xc") {
        base.to_string()
    } else {
        format!("xc{base}")
    };
    // The longest matching name wins (xcu250 vs a hypothetical xcu25).
    let found = PARTS
        .iter()
        .filter(|p| base.starts_with(p.name))
        .max_by_key(|p| p.name.len());
    found.ok_or_else(|| {
        let known: Vec<String> = PARTS
            .iter()
            .map(|p| format!("{} ({})", p.name, p.board))
            .collect();
        format!("unknown part `{name}`; known parts: {}", known.join(", "))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_parts_with_suffixes() {
        assert_eq!(super::find("XC7Z020-clg400-1").unwrap().bram36, 140);
        assert_eq!(super::find("xc7z020clg400-1").unwrap().name, "xc7z020");
        assert_eq!(super::find("7z045ffg900").unwrap().name, "xc7z045");
        assert_eq!(super::find("xczu9eg-ffvb1156-2-e").unwrap().name, "xczu9eg");
        assert!(super::find("xc7a35t").unwrap_err().contains("xczu9eg"));
    }
}
