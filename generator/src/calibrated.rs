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
//! Nothing of size d x d is formed. With n calibration rows (n << d for wide layers), H is
//! `lambda I` plus a rank-n term, and every quantity needed is computed in the n-dimensional
//! sample space (Woodbury / push-through identities, docs/compression.md): the cost is
//! O(r d n + d n^2) plus the refit, and the memory O((r + n) d).
//!
//! Dense linear algebra is faer's, always sequential inside one call; the independent rows are
//! spread over threads with rayon, so the result does not depend on the number of threads.

use crate::compress::{kmeans, nearest};
use crate::desc::FloatLayer;
use faer::linalg::cholesky::llt::update::rank_r_update_clobber;
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Accum, Col, Mat, MatRef, Par};
use rayon::prelude::*;

/// Damping: `lambda = DAMP * mean(diag(Xc^T Xc))` (GPTQ's 1%).
pub const DAMP: f64 = 0.01;
/// Columns per block of the error-compensated assignment (GPTQ's lazy batch size).
const BLOCK: usize = 64;
/// Rows per task of the row-parallel steps.
const ROW_CHUNK: usize = 64;

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
    // Xc (n x d), column j = input j over the calibration rows, centred.
    let xc = Mat::<f64>::from_fn(n, d, |s, j| x[s * d + j] - xm[j]);
    let yc = Mat::<f64>::from_fn(n, r, |s, i| y[s * r + i] - ym[i]);
    let energy: f64 = (0..d)
        .map(|j| xc.col(j).iter().map(|v| v * v).sum::<f64>())
        .sum();
    let lambda = if energy > 0.0 {
        DAMP * energy / d as f64
    } else {
        // Every input is constant over the calibration set: only the bias can fit anything.
        1.0
    };

    // v_j = K_j^-1 x_j with K_j = lambda I + sum over k > j of x_k x_k^T (n x n): built from the
    // last column backwards by rank-1 updates of K's Cholesky factor. The compensation of
    // step 3 moves the later weights of a row by `e * X_{>j}^T v_j` (see `assign`). At the
    // end the factor is that of K = lambda I + Xc Xc^T, which gives diag(H^-1).
    let mut l = Mat::<f64>::zeros(n, n);
    for a in 0..n {
        l[(a, a)] = lambda.sqrt();
    }
    let mut v = Mat::<f64>::zeros(n, d);
    for j in (0..d).rev() {
        let mut vj = v.as_mut().submatrix_mut(0, j, n, 1);
        vj.copy_from(xc.as_ref().submatrix(0, j, n, 1));
        solve_lower_triangular_in_place(l.as_ref(), vj.as_mut(), Par::Seq);
        solve_upper_triangular_in_place(l.transpose(), vj.as_mut(), Par::Seq);
        // Both the vector and the weight are overwritten by the update.
        let mut w = xc.as_ref().submatrix(0, j, n, 1).to_owned();
        let mut one = Col::<f64>::from_fn(1, |_| 1.0);
        rank_r_update_clobber(l.as_mut(), w.as_mut(), one.as_diagonal_mut())
            .map_err(|e| Failure(format!("lambda I + X^T X is not positive definite ({e:?})")))?;
    }
    // diag(H^-1)_j = (1 - x_j^T K^-1 x_j) / lambda (Woodbury), K^-1 via z = L^-1 x_j.
    let hinv_diag: Vec<f64> = {
        let mut z = xc.clone();
        solve_lower_triangular_in_place(l.as_ref(), z.as_mut(), Par::Seq);
        (0..d)
            .map(|j| (1.0 - z.col(j).iter().map(|v| v * v).sum::<f64>()) / lambda)
            .collect()
    };

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
                if let Err(e) = refit_row(&xc, yc.col(i).as_mat(), lambda, &s, wrow) {
                    *failed.lock().unwrap() = Some(format!("row {i}: {e}"));
                }
            }
        });
    if let Some(e) = failed.into_inner().unwrap() {
        return Err(Failure(format!("least-squares refit failed at {e}")));
    }

    // 3. Codebook on the refitted weights, then error-compensated assignment.
    let kept: Vec<f64> = (0..r * d).filter(|&e| keep[e]).map(|e| w[e]).collect();
    let k = (1usize << layer.weight_bits) - 1;
    let centroids = kmeans(&kept, k);
    let mut codes = vec![0u8; r * d];
    let zeroed = std::sync::atomic::AtomicUsize::new(0);
    w.par_chunks_mut(d * ROW_CHUNK)
        .zip(codes.par_chunks_mut(d * ROW_CHUNK))
        .zip(keep.par_chunks(d * ROW_CHUNK))
        .for_each(|((wc, cc), kc)| {
            let z = assign(wc, cc, kc, &xc, &v, &centroids);
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

/// Refit one row's kept weights `s` into `wrow` (zeros elsewhere). Primal normal equations
/// (|S| x |S|) when S is smaller than the calibration set, the dual (n x n, push-through
/// identity) when it is larger; both give the same minimiser.
fn refit_row(
    xc: &Mat<f64>,
    yc: MatRef<'_, f64>,
    lambda: f64,
    s: &[usize],
    wrow: &mut [f64],
) -> std::result::Result<(), String> {
    let n = xc.nrows();
    wrow.iter_mut().for_each(|v| *v = 0.0);
    if s.is_empty() {
        return Ok(());
    }
    let m = s.len();
    let xs = Mat::<f64>::from_fn(n, m, |a, b| xc[(a, s[b])]);
    // Only the lower half of the Gram matrix is computed and read.
    let gram = |g: &mut Mat<f64>, lhs: MatRef<'_, f64>, rhs: MatRef<'_, f64>| {
        triangular::matmul(
            g.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            lhs,
            BlockStructure::Rectangular,
            rhs,
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        for a in 0..g.nrows() {
            g[(a, a)] += lambda;
        }
    };
    let solve = |g: &mut Mat<f64>, rhs: &mut Mat<f64>| -> std::result::Result<(), String> {
        let dim = g.nrows();
        let mut buf = faer::dyn_stack::MemBuffer::new(
            faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
                dim,
                Par::Seq,
                Default::default(),
            ),
        );
        faer::linalg::cholesky::llt::factor::cholesky_in_place(
            g.as_mut(),
            Default::default(),
            Par::Seq,
            faer::dyn_stack::MemStack::new(&mut buf),
            Default::default(),
        )
        .map_err(|e| format!("{e:?}"))?;
        solve_lower_triangular_in_place(g.as_ref(), rhs.as_mut(), Par::Seq);
        solve_upper_triangular_in_place(g.transpose(), rhs.as_mut(), Par::Seq);
        Ok(())
    };
    let sol = if m <= n {
        let mut g = Mat::<f64>::zeros(m, m);
        gram(&mut g, xs.transpose(), xs.as_ref());
        let mut rhs = Mat::<f64>::zeros(m, 1);
        matmul(
            rhs.as_mut(),
            Accum::Replace,
            xs.transpose(),
            yc,
            1.0,
            Par::Seq,
        );
        solve(&mut g, &mut rhs)?;
        rhs
    } else {
        let mut k = Mat::<f64>::zeros(n, n);
        gram(&mut k, xs.as_ref(), xs.transpose());
        let mut alpha = yc.to_owned();
        solve(&mut k, &mut alpha)?;
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

/// Assign codes to a chunk of rows (`w`, row-major, `d` columns) column by column: a kept
/// weight takes its nearest centroid, a pruned one 0, and the error `e = w - q` moves the
/// row's later weights by the optimal compensation `H_RR^-1 H_Rj e` (R = the later columns;
/// OBQ). With H = lambda I + Xc^T Xc that is `e * X_R^T v_j` (push-through identity), so a
/// row carries its compensation as an n-vector `a = sum_j e_j v_j`, and its current weight in
/// column k is `w_k + x_k . a`. Columns go in blocks: inside a block the compensation between
/// its columns uses `G = V_B^T X_B`; `a` absorbs a block as one matrix product.
/// Returns how many kept weights fell on a centroid that is exactly 0.0 (stored as pruned).
fn assign(
    w: &mut [f64],
    codes: &mut [u8],
    keep: &[bool],
    xc: &Mat<f64>,
    v: &Mat<f64>,
    c: &[f64],
) -> usize {
    let (n, d) = (xc.nrows(), xc.ncols());
    let rows = w.len() / d;
    let mut zeroed = 0;
    let mut a = Mat::<f64>::zeros(rows, n);
    let mut b0 = 0;
    while b0 < d {
        let b1 = (b0 + BLOCK).min(d);
        let nb = b1 - b0;
        let xb = xc.as_ref().submatrix(0, b0, n, nb);
        let vb = v.as_ref().submatrix(0, b0, n, nb);
        // Current weights of the block: t = w + a X_B.
        let mut t = Mat::<f64>::from_fn(rows, nb, |i, k| w[i * d + b0 + k]);
        matmul(t.as_mut(), Accum::Add, a.as_ref(), xb, 1.0, Par::Seq);
        let mut g = Mat::<f64>::zeros(nb, nb);
        matmul(
            g.as_mut(),
            Accum::Replace,
            vb.transpose(),
            xb,
            1.0,
            Par::Seq,
        );
        let mut e = Mat::<f64>::zeros(rows, nb);
        for k in 0..nb {
            let j = b0 + k;
            for i in 0..rows {
                let val = t[(i, k)];
                let q = if keep[i * d + j] {
                    let ci = nearest(c, val);
                    if c[ci] == 0.0 {
                        zeroed += 1;
                        0.0
                    } else {
                        codes[i * d + j] = (ci + 1) as u8;
                        c[ci]
                    }
                } else {
                    0.0
                };
                w[i * d + j] = q;
                e[(i, k)] = val - q;
            }
            for k2 in k + 1..nb {
                let gk = g[(k, k2)];
                if gk != 0.0 {
                    for i in 0..rows {
                        t[(i, k2)] += e[(i, k)] * gk;
                    }
                }
            }
        }
        // a += E V_B^T
        matmul(
            a.as_mut(),
            Accum::Add,
            e.as_ref(),
            vb.transpose(),
            1.0,
            Par::Seq,
        );
        b0 = b1;
    }
    zeroed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_one_updates_build_the_sample_space_factor() {
        let (n, d) = (3, 5);
        let xc = Mat::<f64>::from_fn(n, d, |a, j| ((a * 7 + j * 3) % 5) as f64 - 2.0);
        let lambda = 0.5f64;
        let mut l = Mat::<f64>::zeros(n, n);
        for a in 0..n {
            l[(a, a)] = lambda.sqrt();
        }
        for j in 0..d {
            // Both the vector and the weight are overwritten by the update.
            let mut w = xc.as_ref().submatrix(0, j, n, 1).to_owned();
            let mut one = Col::<f64>::from_fn(1, |_| 1.0);
            rank_r_update_clobber(l.as_mut(), w.as_mut(), one.as_diagonal_mut()).unwrap();
        }
        for a in 0..n {
            for b in 0..=a {
                let llt: f64 = (0..n).map(|k| l[(a, k)] * l[(b, k)]).sum();
                let want: f64 = (0..d).map(|j| xc[(a, j)] * xc[(b, j)]).sum::<f64>()
                    + if a == b { lambda } else { 0.0 };
                assert!(
                    (llt - want).abs() < 1e-9,
                    "({a},{b}): {llt} vs {want}; l = {l:?}"
                );
            }
        }
    }
}
