#!/usr/bin/env python3
"""Score Bramble's fixed-point outputs on the digits test set and compare with the float model.

Usage (from the repository root):

    bramble infer examples/digits/digits.yaml --input examples/digits/test_x.npy --json > OUT.json
    python3 examples/digits/eval.py OUT.json [--labels test_y.npy] [--weights digits.npz]
                                             [--test-x test_x.npy]

OUT.json has the form {"outputs": [[f64, ...], ...], "raw": [[i64, ...], ...]}, one row per test
input (dequantised and raw integer outputs). The script prints the accuracy of argmax(outputs)
against the labels and, for reference, the accuracy of the float network in digits.npz computed
with numpy (weights in PyTorch (out, in) layout, ReLU on the hidden layers), plus how often the
two predict the same class. Defaults for --labels/--weights/--test-x are the files next to this
script. Needs only numpy.
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS = [("fc1", "relu"), ("fc2", "relu"), ("out", "none")]


def float_logits(weights_path, x):
    d = np.load(weights_path)
    h = x.astype(np.float64)
    for name, act in LAYERS:
        w = d[f"{name}.weight"].astype(np.float64)  # (out, in)
        b = d[f"{name}.bias"].astype(np.float64)
        h = h @ w.T + b
        if act == "relu":
            h = np.maximum(h, 0.0)
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json", help="output of `bramble infer ... --json`")
    ap.add_argument("--labels", default=os.path.join(HERE, "test_y.npy"))
    ap.add_argument("--weights", default=os.path.join(HERE, "digits.npz"))
    ap.add_argument("--test-x", default=os.path.join(HERE, "test_x.npy"))
    args = ap.parse_args()

    with open(args.json) as f:
        doc = json.load(f)
    outputs = np.asarray(doc["outputs"], dtype=np.float64)
    labels = np.load(args.labels).astype(np.int64)
    if outputs.ndim != 2 or outputs.shape[0] != labels.shape[0]:
        sys.exit(f"error: {args.json} has outputs of shape {outputs.shape}, "
                 f"expected ({labels.shape[0]}, n_classes) to match {args.labels}")

    n = labels.shape[0]
    pred_fx = np.argmax(outputs, axis=1)
    acc_fx = float(np.mean(pred_fx == labels))
    print(f"fixed-point (bramble) accuracy: {acc_fx:.4f}  ({int(np.sum(pred_fx == labels))}/{n})")

    x = np.load(args.test_x)
    if x.shape[0] != n:
        sys.exit(f"error: {args.test_x} has {x.shape[0]} rows, {args.labels} has {n} labels")
    logits = float_logits(args.weights, x)
    pred_fl = np.argmax(logits, axis=1)
    acc_fl = float(np.mean(pred_fl == labels))
    print(f"float (numpy, digits.npz) accuracy: {acc_fl:.4f}  ({int(np.sum(pred_fl == labels))}/{n})")
    agree = int(np.sum(pred_fx == pred_fl))
    print(f"same prediction: {agree}/{n}; max |output - float logit| = "
          f"{float(np.max(np.abs(outputs - logits))):.4g}")


if __name__ == "__main__":
    main()
