#!/usr/bin/env python3
"""Train the dense 64-128-64-10 digits MLP that docs/benchmarks.md compresses after training
(issue 13: post-training compression, magnitude vs calibrated).

Run from the repository root (a few seconds; numpy and scikit-learn, as for ../train.py):

    python3 examples/digits/dense/train_dense.py

Same data, split, optimiser and seed as ../train.py, but wider and never pruned: 200 epochs of
dense training. Writes next to this script:

    dense.npz      float32 fc1.weight (128,64) fc1.bias fc2.weight (64,128) fc2.bias
                   out.weight (10,64) out.bias -- PyTorch (out, in) layout
    calib256.npy   float32 (256, 64): the first 256 training rows (calibration inputs)

and prints the float test accuracy. The test set is ../test_x.npy / ../test_y.npy.
"""

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

import train  # noqa: E402  (../train.py: data, model, Adam, deterministic npz)

train.SIZES = [64, 128, 64, 10]


def main():
    x_tr, x_te, y_tr, y_te = train.load_data()
    rng = np.random.default_rng(train.SEED)
    params = train.init_params(rng)
    opt = train.Adam(params)
    train.train_epochs(params, opt, None, x_tr, y_tr, train.DENSE_EPOCHS, rng)
    arrays = {}
    for name, (w, b) in zip(train.NAMES, params):
        arrays[f"{name}.weight"] = w.astype(np.float32)
        arrays[f"{name}.bias"] = b.astype(np.float32)
    train.save_npz_deterministic(os.path.join(HERE, "dense.npz"), arrays)
    np.save(os.path.join(HERE, "calib256.npy"), x_tr[:256].astype(np.float32))
    p32 = [[arrays[f"{n}.weight"], arrays[f"{n}.bias"]] for n in train.NAMES]
    acc = train.accuracy(p32, x_te.astype(np.float32), y_te)
    print(f"dense 64-128-64-10 float32 test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
