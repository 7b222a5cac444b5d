//! `compression: calibrated` (docs/compression.md): post-training pruning and weight sharing of
//! one layer against calibration inputs, in the line of Optimal Brain Compression (Frantar and
//! Alistarh 2022), SparseGPT and GPTQ. Four steps on the layer's own inputs X (n x d, what the
//! already-compressed earlier layers really produce) and the float network's outputs Y (n x r):
//!
//! 1. mask by OBS saliency `w_ij^2 / [H^-1]_jj`, `H = Xc^T Xc + lambda I`;
//! 2. per-row regularised least-squares refit of the kept weights (and the bias) to Y;
//! 3. k-means codebook on the refitted weights, then codes assigned column by column with
//!    OBQ/GPTQ error compensation on the columns not yet assigned;
//! 4. bias set so that the mean output error over the calibration set is zero.
//!
//! Dense linear algebra is faer's, always sequential inside one call; the independent rows are
//! spread over threads with rayon, so the result does not depend on the number of threads.

use crate::compress::{kmeans, nearest};
use crate::desc::FloatLayer;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{cholesky_in_place, cholesky_in_place_scratch};
use faer::linalg::matmul::matmul;
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatRef, Par, Side};
use rayon::prelude::*;

/// Damping: `lambda = DAMP * mean(diag(Xc^T Xc))` (GPTQ's 1%).
pub const DAMP: f64 = 0.01;
/// Columns per block of the error-compensated assignment (GPTQ's lazy batch size).
const BLOCK: usize = 128;
/// Rows per task of the row-parallel refit.
const ROW_CHUNK: usize = 64;
/// Rows per task of the assignment: each task streams U once, so fewer, larger tasks.
const ASSIGN_CHUNK: usize = 256;

/// A layer compressed by [`compress_layer`].
pub struct Result {
    /// Row-major codebook indices (0 = pruned).
    pub codes: Vec<u8>,
    /// Sorted non-zero centroids (`2^weight_bits - 1` of them).
    pub centroids: Vec<f64>,
    /// The corrected float bias.
    pub bias: Vec<f64>,
    /// Kept weights whose centroid is exactly 0.0 (stored as pruned).
    pub zeroed: usize,
}

/// Why a layer could not be compressed this way.
#[derive(Debug)]
pub struct Failure(pub String);

