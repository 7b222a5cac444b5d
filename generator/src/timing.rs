//! Register-to-register logic depth in LUT levels, read from a Yosys `synth_xilinx -flatten`
//! netlist written with `write_json`, the worst path in readable names, and the clock that depth
//! suggests for a part family. The counting rule is `../shared/tools/lut_depth.py`'s, tie-breaks
//! included, so the script and this module report the same depth and the same path on the same
//! netlist. docs/timing.md states the rule, the delay assumptions and the limits.

use crate::parts::Family;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

/// Why a netlist could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum NetlistError {
    #[error("not a Yosys JSON netlist: {0}")]
    Json(#[from] serde_json::Error),
    #[error("module `{top}` is not in the netlist (was it synthesised with `-top {top}`?)")]
    NoTop { top: String },
}

/// Cell type prefixes that cut a path: flip-flops, block RAM, UltraRAM, DSP, LUT RAM and SRL.
/// Cells whose type starts with `$` (Yosys internal cells, none after `synth_xilinx`) cut it too.
/// URAM288 reads are synchronous like RAMB's; `../shared/tools/lut_depth.py` predates URAM and
/// does not list it, so the two agree on every design without UltraRAM.
const SEQUENTIAL: [&str; 6] = ["FD", "RAMB", "URAM", "DSP48", "RAM", "SRL"];

/// Outputs of LUT, MUXF and CARRY cells, for a cell without `port_directions`.
const OUTPUTS: [&str; 5] = ["O", "O5", "O6", "CO", "Y"];

/// The worst register-to-register path of a netlist.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LutDepth {
    /// LUT levels on the worst path: LUTs count 1, MUXF7/8, CARRY4/8 and buffers count 0.
    pub levels: usize,
    /// Where the worst path starts: the flip-flop, RAM, DSP or input port that drives its first
    /// cell (None when the netlist has no combinational cell, or only constants feed it).
    pub start: Option<PathCell>,
    /// The combinational cells of the path, from the start to the end.
    pub cells: Vec<PathCell>,
    /// Where it ends: the flip-flop, RAM, DSP or output port its last cell drives.
    pub end: Option<PathCell>,
}

/// One cell on a path.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PathCell {
    /// The cell's name in the netlist.
    pub cell: String,
    /// Its type (`LUT6`, `CARRY4`, `FDRE`, ...), or `input port` / `output port`.
    pub cell_type: String,
    /// A name a designer recognises, see [`Naming`].
    pub name: String,
    pub naming: Naming,
    /// LUT levels from the start of the path up to and including this cell.
    pub level: usize,
}

/// Where [`PathCell::name`] comes from, best first.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// A net the cell drives that Yosys kept visible (`hide_name: 0`), e.g. `u_pe3.acc_sum[12]`.
    Net,
    /// No visible net: the source line the cell was made from, e.g.
    /// `u_engine (bramble_engine.v:276)`.
    Source,
    /// Neither: the cell's own name (LUTs that ABC made from several lines).
    Cell,
}

impl LutDepth {
    /// The path as one line, start to end: named cells with their type, runs of unnamed cells
    /// as their types in brackets, e.g.
    /// `u_pe0.col_q[3] (FDRE) -> [LUT6, LUT2] -> u_pe0 (bramble_pe.v:569) (CARRY4) -> ...`.
    pub fn path_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut run: Vec<&str> = Vec::new();
        let flush = |run: &mut Vec<&str>, parts: &mut Vec<String>| {
            if !run.is_empty() {
                parts.push(format!("[{}]", run.join(", ")));
                run.clear();
            }
        };
        let all = self.start.iter().chain(&self.cells).chain(&self.end);
        for c in all {
            if c.naming == Naming::Cell {
                run.push(&c.cell_type);
            } else {
                flush(&mut run, &mut parts);
                parts.push(format!("{} ({})", c.name, c.cell_type));
            }
        }
        flush(&mut run, &mut parts);
        parts.join(" -> ")
    }
}

/// Depth and worst path of module `top` in a Yosys JSON netlist.
pub fn analyse(json: &[u8], top: &str) -> Result<LutDepth, NetlistError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let modules = Pick {
        key: "modules",
        seed: Pick {
            key: top,
            seed: PhantomData::<Module>,
        },
    };
    let module = modules.deserialize(&mut de)?.flatten();
    de.end()?;
    let module = module.ok_or_else(|| NetlistError::NoTop { top: top.into() })?;
    Ok(module.depth())
}

// ---- The netlist as write_json writes it (only what the analysis reads) ----

