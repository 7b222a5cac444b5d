//! EIE's sparse format (docs/sparse-format.md): rows interleaved over N processing elements, each
//! PE's rows in compressed sparse column order with `gap_bits`-wide relative row indices (3..=8,
//! the planner's choice; EIE used 4) and zero padding.

use crate::model::Csc;
pub use bramble_abi::regs::entry::{max_gap, MAX_GAP_BITS, MIN_GAP_BITS};

/// One stored entry: `z` zeros skipped, then a weight with codebook index `code` (0 = padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub z: u8,
    pub code: u8,
}

/// One PE's share of one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeSlice {
    /// Local rows this PE owns (`ceil((rows - k) / N)`).
    pub rows: usize,
    /// Entries, column by column.
    pub entries: Vec<Entry>,
    /// `cols + 1` pointers into `entries`.
    pub ptr: Vec<u32>,
}

/// Local rows owned by PE `k` of `n` for a layer with `rows` outputs.
pub fn pe_rows(rows: usize, n: usize, k: usize) -> usize {
    if rows > k {
        (rows - k).div_ceil(n)
    } else {
        0
    }
}

/// Encode `w` for `n` PEs with row gaps of at most `2^gap_bits - 1`.
pub fn encode(w: &Csc, n: usize, gap_bits: u32) -> Vec<PeSlice> {
    assert!(n >= 1);
    assert!(
        (MIN_GAP_BITS..=MAX_GAP_BITS).contains(&gap_bits),
        "internal error: gap_bits {gap_bits} should have been checked"
    );
    let max = max_gap(gap_bits);
    let mut pes: Vec<PeSlice> = (0..n)
        .map(|k| PeSlice {
            rows: pe_rows(w.rows, n, k),
            entries: Vec::new(),
            ptr: vec![0],
        })
        .collect();
    let mut last = vec![-1i64; n];
    for j in 0..w.cols {
        last.iter_mut().for_each(|l| *l = -1);
        for e in w.col_ptr[j] as usize..w.col_ptr[j + 1] as usize {
            let row = w.row[e] as usize;
            let (k, r) = (row % n, (row / n) as i64);
            let pe = &mut pes[k];
            let mut gap = (r - last[k] - 1) as u32;
            while gap > max {
                pe.entries.push(Entry {
                    z: max as u8,
                    code: 0,
                });
                gap -= max + 1;
            }
            pe.entries.push(Entry {
                z: gap as u8,
                code: w.code[e],
            });
            last[k] = r;
        }
        for pe in &mut pes {
            pe.ptr.push(pe.entries.len() as u32);
        }
    }
    pes
}

/// Entries each of the `n` PEs stores for `w`, for each gap width of `gap_bits` (outer index),
/// without building them: what [`encode`] would give (`entries.len()` per PE), in one pass. A
/// gap of `z` rows costs `z >> gap_bits` padding entries (each skips `2^gap_bits` rows).
pub fn entry_counts(w: &Csc, n: usize, gap_bits: &[u32]) -> Vec<Vec<usize>> {
    assert!(n >= 1);
    let mut counts = vec![vec![0usize; n]; gap_bits.len()];
    let mut last = vec![-1i64; n];
    for j in 0..w.cols {
        last.iter_mut().for_each(|l| *l = -1);
        for e in w.col_ptr[j] as usize..w.col_ptr[j + 1] as usize {
            let row = w.row[e] as usize;
            let (k, r) = (row % n, (row / n) as i64);
            let gap = (r - last[k] - 1) as u64;
            for (c, &b) in counts.iter_mut().zip(gap_bits) {
                c[k] += 1 + (gap >> b) as usize;
            }
            last[k] = r;
        }
    }
    counts
}