/// Compress `layer` against inputs `x` (n x d, row-major, the values the layer will really see)
/// and targets `y` (n x r, row-major, the float network's pre-activation outputs of this layer).
pub fn compress_layer(
    layer: &FloatLayer,
    x: &[f64],
    y: &[f64],
    n: usize,
) -> std::result::Result<Result, Failure> {
    let (r, d) = (layer.rows, layer.cols);
    assert_eq!(
        x.len(),
        n * d,
        "internal error: calibration inputs of the wrong width"
    );
    assert_eq!(
        y.len(),
        n * r,
        "internal error: calibration targets of the wrong width"
    );
    assert!(n > 0, "internal error: no calibration rows");

    // Centre inputs and targets: the bias is an unregularised intercept, so the weights are
    // fitted to the centred problem and the bias to the means.
    let mut xm = vec![0.0; d];
    let mut ym = vec![0.0; r];
    for s in 0..n {
        for j in 0..d {
            xm[j] += x[s * d + j];
        }
        for i in 0..r {
            ym[i] += y[s * r + i];
        }
    }
    xm.iter_mut().for_each(|v| *v /= n as f64);
    ym.iter_mut().for_each(|v| *v /= n as f64);
    // Columns reversed (see `hinv_factor`): xr[:, d-1-j] is input j.
    let xr = Mat::<f64>::from_fn(n, d, |s, k| x[s * d + (d - 1 - k)] - xm[d - 1 - k]);
    let yc = Mat::<f64>::from_fn(n, r, |s, i| y[s * r + i] - ym[i]);

    // H reversed: Hr = P H P with P the reversal, so H[s][t] = Hr[d-1-s][d-1-t].
    let mut hr = Mat::<f64>::zeros(d, d);
    matmul(
        hr.as_mut(),
        Accum::Replace,
        xr.transpose(),
        xr.as_ref(),
        1.0,
        Par::Seq,
    );
    let trace: f64 = (0..d).map(|k| hr[(k, k)]).sum();
    let lambda = if trace > 0.0 {
        DAMP * trace / d as f64
    } else {
        // Every input is constant over the calibration set: only the bias can fit anything.
        1.0
    };
    for k in 0..d {
        hr[(k, k)] += lambda;
    }

    let u = hinv_factor(&hr)?;
    // diag(H^-1)_j = sum over k <= j of U[k][j]^2.
    let hinv_diag: Vec<f64> = (0..d)
        .map(|j| (0..=j).map(|k| u[(k, j)] * u[(k, j)]).sum())
        .collect();

    // 1. Mask: prune the smallest saliencies layer-wide, like `magnitude` prunes the smallest
    //    magnitudes (zeros first, ties by index).
    let w0 = &layer.weights;
    let target = ((layer.prune * w0.len() as f64) - 1e-9).ceil().max(0.0) as usize;
    let mut keep = vec![true; w0.len()];
    {
        let sal: Vec<f64> = (0..w0.len())
            .map(|e| w0[e] * w0[e] / hinv_diag[e % d])
            .collect();
        let zeros = w0.iter().filter(|v| **v == 0.0).count();
        let cut = target.max(zeros);
        if cut > 0 {
            // A total order (ties by index), so the selected set is deterministic.
            let mut idx: Vec<usize> = (0..w0.len()).collect();
            idx.select_nth_unstable_by(cut - 1, |&a, &b| {
                (w0[a] != 0.0)
                    .cmp(&(w0[b] != 0.0))
                    .then(sal[a].total_cmp(&sal[b]))
                    .then(a.cmp(&b))
            });
            for &e in &idx[..cut] {
                keep[e] = false;
            }
        }
    }

    // 2. Refit each row's kept weights: min ||Xc_S w - yc||^2 + lambda ||w||^2.
    let mut w = vec![0.0f64; r * d];
    let failed = std::sync::Mutex::new(None);
    w.par_chunks_mut(d * ROW_CHUNK)
        .enumerate()
        .for_each(|(chunk, rows)| {
            for (k, wrow) in rows.chunks_mut(d).enumerate() {
                let i = chunk * ROW_CHUNK + k;
                let s: Vec<usize> = (0..d).filter(|&j| keep[i * d + j]).collect();
                if let Err(e) = refit_row(&xr, &hr, yc.col(i).as_mat(), lambda, &s, wrow) {
                    *failed.lock().unwrap() = Some(format!("row {i}: {e}"));
                }
            }
        });
    if let Some(e) = failed.into_inner().unwrap() {
        return Err(Failure(format!("least-squares refit failed at {e}")));
    }
    drop(hr);

    // 3. Codebook on the refitted weights, then error-compensated assignment.
    let kept: Vec<f64> = (0..r * d).filter(|&e| keep[e]).map(|e| w[e]).collect();
    let k = (1usize << layer.weight_bits) - 1;
    let centroids = kmeans(&kept, k);
    let mut codes = vec![0u8; r * d];
    let zeroed = std::sync::atomic::AtomicUsize::new(0);
    w.par_chunks_mut(d * ASSIGN_CHUNK)
        .zip(codes.par_chunks_mut(d * ASSIGN_CHUNK))
        .zip(keep.par_chunks(d * ASSIGN_CHUNK))
        .for_each(|((wc, cc), kc)| {
            let z = assign(wc, cc, kc, &u, &centroids);
            zeroed.fetch_add(z, std::sync::atomic::Ordering::Relaxed);
        });

    // 4. Bias: the mean output of the stored weights equals the mean target.
    let bias = (0..r)
        .map(|i| {
            let dot: f64 = (0..d)
                .map(|j| match codes[i * d + j] {
                    0 => 0.0,
                    c => centroids[c as usize - 1] * xm[j],
                })
                .sum();
            ym[i] - dot
        })
        .collect();
    Ok(Result {
        codes,
        centroids,
        bias,
        zeroed: zeroed.into_inner(),
    })
}

/// U, the upper Cholesky factor of `H^-1` (`H^-1 = U^T U`) that the error compensation needs,
/// without forming `H^-1`: with `P H P = L L^T` (lower, P the reversal), `U = P L^-1 P`. One
/// factorisation and one triangular inverse.
fn hinv_factor(hr: &Mat<f64>) -> std::result::Result<Mat<f64>, Failure> {
    let d = hr.nrows();
    let mut l = hr.clone();
    let mut buf = MemBuffer::new(cholesky_in_place_scratch::<f64>(
        d,
        Par::Seq,
        Default::default(),
    ));
    cholesky_in_place(
        l.as_mut(),
        Default::default(),
        Par::Seq,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|e| {
        Failure(format!(
            "H = X^T X + lambda I is not positive definite ({e:?})"
        ))
    })?;
    let mut linv = Mat::<f64>::zeros(d, d);
    faer::linalg::triangular_inverse::invert_lower_triangular(linv.as_mut(), l.as_ref(), Par::Seq);
    drop(l);
    Ok(Mat::from_fn(d, d, |j, k| {
        if j <= k {
            linv[(d - 1 - j, d - 1 - k)]
        } else {
            0.0
        }
    }))
}