#[derive(Deserialize)]
struct Module {
    #[serde(default)]
    ports: Ordered<Port>,
    #[serde(default)]
    cells: Ordered<Cell>,
    #[serde(default)]
    netnames: Ordered<NetName>,
}

#[derive(Deserialize)]
struct Port {
    direction: String,
    bits: Vec<Bit>,
}

#[derive(Deserialize)]
struct Cell {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    port_directions: HashMap<String, String>,
    #[serde(default)]
    connections: Ordered<Vec<Bit>>,
    #[serde(default)]
    attributes: Attributes,
}

#[derive(Deserialize, Default)]
struct Attributes {
    src: Option<String>,
}

#[derive(Deserialize)]
struct NetName {
    #[serde(default)]
    hide_name: u8,
    bits: Vec<Bit>,
    #[serde(default)]
    offset: i64,
    #[serde(default)]
    upto: u8,
}

/// A signal bit: a net number, or a constant (`"0"`, `"1"`, `"x"`, `"z"`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bit {
    Net(u32),
    Const,
}

impl<'de> Deserialize<'de> for Bit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bit, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a net number or a constant bit")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bit, E> {
                u32::try_from(v)
                    .map(Bit::Net)
                    .map_err(|_| E::custom(format!("net number {v} above 2^32")))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Bit, E> {
                Ok(Bit::Const)
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON object as a list in file order: the script iterates Python dicts in file order, and
/// its tie-breaks (the first cell of greatest depth, the first input of greatest depth) follow.
struct Ordered<T>(Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<T>, A::Error> {
                let mut v = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(e) = map.next_entry()? {
                    v.push(e);
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Deserialises one member of an object with `seed` and skips the others unparsed: a netlist
/// holds hundreds of library modules besides the top.
struct Pick<'k, S> {
    key: &'k str,
    seed: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Pick<'_, S> {
    type Value = Option<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Pick<'_, S> {
    type Value = Option<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with member `{}`", self.key)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seed = Some(self.seed);
        let mut found = None;
        while let Some(k) = map.next_key::<std::borrow::Cow<str>>()? {
            match seed.take() {
                Some(s) if k == self.key => found = Some(map.next_value_seed(s)?),
                other => {
                    seed = other;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

// ---- The analysis ----

const NONE: u32 = u32::MAX;

fn cuts(kind: &str) -> bool {
    kind.starts_with('$') || SEQUENTIAL.iter().any(|p| kind.starts_with(p))
}

impl Cell {
    fn is_output(&self, port: &str) -> bool {
        match self.port_directions.get(port) {
            Some(d) => d == "output",
            None => OUTPUTS.contains(&port),
        }
    }

    fn nets(&self, output: bool) -> impl Iterator<Item = u32> + '_ {
        self.connections
            .0
            .iter()
            .filter(move |(p, _)| self.is_output(p) == output)
            .flat_map(|(_, bits)| bits.iter())
            .filter_map(|b| match b {
                Bit::Net(n) => Some(*n),
                Bit::Const => None,
            })
    }
}

/// `v[i]`, growing `v` with `fill` as needed.
fn slot<T: Clone>(v: &mut Vec<T>, i: u32, fill: T) -> &mut T {
    let i = i as usize;
    if v.len() <= i {
        v.resize(i + 1, fill);
    }
    &mut v[i]
}

/// One frame of the depth-first search, in place of one call of the script's recursive `depth`.
struct Frame {
    node: u32,
    next_input: usize,
    best: usize,
    via: u32,
}

impl Module {
    fn depth(&self) -> LutDepth {
        // Combinational cells, numbered in file order.
        let comb: Vec<usize> = (0..self.cells.0.len())
            .filter(|&i| !cuts(&self.cells.0[i].1.kind))
            .collect();
        let cell = |n: u32| &self.cells.0[comb[n as usize]].1;
        let weight: Vec<usize> = (0..comb.len() as u32)
            .map(|n| usize::from(cell(n).kind.starts_with("LUT")))
            .collect();
        let inputs: Vec<Vec<u32>> = (0..comb.len() as u32)
            .map(|n| cell(n).nets(false).collect())
            .collect();
        // The combinational driver of each net; the last one in file order wins, as in the script.
        let mut driver: Vec<u32> = Vec::new();
        for n in 0..comb.len() as u32 {
            for b in cell(n).nets(true) {
                *slot(&mut driver, b, NONE) = n;
            }
        }
        let driver_of = |b: u32| driver.get(b as usize).copied().unwrap_or(NONE);

        // Longest LUT-weighted path ending at each cell, without recursion (100k+ cells). A
        // cell is marked 0 when first entered, so a combinational loop reads 0 there, exactly as
        // the script's memo does.
        let mut memo: Vec<Option<usize>> = vec![None; comb.len()];
        let mut via: Vec<u32> = vec![NONE; comb.len()];
        let mut stack: Vec<Frame> = Vec::new();
        let mut worst: Option<(u32, usize)> = None;
        for root in 0..comb.len() as u32 {
            if memo[root as usize].is_none() {
                memo[root as usize] = Some(0);
                stack.push(Frame {
                    node: root,
                    next_input: 0,
                    best: 0,
                    via: NONE,
                });
            }
            while let Some(f) = stack.last_mut() {
                let ins = &inputs[f.node as usize];
                if f.next_input < ins.len() {
                    let s = driver_of(ins[f.next_input]);
                    f.next_input += 1;
                    if s == NONE || s == f.node {
                        continue;
                    }
                    match memo[s as usize] {
                        Some(v) => {
                            if v > f.best {
                                (f.best, f.via) = (v, s);
                            }
                        }
                        None => {
                            memo[s as usize] = Some(0);
                            stack.push(Frame {
                                node: s,
                                next_input: 0,
                                best: 0,
                                via: NONE,
                            });
                        }
                    }
                } else {
                    let f = stack.pop().expect("frame");
                    let d = f.best + weight[f.node as usize];
                    memo[f.node as usize] = Some(d);
                    via[f.node as usize] = f.via;
                    if let Some(p) = stack.last_mut() {
                        if d > p.best {
                            (p.best, p.via) = (d, f.node);
                        }
                    }
                }
            }
            let d = memo[root as usize].expect("visited");
            if worst.is_none_or(|(_, w)| d > w) {
                worst = Some((root, d));
            }
        }
        let Some((worst, levels)) = worst else {
            return LutDepth::default();
        };

        // The path, end first, as the script walks it (a loop, impossible after synthesis, is
        // walked once).
        let mut trail = vec![worst];
        let mut seen = vec![false; comb.len()];
        seen[worst as usize] = true;
        while let Some(&n) = trail.last() {
            let p = via[n as usize];
            if p == NONE || seen[p as usize] {
                break;
            }
            seen[p as usize] = true;
            trail.push(p);
        }
        trail.reverse();

        let names = Names::new(self, &trail, levels, &comb, &driver, |n| {
            memo[n as usize] == Some(0)
        });
        let cells = trail
            .iter()
            .map(|&n| names.path_cell(comb[n as usize], memo[n as usize].unwrap_or(0)))
            .collect();
        LutDepth {
            levels,
            start: names.start.clone(),
            cells,
            end: names.end.clone(),
        }
    }
}

/// Readable names for the cells of one path, and its start and end points.
struct Names<'m> {
    module: &'m Module,
    /// Net -> (index into netnames, position in its bits), for visible nets of path cells.
    visible: HashMap<u32, (usize, usize)>,
    start: Option<PathCell>,
    end: Option<PathCell>,
}

impl<'m> Names<'m> {
    fn new(
        module: &'m Module,
        trail: &[u32],
        levels: usize,
        comb: &[usize],
        driver: &[u32],
        zero_depth: impl Fn(u32) -> bool,
    ) -> Names<'m> {
        let cells = &module.cells.0;
        let driver_of = |b: u32| driver.get(b as usize).copied().unwrap_or(NONE);
        // Sequential drivers and all readers of each net, for the walks to the end points.
        let mut seq_driver: HashMap<u32, usize> = HashMap::new();
        let mut readers: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, (_, c)) in cells.iter().enumerate() {
            if cuts(&c.kind) {
                for b in c.nets(true) {
                    seq_driver.insert(b, i);
                }
            }
            for b in c.nets(false) {
                readers.entry(b).or_default().push(i);
            }
        }
        let port_bit = |b: u32, dir: &str| {
            module.ports.0.iter().find_map(|(name, p)| {
                (p.direction == dir)
                    .then(|| p.bits.iter().position(|&x| x == Bit::Net(b)))
                    .flatten()
                    .map(|i| (name.as_str(), i, p.bits.len()))
            })
        };

        // Start: breadth first back from the first cell, through cells of depth 0 (buffers,
        // inverters, carry cells fed straight from registers), to a sequential cell or a port.
        enum Point<'a> {
            Cell(usize),
            Port(&'a str, usize, usize),
        }
        let mut start = None;
        if let Some(&first) = trail.first() {
            let mut queue = std::collections::VecDeque::from([comb[first as usize]]);
            let mut seen = std::collections::HashSet::from([comb[first as usize]]);
            'back: while let Some(i) = queue.pop_front() {
                for b in cells[i].1.nets(false) {
                    if let Some(&s) = seq_driver.get(&b) {
                        start = Some(Point::Cell(s));
                        break 'back;
                    }
                    if let Some((name, bit, width)) = port_bit(b, "input") {
                        start = Some(Point::Port(name, bit, width));
                        break 'back;
                    }
                    let d = driver_of(b);
                    if d != NONE && zero_depth(d) && seen.insert(comb[d as usize]) {
                        queue.push_back(comb[d as usize]);
                    }
                }
            }
        }
        // End: breadth first forward from the last cell to a sequential reader or output port.
        let mut end = None;
        if let Some(&last) = trail.last() {
            let mut queue = std::collections::VecDeque::from([comb[last as usize]]);
            let mut seen = std::collections::HashSet::from([comb[last as usize]]);
            'fwd: while let Some(i) = queue.pop_front() {
                for b in cells[i].1.nets(true) {
                    if let Some((name, bit, width)) = port_bit(b, "output") {
                        end = Some(Point::Port(name, bit, width));
                        break 'fwd;
                    }
                    for &r in readers.get(&b).into_iter().flatten() {
                        if cuts(&cells[r].1.kind) {
                            end = Some(Point::Cell(r));
                            break 'fwd;
                        }
                        if seen.insert(r) {
                            queue.push_back(r);
                        }
                    }
                }
            }
        }

        // Visible names for the outputs of every cell named below.
        let mut wanted: Vec<usize> = trail.iter().map(|&n| comb[n as usize]).collect();
        for p in [&start, &end].into_iter().flatten() {
            if let Point::Cell(i) = p {
                wanted.push(*i);
            }
        }
        let mut visible: HashMap<u32, (usize, usize)> = wanted
            .iter()
            .flat_map(|&i| cells[i].1.nets(true))
            .map(|b| (b, (usize::MAX, 0)))
            .collect();
        for (k, (name, net)) in module.netnames.0.iter().enumerate() {
            if net.hide_name != 0 {
                continue;
            }
            for (pos, bit) in net.bits.iter().enumerate() {
                if let Bit::Net(b) = bit {
                    if let Some(e) = visible.get_mut(b) {
                        // The shortest visible name wins (a register's own name rather than
                        // the port names it reaches through the hierarchy); ties go to the first.
                        let better =
                            e.0 == usize::MAX || name.len() < module.netnames.0[e.0].0.len();
                        if better {
                            *e = (k, pos);
                        }
                    }
                }
            }
        }
        visible.retain(|_, e| e.0 != usize::MAX);

        let mut names = Names {
            module,
            visible,
            start: None,
            end: None,
        };
        let point = |names: &Names, p: Point, level: usize, port_type: &str| match p {
            Point::Cell(i) => names.path_cell(i, level),
            Point::Port(name, bit, width) => PathCell {
                cell: name.to_string(),
                cell_type: port_type.into(),
                name: bit_name(name, bit, width, 0, 0),
                naming: Naming::Net,
                level,
            },
        };
        names.start = start.map(|p| point(&names, p, 0, "input port"));
        names.end = end.map(|p| point(&names, p, levels, "output port"));
        names
    }

    fn path_cell(&self, i: usize, level: usize) -> PathCell {
        let (cell, c) = &self.module.cells.0[i];
        let (name, naming) = self.name_of(cell, c);
        PathCell {
            cell: cell.clone(),
            cell_type: c.kind.clone(),
            name,
            naming,
            level,
        }
    }

    fn name_of(&self, cell: &str, c: &Cell) -> (String, Naming) {
        for b in c.nets(true) {
            if let Some(&(k, pos)) = self.visible.get(&b) {
                let (name, net) = &self.module.netnames.0[k];
                return (
                    bit_name(name, pos, net.bits.len(), net.offset, net.upto),
                    Naming::Net,
                );
            }
        }
        if let Some(s) = source_of(cell, c.attributes.src.as_deref()) {
            return (s, Naming::Source);
        }
        (cell.to_string(), Naming::Cell)
    }
}

/// `name[index]` for bit `pos` of a net (`name` alone for a one-bit net).
fn bit_name(name: &str, pos: usize, width: usize, offset: i64, upto: u8) -> String {
    if width == 1 && offset == 0 {
        return name.to_string();
    }
    let index = if upto != 0 {
        offset + (width - 1 - pos) as i64
    } else {
        offset + pos as i64
    };
    format!("{name}[{index}]")
}

/// The design source line a cell was made from, with the instance it is in, e.g.
/// `u_engine (bramble_engine.v:276)`: the innermost `src` entry that is not one of Yosys's own
/// library files (those have a directory; the bundle's files are plain names).
fn source_of(cell: &str, src: Option<&str>) -> Option<String> {
    let entry = src?
        .split('|')
        .rev()
        .find(|e| !e.contains('/') && !e.is_empty())?;
    let (file, pos) = entry.split_once(':')?;
    let line = pos.split('.').next()?;
    let instance = cell
        .strip_prefix("$flatten\\")
        .and_then(|r| r.split(".$").next())
        .map(|r| r.replace('\\', ""));
    Some(match instance {
        Some(inst) => format!("{inst} ({file}:{line})"),
        None => format!("{file}:{line}"),
    })
}

// ---- The clock estimate ----

/// The per-family delay assumption behind [`estimate`]; docs/timing.md says where the numbers
/// come from and how far to trust them.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct DelayModel {
    pub family: Family,
    /// The speed grade the numbers are for (the slowest commercial grade).
    pub speed_grade: &'static str,
    /// One LUT level: the LUT and the net into it (local routing dominates).
    pub ns_per_level: f64,
    /// Once per path: clock-to-out of the start register, the net into the end register, its
    /// setup time, and clock skew and uncertainty.
    pub ns_overhead: f64,
}

