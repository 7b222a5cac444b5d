#!/usr/bin/env python3
"""Train, prune and export Bramble's bundled example network (64-32-16-10 MLP on sklearn digits).

Run from the repository root (takes a few seconds, needs no network access):

    python3 examples/digits/train.py

Tested with Python 3.11.7, numpy 2.4.6, scikit-learn 1.9.1 (`pip install numpy scikit-learn`).
scikit-learn is only used for the bundled dataset (`load_digits`) and `train_test_split`; the
network is trained with plain numpy (float64, single-threaded BLAS) so the pruning masks can be
enforced exactly during fine-tuning.

What it does:
  1. Loads the 1797 8x8 digit images, scales pixels to [0, 1] (divide by 16) and splits them
     1437 train / 360 test with `train_test_split(test_size=360, random_state=0)`.
  2. Trains a dense 64-32-16-10 ReLU MLP (softmax cross-entropy, Adam, seed 0).
  3. Iteratively magnitude-prunes each weight matrix (per layer, smallest |w| first) towards
     80% / 70% / 50% zeros in fc1 / fc2 / out over several stages, fine-tuning with the mask
     held fixed after each stage. Pruned weights are exactly 0.0 and stay 0.0. Biases are not
     pruned.
  4. Writes, next to this script:
       digits.npz   float32 fc1.weight (32,64) fc1.bias (32,) fc2.weight (16,32) fc2.bias (16,)
                    out.weight (10,16) out.bias (10,) -- PyTorch (out, in) layout,
                    np.savez_compressed with the zip timestamps normalised (byte-reproducible)
       calib.npy    float32 (200, 64): the first 200 training rows (for fixed-point calibration)
       test_x.npy   float32 (360, 64): the test rows
       test_y.npy   int64   (360,):    the test labels
  5. Prints the float test accuracy of the dense and of the pruned network and the achieved
     zero fraction per layer.

The output is deterministic: rerunning on the same machine/library versions reproduces the same
bytes (checked with sha256sum). Different numpy/BLAS builds may change the last bits of the weights.
"""

import os

# Single-threaded BLAS: multithreaded reductions may differ in the last bit between runs.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import io  # noqa: E402
import math  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0
SIZES = [64, 32, 16, 10]
NAMES = ["fc1", "fc2", "out"]
TARGETS = [0.80, 0.70, 0.50]  # fraction of zero weights per layer after pruning

DENSE_EPOCHS = 200
PRUNE_STAGES = 5  # gradual schedule towards the targets
STAGE_EPOCHS = 30  # fine-tuning epochs after each pruning stage
FINAL_EPOCHS = 100  # extra fine-tuning at the final sparsity
BATCH = 32
LR = 1e-3
WEIGHT_DECAY = 1e-4


def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float64)
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=360, random_state=0)
    return x_tr, x_te, y_tr, y_te


def init_params(rng):
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        w = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_out, fan_in))  # (out, in)
        b = np.zeros(fan_out)
        params.append([w, b])
    return params


def forward(params, x):
    """Returns the list of activations (input, hidden..., logits)."""
    acts = [x]
    h = x
    for i, (w, b) in enumerate(params):
        z = h @ w.T + b
        h = np.maximum(z, 0.0) if i < len(params) - 1 else z
        acts.append(h)
    return acts


def accuracy(params, x, y):
    return float(np.mean(np.argmax(forward(params, x)[-1], axis=1) == y))


