//! Fixed-point conversion at the host boundary, exactly as docs/numerics.md says: quantise with
//! round-half-away-from-zero then saturate; dequantise as `raw / 2^frac`.

/// Quantises `x` to a signed `bits`-bit integer with `frac` fractional bits:
/// `clamp(round_half_away_from_zero(x * 2^frac), -2^(bits-1), 2^(bits-1)-1)`, computed in f64.
/// Infinities saturate. NaN is refused where values enter (the array reader refuses non-finite
/// values in every file it reads); should one reach here anyway it quantises to 0.
pub fn quantize(x: f64, frac: u32, bits: u32) -> i64 {
    assert!(
        (1..=63).contains(&bits),
        "quantize: bits must be 1..=63, got {bits}"
    );
    if x.is_nan() {
        return 0;
    }
    let lo = -(1i64 << (bits - 1));
    let hi = (1i64 << (bits - 1)) - 1;
    // Scaling by a power of two is exact in f64 (short of overflow to infinity, which saturates).
    let scaled = (x * 2f64.powi(frac as i32)).round();
    if scaled <= lo as f64 {
        lo
    } else if scaled >= hi as f64 {
        hi
    } else {
        scaled as i64
    }
}

/// `raw / 2^frac`.
pub fn dequantize(raw: i64, frac: u32) -> f64 {
    raw as f64 / 2f64.powi(frac as i32)
}

/// Sign-extends the low `bits` bits of a register word (output window words are sign-extended by
/// the hardware already; this also tolerates a device that leaves the upper bits undefined).
pub fn sign_extend(word: u32, bits: u32) -> i64 {
    let shift = 64 - bits.clamp(1, 32);
    ((word as u64) << shift) as i64 >> shift
}

/// True when `raw` fits the signed `bits`-bit range.
pub fn fits(raw: i64, bits: u32) -> bool {
    let lo = -(1i64 << (bits - 1));
    let hi = (1i64 << (bits - 1)) - 1;
    (lo..=hi).contains(&raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(quantize(2.5, 0, 16), 3);
        assert_eq!(quantize(-2.5, 0, 16), -3);
        assert_eq!(quantize(0.5, 0, 16), 1);
        assert_eq!(quantize(-0.5, 0, 16), -1);
        assert_eq!(quantize(0.49999999999999994, 0, 16), 0);
        assert_eq!(quantize(1.0 / 1024.0 * 2.5, 10, 16), 3);
        assert_eq!(quantize(0.75, 1, 16), 2);
        assert_eq!(quantize(-0.75, 1, 16), -2);
        assert_eq!(quantize(0.1, 10, 16), 102);
    }

    #[test]
    fn saturates_to_signed_range() {
        assert_eq!(quantize(1e9, 10, 16), 32767);
        assert_eq!(quantize(-1e9, 10, 16), -32768);
        assert_eq!(quantize(127.4, 0, 8), 127);
        assert_eq!(quantize(127.5, 0, 8), 127);
        assert_eq!(quantize(-128.5, 0, 8), -128);
        assert_eq!(quantize(-127.5, 0, 8), -128);
        assert_eq!(quantize(f64::INFINITY, 4, 8), 127);
        assert_eq!(quantize(f64::NEG_INFINITY, 4, 8), -128);
        assert_eq!(quantize(f64::NAN, 4, 8), 0);
        assert_eq!(quantize(-0.0, 4, 8), 0);
        // A huge frac overflows the scaling to infinity: still saturates.
        assert_eq!(quantize(1.0, 2000, 16), 32767);
    }

    #[test]
    fn dequantize_and_sign_extend() {
        assert_eq!(dequantize(512, 9), 1.0);
        assert_eq!(dequantize(-3, 1), -1.5);
        assert_eq!(dequantize(7, 0), 7.0);
        assert_eq!(sign_extend(0xFFFF_FFFF, 32), -1);
        assert_eq!(sign_extend(0x0000_8000, 16), -32768);
        assert_eq!(sign_extend(0x1234_7FFF, 16), 32767);
        assert_eq!(sign_extend(0xFF, 8), -1);
        assert!(fits(127, 8) && fits(-128, 8) && !fits(128, 8) && !fits(-129, 8));
    }

    #[test]
    fn quantize_dequantize_round_trip_on_grid() {
        for raw in -32768i64..=32767 {
            assert_eq!(quantize(dequantize(raw, 10), 10, 16), raw);
        }
    }
}
