//! The AXI4-Stream packing of activation vectors, written once for every producer and consumer:
//! the HLS kernel's streams and its driver and testbench now, the RTL streams and the DMA host
//! paths later (issue 10). docs/hls.md ("Streams") describes the same rule.
//!
//! - TDATA is 32 or 64 bits ([`TDATA_BITS`]).
//! - Each activation occupies one lane of [`Packing::lane_bits`] bits: 8 when `act_bits <= 8`,
//!   else 16. The value is sign-extended to the lane, so a beat is exactly the little-endian bytes
//!   of an `int8`/`int16` array and a host buffer needs no repacking. A consumer reads the low
//!   `act_bits` bits of a lane as a two's complement number.
//! - Little-endian: lane `k` of beat `b` is bits `[k*lane_bits, (k+1)*lane_bits)` and holds
//!   activation `b * lanes + k`.
//! - A vector of `n` activations takes `ceil(n / lanes)` beats; lanes past the end of the vector
//!   in its last beat are zero, and TLAST is set on that beat and on no other.

/// TDATA widths the streams support.
pub const TDATA_BITS: [u32; 2] = [32, 64];
/// The TDATA width used when none is asked for.
pub const DEFAULT_TDATA_BITS: u32 = 32;
/// Activation widths the packing accepts (docs/numerics.md).
pub const ACT_BITS: (u32, u32) = (2, 16);

/// Why a packing or a beat sequence cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("TDATA width {0} bits is not supported; allowed: 32 or 64")]
    TdataBits(u32),
    #[error("act_bits {0} is out of range; allowed {lo}..={hi}", lo = ACT_BITS.0, hi = ACT_BITS.1)]
    ActBits(u32),
    #[error("activation {index} = {value} does not fit {act_bits} signed bits")]
    Range {
        index: usize,
        value: i64,
        act_bits: u32,
    },
    #[error("{got} beats for a vector of {n} activations; the packing needs {want}")]
    Beats { got: usize, want: usize, n: usize },
}

/// How activations of one width are packed into beats of one TDATA width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packing {
    tdata_bits: u32,
    act_bits: u32,
}

impl Packing {
    /// The packing for `tdata_bits` (32 or 64) and `act_bits` (2..=16).
    pub fn new(tdata_bits: u32, act_bits: u32) -> Result<Packing, StreamError> {
        if !TDATA_BITS.contains(&tdata_bits) {
            return Err(StreamError::TdataBits(tdata_bits));
        }
        if !(ACT_BITS.0..=ACT_BITS.1).contains(&act_bits) {
            return Err(StreamError::ActBits(act_bits));
        }
        Ok(Packing {
            tdata_bits,
            act_bits,
        })
    }

    pub fn tdata_bits(&self) -> u32 {
        self.tdata_bits
    }

    pub fn act_bits(&self) -> u32 {
        self.act_bits
    }

    /// Width of one lane: 8 or 16 bits, so lanes are whole bytes.
    pub fn lane_bits(&self) -> u32 {
        if self.act_bits <= 8 {
            8
        } else {
            16
        }
    }

    /// Activations per beat.
    pub fn lanes(&self) -> usize {
        (self.tdata_bits / self.lane_bits()) as usize
    }

    /// Beats for a vector of `n` activations (TLAST on the last of them).
    pub fn beats(&self, n: usize) -> usize {
        n.div_ceil(self.lanes())
    }

    /// The beats of one vector, each in the low `tdata_bits` of a `u64`.
    pub fn pack(&self, values: &[i64]) -> Result<Vec<u64>, StreamError> {
        let (lo, hi) = (
            -(1i64 << (self.act_bits - 1)),
            (1i64 << (self.act_bits - 1)) - 1,
        );
        let lane_mask = (1u64 << self.lane_bits()) - 1;
        let mut beats = vec![0u64; self.beats(values.len())];
        for (i, &v) in values.iter().enumerate() {
            if v < lo || v > hi {
                return Err(StreamError::Range {
                    index: i,
                    value: v,
                    act_bits: self.act_bits,
                });
            }
            let (b, k) = (i / self.lanes(), i % self.lanes());
            beats[b] |= (v as u64 & lane_mask) << (k as u32 * self.lane_bits());
        }
        Ok(beats)
    }

    /// The `n` activations of one vector from its beats: the low `act_bits` bits of each lane,
    /// two's complement. Lanes past the end are ignored.
    pub fn unpack(&self, beats: &[u64], n: usize) -> Result<Vec<i64>, StreamError> {
        if beats.len() != self.beats(n) {
            return Err(StreamError::Beats {
                got: beats.len(),
                want: self.beats(n),
                n,
            });
        }
        let a = self.act_bits;
        Ok((0..n)
            .map(|i| {
                let (b, k) = (i / self.lanes(), i % self.lanes());
                let raw = (beats[b] >> (k as u32 * self.lane_bits())) & ((1u64 << a) - 1);
                let sign = 1u64 << (a - 1);
                (raw ^ sign) as i64 - sign as i64
            })
            .collect())
    }

    /// True when beat `beat` of a vector of `n` activations carries TLAST.
    pub fn is_last(&self, beat: usize, n: usize) -> bool {
        beat + 1 == self.beats(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_and_beats() {
        let p = Packing::new(32, 16).unwrap();
        assert_eq!((p.lane_bits(), p.lanes(), p.beats(5)), (16, 2, 3));
        let p = Packing::new(64, 8).unwrap();
        assert_eq!(
            (p.lane_bits(), p.lanes(), p.beats(16), p.beats(17)),
            (8, 8, 2, 3)
        );
        let p = Packing::new(64, 12).unwrap();
        assert_eq!((p.lane_bits(), p.lanes()), (16, 4));
        assert!(p.is_last(2, 9) && !p.is_last(1, 9));
        assert_eq!(Packing::new(48, 16), Err(StreamError::TdataBits(48)));
        assert_eq!(Packing::new(32, 17), Err(StreamError::ActBits(17)));
    }

    #[test]
    fn little_endian_lanes_sign_extended_unused_zero() {
        let p = Packing::new(32, 16).unwrap();
        assert_eq!(
            p.pack(&[1, -2, 0x1234]).unwrap(),
            vec![0xFFFE_0001, 0x0000_1234]
        );
        let p = Packing::new(64, 5).unwrap();
        // -16 sign-extended to an 8-bit lane is 0xF0.
        assert_eq!(p.pack(&[-16, 15, -1]).unwrap(), vec![0x00FF_0FF0]);
        assert_eq!(
            p.pack(&[16]),
            Err(StreamError::Range {
                index: 0,
                value: 16,
                act_bits: 5
            })
        );
    }

    #[test]
    fn unpack_inverts_pack() {
        for (t, a) in [(32, 2), (32, 8), (32, 9), (64, 16), (64, 3)] {
            let p = Packing::new(t, a).unwrap();
            let lo = -(1i64 << (a - 1));
            let hi = (1i64 << (a - 1)) - 1;
            let v: Vec<i64> = (0..23).map(|i| [lo, hi, 0, -1, 1][i % 5]).collect();
            let beats = p.pack(&v).unwrap();
            assert_eq!(p.unpack(&beats, v.len()).unwrap(), v, "{t} {a}");
            assert!(beats.iter().all(|&b| t == 64 || b >> 32 == 0));
        }
        let p = Packing::new(32, 16).unwrap();
        assert!(matches!(p.unpack(&[0], 3), Err(StreamError::Beats { .. })));
    }
}