/// 7-series -1 (Zynq-7000, Artix-7, Kintex-7) and UltraScale+ -1 (Zynq UltraScale+, Alveo).
pub fn delay_model(family: Family) -> DelayModel {
    match family {
        Family::Series7 => DelayModel {
            family,
            speed_grade: "-1",
            ns_per_level: 0.75,
            ns_overhead: 1.3,
        },
        Family::UltraScalePlus => DelayModel {
            family,
            speed_grade: "-1",
            ns_per_level: 0.5,
            ns_overhead: 0.6,
        },
    }
}

/// The clock a LUT depth suggests, before placement and routing.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct ClockEstimate {
    pub model: DelayModel,
    pub levels: usize,
    /// `ns_overhead + levels * ns_per_level`.
    pub period_ns: f64,
    /// `1000 / period_ns`, rounded to 5 MHz (more digits would claim a precision it lacks).
    pub fmax_mhz: u32,
}

pub fn estimate(family: Family, levels: usize) -> ClockEstimate {
    let model = delay_model(family);
    let period_ns = model.ns_overhead + levels as f64 * model.ns_per_level;
    let fmax_mhz = ((1000.0 / period_ns / 5.0).round() * 5.0) as u32;
    ClockEstimate {
        model,
        levels,
        period_ns,
        fmax_mhz,
    }
}

