#!/usr/bin/python3
"""The per-call overhead of `fluxion.explain` over the C++ library call.

    PYTHONPATH=build/python benchmarks/python_overhead.py [--repeats 30] [--model results/models/cnn.safetensors]

One MNIST-shaped image (the trained cnn preset when present, else a freshly
initialised one: timing does not depend on the weights), IG with 50
Gauss–Legendre nodes, float32 and float64. For each, the median time of
fluxion.explain(...) from Python and the median time of the same run_method
call inside C++ (inputs prepared once), measured in one run; overhead =
Python / C++ − 1 (goal: < 5 %).
"""
import argparse
import os
import statistics
import time

import numpy as np

import fluxion
from fluxion import _core

p = argparse.ArgumentParser()
p.add_argument("--repeats", type=int, default=30)
p.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", "results", "models",
                                               "cnn.safetensors"))
args = p.parse_args()
model = fluxion.load_model(args.model) if os.path.exists(args.model) else fluxion.build_model("cnn", seed=0)
rng = np.random.default_rng(0)
image = rng.random((1, 28, 28))
print("| dtype | fluxion.explain (Python) | run_method (C++) | overhead |")
print("|---|---|---|---|")
for dtype in (np.float32, np.float64):
    x = image.astype(dtype)
    request = _core.Request()
    request.method, request.target, request.steps = "ig", [3], 50
    for _ in range(3):  # warm up
        fluxion.explain(model, x, method="ig", target=3, steps=50)
    python_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fluxion.explain(model, x, method="ig", target=3, steps=50)
        python_times.append(time.perf_counter() - start)
    library = _core._library_seconds(model, x, request, args.repeats)
    python = statistics.median(python_times)
    print(f"| {np.dtype(dtype).name} | {python * 1e3:.3f} ms | {library * 1e3:.3f} ms | {100 * (python / library - 1):+.1f} % |")
