"""Tutorial 8: the IG and IH examples of tutorials 3 and 4, from Python.

    PYTHONPATH=build/python python3 docs/examples/08_python.py

Prints the numbers docs/08-python.md discusses; tests/python/test_tutorial_08.py
runs it and checks them (against the C++ tutorial 3's numbers too).
"""
import json

import numpy as np

import fluxion

# The model of tutorials 3 and 4: 4 inputs → 16 tanh → 16 tanh → 2 logits,
# PyTorch's initialisation from seed 3 (the same weights as the C++ programs).
architecture = json.dumps({"input_shape": [4], "layers": [
    {"type": "linear", "in": 4, "out": 16}, {"type": "tanh"},
    {"type": "linear", "in": 16, "out": 16}, {"type": "tanh"},
    {"type": "linear", "in": 16, "out": 2}]})
model = fluxion.build_model(architecture, seed=3)
x = np.array([2.0, -1.5, 1.0, 2.5])  # one example; the baseline is zeros

# Integrated Gradients with 64 Gauss–Legendre nodes, and Captum's convergence
# delta Σ A − (f(x) − f(x')): the completeness gap with its sign.
a, delta = fluxion.explain(model, x, method="ig", target=0, steps=64, return_convergence_delta=True)
for i, value in enumerate(a):
    print(f"ig feature_{i} = {value:.15f}")
print(f"ig sum = {a.sum():.15f}")
print(f"ig convergence_delta = {delta:.3e}")

# The same axiom as a number with its bound (what `fluxion check` prints).
gaps = fluxion.check(model, x, method="ig", target=0, steps=64)
print(f"check completeness = {gaps['completeness']:.3e}")

# Integrated Hessians: Γ [4, 4] with Σ_ij Γ_ij = f(x) − f(x') and Σ_j Γ_ij = IG_i.
gamma = fluxion.interactions(model, x, method="ih", target=0, steps=64)
change = model.predict(x)[0] - model.predict(np.zeros(4))[0]
print(f"ih output_change = {change[0]:.12f}")
print(f"ih sum = {gamma.sum():.12f}")
print(f"ih symmetry_gap = {np.max(np.abs(gamma - gamma.T)):.3e}")
print(f"ih row_sums_minus_ig = {np.max(np.abs(gamma.sum(axis=1) - a)):.3e}")
for i in range(4):
    print("ih gamma row %d = %s" % (i, " ".join(f"{v:+.5f}" for v in gamma[i])))