/// Decode the PE slices of a `rows x cols` layer back into CSC (padding dropped).
pub fn decode(pes: &[PeSlice], rows: usize, cols: usize) -> Csc {
    let n = pes.len();
    let mut dense = vec![0u8; rows * cols];
    for (k, pe) in pes.iter().enumerate() {
        for j in 0..cols {
            let mut pos = -1i64;
            for e in &pe.entries[pe.ptr[j] as usize..pe.ptr[j + 1] as usize] {
                pos += e.z as i64 + 1;
                if e.code != 0 {
                    let row = pos as usize * n + k;
                    dense[row * cols + j] = e.code;
                }
            }
        }
    }
    Csc::from_dense(rows, cols, &dense)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_gap_gets_padding() {
        // One column, 40 rows, non-zeros at rows 0 and 39, one PE: gap 38 = 16 + 16 + 6.
        let mut codes = vec![0u8; 40];
        codes[0] = 3;
        codes[39] = 5;
        let w = Csc::from_dense(40, 1, &codes);
        let pes = encode(&w, 1, 4);
        assert_eq!(
            pes[0].entries,
            vec![
                Entry { z: 0, code: 3 },
                Entry { z: 15, code: 0 },
                Entry { z: 15, code: 0 },
                Entry { z: 6, code: 5 }
            ]
        );
        assert_eq!(decode(&pes, 40, 1), w);
        // A 5-bit gap holds 31: one padding entry (32 rows) and a gap of 6.
        assert_eq!(
            encode(&w, 1, 5)[0].entries,
            vec![
                Entry { z: 0, code: 3 },
                Entry { z: 31, code: 0 },
                Entry { z: 6, code: 5 }
            ]
        );
        // Three bits: 38 = 8 + 8 + 8 + 8 + 6.
        assert_eq!(encode(&w, 1, 3)[0].entries.len(), 6);
        assert_eq!(encode(&w, 1, 6)[0].entries.len(), 2);
    }

    #[test]
    fn rows_interleave_over_pes() {
        assert_eq!(
            (0..3).map(|k| pe_rows(7, 3, k)).collect::<Vec<_>>(),
            vec![3, 2, 2]
        );
        assert_eq!(pe_rows(2, 4, 3), 0);
    }

    fn matrix() -> impl Strategy<Value = (usize, usize, Vec<u8>, usize)> {
        (
            1usize..70,
            1usize..40,
            0.0f64..1.0,
            1usize..17,
            any::<u64>(),
        )
            .prop_map(|(rows, cols, density, n, seed)| {
                // Empty rows/columns arise at low densities, and every tenth row / third column
                // is forced empty to make sure they occur.
                let mut rng = bramble_abi::rng::Rng::new(seed);
                let mut codes = vec![0u8; rows * cols];
                for i in 0..rows {
                    for j in 0..cols {
                        if rng.unit() < density && i % 10 != 9 && j % 3 != 2 {
                            codes[i * cols + j] = rng.int(1, 15) as u8;
                        }
                    }
                }
                (rows, cols, codes, n)
            })
    }

    proptest! {
        /// Every gap width: the entries decode to the matrix, fit their field (also through
        /// the packed memory word), and [`entry_counts`] predicts how many there are.
        #[test]
        fn decode_inverts_encode((rows, cols, codes, n) in matrix()) {
            let w = Csc::from_dense(rows, cols, &codes);
            let widths: Vec<u32> = (MIN_GAP_BITS..=MAX_GAP_BITS).collect();
            let counts = entry_counts(&w, n, &widths);
            let mut last_total = usize::MAX;
            for (&gap_bits, count) in widths.iter().zip(&counts) {
                let pes = encode(&w, n, gap_bits);
                prop_assert_eq!(pes.len(), n);
                for (k, pe) in pes.iter().enumerate() {
                    prop_assert_eq!(pe.ptr.len(), cols + 1);
                    prop_assert_eq!(pe.rows, pe_rows(rows, n, k));
                    prop_assert_eq!(pe.entries.len(), count[k]);
                    for e in &pe.entries {
                        prop_assert!(e.z as u32 <= max_gap(gap_bits));
                        let word = bramble_abi::regs::entry::pack(e.z.into(), e.code.into(), 4, gap_bits);
                        prop_assert!(word < 1 << (4 + gap_bits));
                        let back = bramble_abi::regs::entry::unpack(word, 4, gap_bits);
                        prop_assert_eq!(back, (e.z as u32, e.code as u32));
                    }
                }
                prop_assert_eq!(decode(&pes, rows, cols), w.clone());
                // A wider gap never stores more entries (the planner relies on it).
                let total: usize = count.iter().sum();
                prop_assert!(total <= last_total);
                last_total = total;
            }
        }
    }
}