impl fmt::Display for ClockEstimate {
    /// `estimated Fmax ~ 135 MHz on xc7 -1 (...; an estimate until a Vivado run confirms it)`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let m = &self.model;
        write!(
            f,
            "estimated Fmax ~ {} MHz on {} {} ({:.2} ns/LUT level + {:.2} ns register overhead = \
             {:.2} ns; an estimate from Yosys's netlist until a Vivado run confirms it, see \
             docs/timing.md)",
            self.fmax_mhz,
            m.family.yosys_family(),
            m.speed_grade,
            m.ns_per_level,
            m.ns_overhead,
            self.period_ns
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell as write_json writes it; `conns` are (port, direction, bits as JSON).
    fn cell(name: &str, kind: &str, conns: &[(&str, &str, &str)]) -> String {
        cell_with(name, kind, conns, "")
    }

    fn cell_with(name: &str, kind: &str, conns: &[(&str, &str, &str)], src: &str) -> String {
        let dirs: Vec<String> = conns
            .iter()
            .filter(|c| !c.1.is_empty())
            .map(|(p, d, _)| format!("\"{p}\": \"{d}\""))
            .collect();
        let bits: Vec<String> = conns
            .iter()
            .map(|(p, _, b)| format!("\"{p}\": {b}"))
            .collect();
        let dirs = if dirs.is_empty() {
            String::new()
        } else {
            format!("\"port_directions\": {{ {} }},", dirs.join(", "))
        };
        format!(
            "\"{name}\": {{ \"hide_name\": 1, \"type\": \"{kind}\", \"parameters\": {{ \"INIT\": \"01\" }}, \
             \"attributes\": {{ \"src\": \"{src}\" }}, {dirs} \"connections\": {{ {} }} }}",
            bits.join(", ")
        )
    }

    fn net(name: &str, hidden: bool, bits: &str, extra: &str) -> String {
        format!(
            "\"{name}\": {{ \"hide_name\": {}, \"bits\": {bits}, \"attributes\": {{ }}{extra} }}",
            u8::from(hidden)
        )
    }

    /// A netlist with library modules before and after `top`, as write_json writes them.
    fn netlist(ports: &[(&str, &str, &str)], cells: &[String], nets: &[String]) -> Vec<u8> {
        let ports: Vec<String> = ports
            .iter()
            .map(|(n, d, b)| format!("\"{n}\": {{ \"direction\": \"{d}\", \"bits\": {b} }}"))
            .collect();
        let lib = r#"{ "attributes": { "blackbox": "00000000000000000000000000000001" },
                       "ports": { "O": { "direction": "output", "bits": [ 2 ] } }, "cells": { } }"#;
        format!(
            r#"{{ "creator": "Yosys 0.23", "modules": {{ "LUT1": {lib}, "top": {{
                 "attributes": {{ "top": "00000000000000000000000000000001" }},
                 "ports": {{ {} }}, "cells": {{ {} }}, "netnames": {{ {} }} }}, "MUXF7": {lib} }} }}"#,
            ports.join(", "),
            cells.join(", "),
            nets.join(", ")
        )
        .into_bytes()
    }

    fn lut1(name: &str, i: &str, o: &str) -> String {
        cell(name, "LUT1", &[("I0", "input", i), ("O", "output", o)])
    }

    fn ff(name: &str, d: &str, q: &str) -> String {
        cell(
            name,
            "FDRE",
            &[
                ("C", "input", "[2]"),
                ("CE", "input", "[\"1\"]"),
                ("D", "input", d),
                ("Q", "output", q),
                ("R", "input", "[\"0\"]"),
            ],
        )
    }

    fn cells_of(d: &LutDepth) -> Vec<&str> {
        d.cells.iter().map(|c| c.cell.as_str()).collect()
    }

    #[test]
    fn luts_count_one_carry_and_muxf7_count_zero() {
        let carry_name = "$flatten\\\\u_pe3.\\\\u_mac.$add$bramble_pe.v:353$7.slice[0].carry4";
        let n = netlist(
            &[("clk_i", "input", "[2]")],
            &[
                ff("ff_a", "[10]", "[11]"),
                cell(
                    "lut_1",
                    "LUT2",
                    &[("I0", "input", "[11]"), ("I1", "input", "[\"0\"]"), ("O", "output", "[12]")],
                ),
                cell_with(
                    carry_name,
                    "CARRY4",
                    &[
                        ("CI", "input", "[\"0\"]"),
                        ("CYINIT", "input", "[\"0\"]"),
                        ("DI", "input", "[12, \"0\", \"0\", \"0\"]"),
                        ("S", "input", "[12, \"0\", \"0\", \"0\"]"),
                        ("O", "output", "[13, 14, 15, 16]"),
                        ("CO", "output", "[17, 18, 19, 20]"),
                    ],
                    "top.v:10.1-20.2|bramble_pe.v:353.5-353.20|/usr/share/yosys/xilinx/arith_map.v:1.1-2.2",
                ),
                cell(
                    "lut_2",
                    "LUT3",
                    &[
                        ("I0", "input", "[20]"),
                        ("I1", "input", "[11]"),
                        ("I2", "input", "[11]"),
                        ("O", "output", "[21]"),
                    ],
                ),
                cell(
                    "mux",
                    "MUXF7",
                    &[
                        ("I0", "input", "[21]"),
                        ("I1", "input", "[22]"),
                        ("S", "input", "[11]"),
                        ("O", "output", "[23]"),
                    ],
                ),
                cell(
                    "lut_3",
                    "LUT6",
                    &[("I0", "input", "[11]"), ("I1", "input", "[21]"), ("O", "output", "[22]")],
                ),
                ff("ff_b", "[23]", "[10]"),
            ],
            &[
                net("clk_i", false, "[2]", ""),
                net("u_pe3.u_mac.acc_q", false, "[11]", ""),
                net("u_pe3.acc_q_reaching_a_port_name", false, "[11]", ""),
                net("u_pe3.u_mac.acc_sum", false, "[30, 21, 31]", ", \"offset\": 4"),
                net("$abc$1$hidden", true, "[22]", ""),
                net("u_pe3.acc_q2", false, "[10]", ""),
            ],
        );
        let d = analyse(&n, "top").unwrap();
        assert_eq!(d.levels, 3);
        // The MUXF7 has the same depth as the LUT6 but comes first in the file: it ends the path.
        assert_eq!(
            cells_of(&d),
            [
                "lut_1",
                carry_name.replace("\\\\", "\\").as_str(),
                "lut_2",
                "lut_3",
                "mux"
            ]
        );
        let levels: Vec<usize> = d.cells.iter().map(|c| c.level).collect();
        assert_eq!(levels, [1, 1, 2, 3, 3]);
        let start = d.start.as_ref().unwrap();
        assert_eq!(
            (start.cell.as_str(), start.cell_type.as_str()),
            ("ff_a", "FDRE")
        );
        assert_eq!(
            (start.name.as_str(), start.naming),
            ("u_pe3.u_mac.acc_q", Naming::Net)
        );
        let end = d.end.as_ref().unwrap();
        assert_eq!(
            (end.cell.as_str(), end.name.as_str(), end.level),
            ("ff_b", "u_pe3.acc_q2", 3)
        );
        assert_eq!(d.cells[1].name, "u_pe3.u_mac (bramble_pe.v:353)");
        assert_eq!(d.cells[1].naming, Naming::Source);
        assert_eq!(d.cells[2].name, "u_pe3.u_mac.acc_sum[5]");
        assert_eq!(d.cells[3].naming, Naming::Cell);
        assert_eq!(
            d.path_text(),
            "u_pe3.u_mac.acc_q (FDRE) -> [LUT2] -> u_pe3.u_mac (bramble_pe.v:353) (CARRY4) -> \
             u_pe3.u_mac.acc_sum[5] (LUT3) -> [LUT6, MUXF7] -> u_pe3.acc_q2 (FDRE)"
        );
    }

    #[test]
    fn flip_flop_srl_dsp_lutram_and_block_ram_cut_paths() {
        let n = netlist(
            &[("x_i", "input", "[2]"), ("y_o", "output", "[13]")],
            &[
                lut1("l1", "[2]", "[3]"),
                lut1("l2", "[3]", "[4]"),
                ff("ff", "[4]", "[5]"),
                lut1("l3", "[5]", "[6]"),
                cell(
                    "srl",
                    "SRLC32E",
                    &[
                        ("A", "input", "[5, 5, 5, 5, 5]"),
                        ("D", "input", "[6]"),
                        ("Q", "output", "[7]"),
                    ],
                ),
                lut1("l4", "[7]", "[8]"),
                cell(
                    "dsp",
                    "DSP48E1",
                    &[("A", "input", "[8]"), ("P", "output", "[9]")],
                ),
                lut1("l5", "[9]", "[10]"),
                cell(
                    "lutram",
                    "RAM32M",
                    &[("DIA", "input", "[10]"), ("DOA", "output", "[11]")],
                ),
                cell(
                    "bram",
                    "RAMB18E1",
                    &[("DIADI", "input", "[11]"), ("DOADO", "output", "[12]")],
                ),
                lut1("l6", "[12]", "[13]"),
            ],
            &[net("x_i", false, "[2]", ""), net("u_q", false, "[5]", "")],
        );
        let d = analyse(&n, "top").unwrap();
        assert_eq!(d.levels, 2);
        assert_eq!(cells_of(&d), ["l1", "l2"]);
        let start = d.start.unwrap();
        assert_eq!(
            (start.cell_type.as_str(), start.name.as_str()),
            ("input port", "x_i")
        );
        let end = d.end.unwrap();
        assert_eq!((end.cell.as_str(), end.name.as_str()), ("ff", "u_q"));
    }

    #[test]
    fn ports_start_and_end_paths_and_name_their_bit() {
        let n = netlist(
            &[("x_i", "input", "[2, 3]"), ("y_o", "output", "[\"0\", 5]")],
            &[lut1("a", "[3]", "[4]"), lut1("b", "[4]", "[5]")],
            &[],
        );
        let d = analyse(&n, "top").unwrap();
        assert_eq!(d.levels, 2);
        assert_eq!(d.start.unwrap().name, "x_i[1]");
        let end = d.end.unwrap();
        assert_eq!(
            (end.cell_type.as_str(), end.name.as_str()),
            ("output port", "y_o[1]")
        );
        assert_eq!(
            bit_name("w", 0, 4, 0, 1),
            "w[3]",
            "upto: the first bit is the highest index"
        );
    }

    #[test]
    fn first_cell_and_first_input_of_greatest_depth_win_as_in_the_script() {
        // No port_directions: O is an output by name. a and b are both 1 deep; c reads a first.
        let plain = |name: &str, kind: &str, ins: &[&str], o: &str| {
            let mut conns: Vec<(String, &str, String)> = ins
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("I{i}"), "", b.to_string()))
                .collect();
            conns.push(("O".into(), "", o.into()));
            let conns: Vec<(&str, &str, &str)> = conns
                .iter()
                .map(|(p, d, b)| (p.as_str(), *d, b.as_str()))
                .collect();
            cell(name, kind, &conns)
        };
        let n = netlist(
            &[("x_i", "input", "[2]")],
            &[
                plain("a", "LUT1", &["[2]"], "[3]"),
                plain("b", "LUT1", &["[2]"], "[4]"),
                plain("c", "LUT2", &["[4]", "[3]"], "[5]"),
                plain("d", "LUT2", &["[3]", "[4]"], "[6]"),
            ],
            &[],
        );
        let d = analyse(&n, "top").unwrap();
        assert_eq!(d.levels, 2);
        assert_eq!(cells_of(&d), ["b", "c"]);
    }

    #[test]
    fn a_combinational_loop_is_walked_once_as_in_the_script() {
        let n = netlist(
            &[],
            &[lut1("a", "[3]", "[2]"), lut1("b", "[2]", "[3]")],
            &[],
        );
        // depth(a) enters b, which reads a (marked 0): b = 1, a = 2; b was not beaten by a 0.
        let d = analyse(&n, "top").unwrap();
        assert_eq!(d.levels, 2);
        assert_eq!(cells_of(&d), ["b", "a"]);
    }

    #[test]
    fn a_chain_of_100k_luts_needs_no_deep_stack() {
        let n = 100_000;
        let cells: Vec<String> = (0..n)
            .map(|i| {
                lut1(
                    &format!("l{i}"),
                    &format!("[{}]", i + 2),
                    &format!("[{}]", i + 3),
                )
            })
            .collect();
        let d = analyse(&netlist(&[("x_i", "input", "[2]")], &cells, &[]), "top").unwrap();
        assert_eq!(d.levels, n);
        assert_eq!(d.cells.len(), n);
        assert_eq!(d.cells[0].cell, "l0");
    }

    #[test]
    fn no_combinational_cell_is_depth_zero_and_a_missing_top_is_an_error() {
        let n = netlist(&[], &[ff("ff", "[3]", "[3]")], &[]);
        assert_eq!(analyse(&n, "top").unwrap(), LutDepth::default());
        let e = analyse(&n, "bramble_top").unwrap_err();
        assert!(
            e.to_string()
                .contains("`bramble_top` is not in the netlist"),
            "{e}"
        );
        assert!(matches!(
            analyse(b"{\"modules\": [", "top"),
            Err(NetlistError::Json(_))
        ));
    }

    /// docs/timing.md's table is the model's output.
    #[test]
    fn the_table_in_docs_timing_md_is_the_model() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/timing.md");
        let doc = std::fs::read_to_string(path).unwrap();
        for (family, row) in [
            (Family::Series7, "| 7-series"),
            (Family::UltraScalePlus, "| UltraScale+"),
        ] {
            let line = doc.lines().find(|l| l.starts_with(row)).expect(row);
            let m = delay_model(family);
            let mut want = format!(
                "| {} | {} ns | {} ns |",
                m.speed_grade, m.ns_per_level, m.ns_overhead
            );
            for levels in [4, 5, 6, 8, 10] {
                want.push_str(&format!(" {} MHz |", estimate(family, levels).fmax_mhz));
            }
            assert!(
                line.ends_with(&want),
                "docs/timing.md:\n{line}\nmodel:\n{want}"
            );
        }
    }

    #[test]
    fn clock_estimate_per_family() {
        let e = estimate(Family::Series7, 8);
        assert!((e.period_ns - 7.3).abs() < 1e-9);
        assert_eq!(e.fmax_mhz, 135);
        let text = e.to_string();
        assert!(
            text.starts_with("estimated Fmax ~ 135 MHz on xc7 -1"),
            "{text}"
        );
        assert!(text.contains("until a Vivado run confirms it"), "{text}");
        assert_eq!(estimate(Family::UltraScalePlus, 5).fmax_mhz, 325);
        // Fewer levels, a faster clock, on both families.
        for f in [Family::Series7, Family::UltraScalePlus] {
            assert!(estimate(f, 5).fmax_mhz > estimate(f, 10).fmax_mhz);
        }
    }
}