/// Refit one row's kept weights `s` into `wrow` (zeros elsewhere). Primal normal equations
/// (|S| x |S|, a submatrix of H) when S is small, the dual (n x n, Woodbury) when it is large;
/// both give the same minimiser.
fn refit_row(
    xr: &Mat<f64>,
    hr: &Mat<f64>,
    yc: MatRef<'_, f64>,
    lambda: f64,
    s: &[usize],
    wrow: &mut [f64],
) -> std::result::Result<(), String> {
    let (n, d) = (xr.nrows(), xr.ncols());
    wrow.iter_mut().for_each(|v| *v = 0.0);
    if s.is_empty() {
        return Ok(());
    }
    let m = s.len();
    let xs = Mat::<f64>::from_fn(n, m, |a, b| xr[(a, d - 1 - s[b])]);
    let sol = if m <= 2 * n {
        let g = Mat::<f64>::from_fn(m, m, |a, b| hr[(d - 1 - s[a], d - 1 - s[b])]);
        let mut rhs = Mat::<f64>::zeros(m, 1);
        matmul(
            rhs.as_mut(),
            Accum::Replace,
            xs.transpose(),
            yc,
            1.0,
            Par::Seq,
        );
        let llt = g.llt(Side::Lower).map_err(|e| format!("{e:?}"))?;
        llt.solve(&rhs)
    } else {
        let mut k = Mat::<f64>::zeros(n, n);
        matmul(
            k.as_mut(),
            Accum::Replace,
            xs.as_ref(),
            xs.transpose(),
            1.0,
            Par::Seq,
        );
        for a in 0..n {
            k[(a, a)] += lambda;
        }
        let llt = k.llt(Side::Lower).map_err(|e| format!("{e:?}"))?;
        let alpha = llt.solve(yc.to_owned());
        let mut w = Mat::<f64>::zeros(m, 1);
        matmul(
            w.as_mut(),
            Accum::Replace,
            xs.transpose(),
            alpha.as_ref(),
            1.0,
            Par::Seq,
        );
        w
    };
    for (b, &j) in s.iter().enumerate() {
        wrow[j] = sol[(b, 0)];
    }
    Ok(())
}

/// Assign codes to a chunk of rows (`w`, row-major, `d` columns) column by column: a kept weight
/// takes its nearest centroid, a pruned one 0, and the error `(w - q) / U[j][j]` is taken off
/// the later columns along row j of U (OBQ). Columns go in blocks of [`BLOCK`]: inside a block
/// the updates are immediate, the rest of the row gets them as one matrix product.
/// Returns how many kept weights fell on a centroid that is exactly 0.0 (stored as pruned).
fn assign(w: &mut [f64], codes: &mut [u8], keep: &[bool], um: &Mat<f64>, c: &[f64]) -> usize {
    let d = um.nrows();
    let rows = w.len() / d;
    let u = |j: usize, k: usize| um[(j, k)];
    let mut zeroed = 0;
    let mut wm = Mat::<f64>::from_fn(rows, d, |i, j| w[i * d + j]);
    let mut b0 = 0;
    while b0 < d {
        let b1 = (b0 + BLOCK).min(d);
        let mut err = Mat::<f64>::zeros(rows, b1 - b0);
        for j in b0..b1 {
            let ujj = u(j, j);
            for i in 0..rows {
                let v = wm[(i, j)];
                let q = if keep[i * d + j] {
                    let a = nearest(c, v);
                    if c[a] == 0.0 {
                        zeroed += 1;
                        0.0
                    } else {
                        codes[i * d + j] = (a + 1) as u8;
                        c[a]
                    }
                } else {
                    0.0
                };
                let e = (v - q) / ujj;
                err[(i, j - b0)] = e;
                wm[(i, j)] = q;
                if e != 0.0 {
                    for k in j + 1..b1 {
                        wm[(i, k)] -= e * u(j, k);
                    }
                }
            }
        }
        if b1 < d {
            matmul(
                wm.as_mut().submatrix_mut(0, b1, rows, d - b1),
                Accum::Add,
                err.as_ref(),
                um.as_ref().submatrix(b0, b1, b1 - b0, d - b1),
                -1.0,
                Par::Seq,
            );
        }
        b0 = b1;
    }
    for i in 0..rows {
        for j in 0..d {
            w[i * d + j] = wm[(i, j)];
        }
    }
    zeroed
}