class Adam:
    def __init__(self, params, lr=LR, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m = [[np.zeros_like(p) for p in layer] for layer in params]
        self.v = [[np.zeros_like(p) for p in layer] for layer in params]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        c1 = 1.0 - self.b1 ** self.t
        c2 = 1.0 - self.b2 ** self.t
        for li, layer in enumerate(params):
            for pi, p in enumerate(layer):
                g = grads[li][pi]
                m = self.m[li][pi]
                v = self.v[li][pi]
                m *= self.b1
                m += (1.0 - self.b1) * g
                v *= self.b2
                v += (1.0 - self.b2) * g * g
                p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def train_epochs(params, opt, masks, x, y, epochs, rng):
    n = x.shape[0]
    onehot = np.eye(SIZES[-1])[y]
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            xb, tb = x[idx], onehot[idx]
            acts = forward(params, xb)
            logits = acts[-1]
            logits = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            delta = (p - tb) / xb.shape[0]  # d(mean CE)/d(logits)
            grads = [None] * len(params)
            for li in range(len(params) - 1, -1, -1):
                w, _ = params[li]
                gw = delta.T @ acts[li] + WEIGHT_DECAY * w
                gb = delta.sum(axis=0)
                if li > 0:
                    delta = (delta @ w) * (acts[li] > 0)
                if masks is not None:
                    gw = gw * masks[li]
                grads[li] = [gw, gb]
            opt.step(params, grads)
            if masks is not None:  # keep pruned weights exactly zero
                for li, (w, _) in enumerate(params):
                    w *= masks[li]


def magnitude_mask(w, frac):
    """Mask keeping all but the ceil(frac * size) smallest-|w| entries (stable tie order)."""
    k = int(math.ceil(frac * w.size - 1e-9))
    mask = np.ones(w.size)
    if k > 0:
        order = np.argsort(np.abs(w).ravel(), kind="stable")
        mask[order[:k]] = 0.0
    return mask.reshape(w.shape)


def save_npz_deterministic(path, arrays):
    """np.savez_compressed, then rewrite the zip with fixed member timestamps (byte-reproducible)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    buf.seek(0)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))


def main():
    x_tr, x_te, y_tr, y_te = load_data()
    rng = np.random.default_rng(SEED)
    params = init_params(rng)
    opt = Adam(params)

    train_epochs(params, opt, None, x_tr, y_tr, DENSE_EPOCHS, rng)
    dense_acc = accuracy(params, x_te, y_te)
    print(f"dense  float64 test accuracy: {dense_acc:.4f}  "
          f"({round(dense_acc * len(y_te))}/{len(y_te)}; train {accuracy(params, x_tr, y_tr):.4f})")

    masks = None
    for stage in range(1, PRUNE_STAGES + 1):
        # cubic schedule (Zhu & Gupta 2017): prune fast early, gently near the target
        s = 1.0 - (1.0 - stage / PRUNE_STAGES) ** 3
        fracs = [t * s for t in TARGETS]
        masks = [magnitude_mask(w, f) for (w, _), f in zip(params, fracs)]
        for (w, _), m in zip(params, masks):
            w *= m
        before = accuracy(params, x_te, y_te)
        train_epochs(params, opt, masks, x_tr, y_tr, STAGE_EPOCHS, rng)
        print(f"stage {stage}: zeros {', '.join(f'{f:.3f}' for f in fracs)}  "
              f"test acc after prune {before:.4f}, after fine-tune {accuracy(params, x_te, y_te):.4f}")
    train_epochs(params, opt, masks, x_tr, y_tr, FINAL_EPOCHS, rng)

    arrays = {}
    for name, (w, b) in zip(NAMES, params):
        arrays[f"{name}.weight"] = w.astype(np.float32)
        arrays[f"{name}.bias"] = b.astype(np.float32)
    # check: float32 casting must neither create nor remove zeros
    for name, m in zip(NAMES, masks):
        assert np.array_equal(arrays[f"{name}.weight"] != 0, m != 0), name

    p32 = [[arrays[f"{n}.weight"], arrays[f"{n}.bias"]] for n in NAMES]
    x_te32 = x_te.astype(np.float32)
    pruned_acc = accuracy(p32, x_te32, y_te)
    print(f"pruned float32 test accuracy: {pruned_acc:.4f}  "
          f"({round(pruned_acc * len(y_te))}/{len(y_te)}; train {accuracy(p32, x_tr.astype(np.float32), y_tr):.4f})")
    for name in NAMES:
        w = arrays[f"{name}.weight"]
        z = int(np.sum(w == 0))
        print(f"  {name}.weight {w.shape}: {z}/{w.size} zeros = {z / w.size:.4f}")

    save_npz_deterministic(os.path.join(HERE, "digits.npz"), arrays)
    np.save(os.path.join(HERE, "calib.npy"), x_tr[:200].astype(np.float32))
    np.save(os.path.join(HERE, "test_x.npy"), x_te32)
    np.save(os.path.join(HERE, "test_y.npy"), y_te.astype(np.int64))
    print(f"wrote digits.npz, calib.npy, test_x.npy, test_y.npy to {HERE}")


if __name__ == "__main__":
    main()
