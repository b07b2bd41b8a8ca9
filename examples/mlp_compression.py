#!/usr/bin/env python3
"""Times two variants of a small classifier, for edgewatch's experiment comparison.

The model is a 784-256-10 MLP (MNIST-sized) in pure Python, so it runs on any CPU with no
downloads and no numpy. Two variants:

  dense   the original: float64 weights, every multiply-add done
  pruned  the compressed: 90 % of the hidden layer's weights removed by magnitude, the rest
          quantised to int8 with one scale per row and stored sparsely (CSR)

Compare them with `edgewatch bench`: each variant runs as 5 trials, interleaved (dense, pruned,
dense, …) so that heat and clock drift fall on both alike, and the summary says whether the pruned
model is measurably faster, with a confidence interval, and how much top-1 it gives up:

  python3 examples/mlp_compression.py --describe          # parameter counts and sizes
  edgewatch bench --name mlp --repeat 5 --warmup 20 --scores-from stdout \
    --variant dense='python3 examples/mlp_compression.py --variant dense' \
    --variant pruned='python3 examples/mlp_compression.py --variant pruned' \
    --params dense=203530 --params pruned=22794 --model-bytes dense=1628240 --model-bytes pruned=84048

(on a board with only the standalone agent: `node edgewatch-agent.mjs bench …`). One variant alone:
  edgewatch run --name mlp-pruned --params 22794 --model-bytes 84048 --scores-from stdout -- python3 examples/mlp_compression.py --variant pruned

The quality figure is top-1 agreement with the dense model's predictions on the evaluation inputs
(1.0 for dense itself): reported through the SDK's edgewatch.score() where the SDK has it, and as
the last line on stdout, {"scores": {"top1_agreement": x}}, for --scores-from stdout. The script
does no warm-up of its own: its first calls are timed as they are (cold caches and all), and
--warmup on bench or run says how many of them to leave out of the figures.

then open the compare link bench prints on the hub, or
  curl 'http://127.0.0.1:8080/api/v1/experiments/compare?ids=<dense id>,<pruned id>&format=md'
"""
import argparse
import json
import math
import random
import sys
import time
from array import array
from pathlib import Path

# The edgewatch client is one standard-library file; use the copy in this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sdk" / "python"))
import edgewatch  # noqa: E402

IN, HIDDEN, OUT = 784, 256, 10
KEEP = 0.10  # share of hidden-layer weights the pruned variant keeps


def dense_model(seed=7):
    rnd = random.Random(seed)
    w1 = [array("d", (rnd.gauss(0, 1 / math.sqrt(IN)) for _ in range(IN))) for _ in range(HIDDEN)]
    b1 = array("d", (rnd.gauss(0, 0.01) for _ in range(HIDDEN)))
    w2 = [array("d", (rnd.gauss(0, 1 / math.sqrt(HIDDEN)) for _ in range(HIDDEN))) for _ in range(OUT)]
    b2 = array("d", (rnd.gauss(0, 0.01) for _ in range(OUT)))
    return w1, b1, w2, b2


def prune_and_quantise(model):
    """Magnitude pruning of the first layer (by row), then int8 with a per-row scale."""
    w1, b1, w2, b2 = model
    rows = []
    for row in w1:
        keep = max(1, int(len(row) * KEEP))
        idx = sorted(range(len(row)), key=lambda i: -abs(row[i]))[:keep]
        idx.sort()
        scale = max(abs(row[i]) for i in idx) / 127
        values = array("b", (round(row[i] / scale) for i in idx))
        rows.append((array("H", idx), values, scale))
    return rows, b1, w2, b2


def evaluation_input(i):
    rnd = random.Random(i)
    return [rnd.random() - 0.5 for _ in range(IN)]


def run_dense(model, x):
    w1, b1, w2, b2 = model
    h = [max(0.0, sum(w * v for w, v in zip(row, x)) + b) for row, b in zip(w1, b1)]
    return max(range(OUT), key=lambda k: sum(w * v for w, v in zip(w2[k], h)) + b2[k])


def run_pruned(model, x):
    rows, b1, w2, b2 = model
    h = [max(0.0, scale * sum(q * x[i] for i, q in zip(idx, values)) + b) for (idx, values, scale), b in zip(rows, b1)]
    return max(range(OUT), key=lambda k: sum(w * v for w, v in zip(w2[k], h)) + b2[k])


def describe(dense, pruned):
    w1, b1, w2, b2 = dense
    dense_params = sum(len(r) for r in w1) + len(b1) + sum(len(r) for r in w2) + len(b2)
    dense_bytes = dense_params * 8
    rows, pb1, pw2, pb2 = pruned
    kept = sum(len(v) for _, v, _ in rows)
    pruned_params = kept + len(pb1) + sum(len(r) for r in pw2) + len(pb2)
    # int8 values + uint16 column indexes + one float32 scale and one uint16 row length per row,
    # and the float64 biases and second layer, as stored.
    pruned_bytes = kept * (1 + 2) + len(rows) * (4 + 2) + (len(pb1) + sum(len(r) for r in pw2) + len(pb2)) * 8
    return {"dense": (dense_params, dense_bytes), "pruned": (pruned_params, pruned_bytes)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=["dense", "pruned"])
    ap.add_argument("--seconds", type=float, default=12.0, help="how long to run inferences (bench warns under 10 s of measured time)")
    ap.add_argument("--describe", action="store_true", help="print parameter counts and sizes, then exit")
    args = ap.parse_args()

    dense = dense_model()
    pruned = prune_and_quantise(dense)
    if args.describe or not args.variant:
        for name, (params, size) in describe(dense, pruned).items():
            print(f"{name:7} params={params} model_bytes={size}")
        return

    model, run = (dense, run_dense) if args.variant == "dense" else (pruned, run_pruned)
    name = f"mlp-{args.variant}"
    # Evaluation inputs: 32 random images, centred as normalised pixels are (with all-positive
    # inputs this random network picks the same class for every one, and agreement says nothing).
    inputs = [evaluation_input(i) for i in range(32)]
    predicted = [None] * len(inputs)
    n = 0
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        i = n % len(inputs)
        with edgewatch.timed(name):
            y = run(model, inputs[i])
        predicted[i] = y
        n += 1
    edgewatch.flush()

    # Quality, untimed: the variant's top-1 against the dense model's on every evaluation input
    # (inputs the timed loop did not reach are run now).
    for i, x in enumerate(inputs):
        if predicted[i] is None:
            predicted[i] = run(model, x)
    reference = predicted if args.variant == "dense" else [run_dense(dense, x) for x in inputs]
    agreement = sum(p == r for p, r in zip(predicted, reference)) / len(inputs)
    if hasattr(edgewatch, "score"):
        edgewatch.score("top1_agreement", agreement)

    stats = edgewatch.stats()
    print(f"{name}: {n} inferences in {args.seconds:g} s; sent {stats.get('sent')} timings, dropped {stats.get('dropped')}", file=sys.stderr)
    print(f"{name}: top-1 agrees with the dense model on {round(agreement * len(inputs))}/{len(inputs)} inputs", file=sys.stderr)
    # The last line on stdout, for `edgewatch bench/run --scores-from stdout`.
    print(json.dumps({"scores": {"top1_agreement": agreement}}), flush=True)


if __name__ == "__main__":
    main()
