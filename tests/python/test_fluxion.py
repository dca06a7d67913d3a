"""`import fluxion` checked by value: closed forms, the CLI on the same files,
every error path, memory over 1000 calls, and two Python threads at once.

Run by scripts/test.sh:  PYTHONPATH=build/python python3 -m pytest tests/python
(FLUXION_BUILD_DIR names the build, for the CLI comparisons).
"""
import json
import os
import resource
import subprocess
import threading

import numpy as np
import pytest

import fluxion

BUILD = os.environ.get("FLUXION_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
FLUXION_TOOL = os.path.join(BUILD, "experiments", "fluxion")

# ---------------------------------------------------------------- models with known answers

LINEAR = json.dumps({"input_shape": [4], "layers": [{"type": "linear", "in": 4, "out": 3}]})
W = np.array([[1.0, -2.0, 0.5, 3.0], [0.25, 1.5, -1.0, 2.0], [-0.5, 0.0, 4.0, -3.0]])
B = np.array([0.1, -0.2, 0.3])


def linear_model():
    """f(x) = W x + b: IG from the zero baseline is x ⊙ W[t] exactly, saliency is W[t]."""
    m = fluxion.build_model(LINEAR)
    m.set_parameters({"0.weight": W, "0.bias": B})
    return m


def quadratic_model():
    """A smooth two-layer net: tanh hidden layer, linear head (Hessians exist)."""
    desc = {"input_shape": [3], "layers": [{"type": "linear", "in": 3, "out": 5}, {"type": "tanh"},
                                           {"type": "linear", "in": 5, "out": 2}]}
    m = fluxion.build_model(json.dumps(desc), seed=3)
    return m


X = np.array([[0.5, -1.0, 2.0, 0.25], [1.0, 0.0, -0.5, 1.5]])


def test_ig_of_a_linear_model_is_x_times_the_weight_row():
    a = fluxion.explain(linear_model(), X, method="ig", target=[0, 2])
    np.testing.assert_allclose(a, X * W[[0, 2]], rtol=0, atol=1e-12)


def test_saliency_is_the_weight_row_and_a_single_example_keeps_its_shape():
    a = fluxion.explain(linear_model(), X[0], method="saliency", target=1)
    assert a.shape == (4,)
    np.testing.assert_allclose(a, np.abs(W[1]), rtol=0, atol=1e-15)


def test_gradient_x_input_and_the_predicted_class_by_default():
    m = linear_model()
    logits = m.predict(X)
    np.testing.assert_allclose(logits, X @ W.T + B, rtol=0, atol=1e-12)
    predicted = logits.argmax(axis=1)
    a = fluxion.explain(m, X, method="gradient_x_input")
    np.testing.assert_allclose(a, X * W[predicted], rtol=0, atol=1e-12)


def test_user_baseline_and_captum_convergence_delta():
    m = quadratic_model()
    x = np.array([[0.3, -0.7, 1.1]])
    base = np.array([0.1, 0.2, -0.3])
    a, delta = fluxion.explain(m, x, method="ig", target=1, baseline=base, steps=64, return_convergence_delta=True)
    change = m.predict(x)[0, 1] - m.predict(base[None])[0, 1]
    # Captum's delta: Σ A − (f(x) − f(x')); Gauss–Legendre with 64 nodes on a smooth path: rounding level
    assert abs(delta[0] - (a.sum() - change)) < 1e-12
    assert abs(delta[0]) < 1e-10


def test_float32_input_runs_in_float32_and_agrees_with_float64():
    m = quadratic_model()
    x64 = np.array([[0.3, -0.7, 1.1], [1.0, 0.5, -0.2]])
    a64 = fluxion.explain(m, x64, method="ig", target=0)
    a32 = fluxion.explain(m, x64.astype(np.float32), method="ig", target=0)
    assert a32.dtype == np.float32 and a64.dtype == np.float64
    # bound: 8·(m + K)·u with u = 2^-24, m ≈ 120 (one derivative's roundings), K = 50 nodes
    assert np.max(np.abs(a32 - a64)) / np.max(np.abs(a64)) <= 8 * (120 + 50) * 2.0 ** -24


def test_fortran_order_and_torch_like_inputs_give_the_same_values():
    m = quadratic_model()
    x = np.array([[0.3, -0.7, 1.1], [1.0, 0.5, -0.2]])
    a = fluxion.explain(m, x, method="ig", target=0)
    np.testing.assert_array_equal(fluxion.explain(m, np.asfortranarray(x), method="ig", target=0), a)
    np.testing.assert_array_equal(fluxion.explain(m, x.tolist(), method="ig", target=0), a)


def test_interactions_of_ih_are_symmetric_and_sum_to_the_output_change():
    m = quadratic_model()
    x = np.array([0.3, -0.7, 1.1])
    g = fluxion.interactions(m, x, method="ih", target=0, steps=64)
    assert g.shape == (3, 3)
    np.testing.assert_allclose(g, g.T, rtol=0, atol=1e-12)
    change = m.predict(x[None])[0, 0] - m.predict(np.zeros((1, 3)))[0, 0]
    assert abs(g.sum() - change) < 1e-6  # IH's −ln t quadrature with 64 nodes (docs/04)


def test_input_hessian_matches_central_differences_of_the_saliency_gradient():
    m = quadratic_model()
    x = np.array([0.3, -0.7, 1.1])
    h = fluxion.interactions(m, x, method="input_hessian", target=0)  # ∇²f(x)

    def gradient(z):  # ∇f: gradient × input divided by the input (no zero entries here)
        return fluxion.explain(m, z, method="gradient_x_input", target=0) / z

    eps = 1e-5
    fd = np.stack([(gradient(x + eps * e) - gradient(x - eps * e)) / (2 * eps) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(h, fd, rtol=0, atol=1e-8)  # central differences: O(eps²) + rounding/eps


def test_check_returns_the_gaps_and_raises_above_a_tolerance():
    m = quadratic_model()
    x = np.array([[0.3, -0.7, 1.1]])
    gaps = fluxion.check(m, x, method="ig", target=0)
    assert set(gaps) == {"completeness"}
    assert gaps["completeness"] < 1e-9
    g = fluxion.check(m, x, method="ih", target=0)
    assert {"interaction completeness", "symmetry", "row completeness"} <= set(g)
    with pytest.raises(fluxion.GateError, match="completeness gap"):
        fluxion.check(m, x, method="ig", target=0, steps=2, tolerance=1e-14)


def test_smooth_replaces_relu_by_softplus():
    desc = {"input_shape": [2], "layers": [{"type": "linear", "in": 2, "out": 2}, {"type": "relu"},
                                           {"type": "linear", "in": 2, "out": 1}]}
    m = fluxion.build_model(json.dumps(desc))
    w1, b1, w2, b2 = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0.1, -0.3]), np.array([[2.0, -1.0]]), \
        np.array([0.5])
    m.set_parameters({"0.weight": w1, "0.bias": b1, "2.weight": w2, "2.bias": b2})
    x = np.array([[0.2, -0.4], [1.0, 0.3]])
    beta = 10.0
    softplus = lambda z: np.log1p(np.exp(beta * z)) / beta
    expected = softplus(x @ w1.T + b1) @ w2.T + b2
    np.testing.assert_allclose(fluxion.smooth(m, beta=beta).predict(x), expected, rtol=1e-13, atol=0)
    np.testing.assert_allclose(m.predict(x), np.maximum(x @ w1.T + b1, 0) @ w2.T + b2, rtol=1e-13)


def test_deletion_insertion_endpoints_are_the_model_at_x_and_at_the_baseline():
    m = linear_model()
    a = fluxion.explain(m, X, method="ig", target=[0, 2])
    curves = fluxion.deletion_insertion(m, X, a, target=[0, 2], features_per_step=1)
    full = (X @ W.T + B)[[0, 1], [0, 2]]
    np.testing.assert_allclose(curves["deletion"]["values"][:, 0], full, atol=1e-12)
    np.testing.assert_allclose(curves["deletion"]["values"][:, -1], B[[0, 2]], atol=1e-12)
    np.testing.assert_allclose(curves["insertion"]["values"][:, 0], B[[0, 2]], atol=1e-12)
    np.testing.assert_allclose(curves["insertion"]["values"][:, -1], full, atol=1e-12)
    np.testing.assert_allclose(curves["difference"],
                               np.array(curves["insertion"]["auc"]) - np.array(curves["deletion"]["auc"]), atol=1e-15)


def test_methods_is_the_cli_table():
    rows = {r["name"]: r for r in fluxion.methods()}
    assert rows["ig"]["default_steps"] == 50 and rows["ig"]["kind"] == "attributions" and rows["ig"]["path_method"]
    assert rows["ih"]["kind"] == "interactions"
    help_text = subprocess.run([FLUXION_TOOL, "explain", "--help"], capture_output=True, text=True).stdout
    for name, row in rows.items():
        if row["kind"] == "attributions":
            assert name in help_text, name


def test_save_and_load_round_trip(tmp_path):
    m = quadratic_model()
    path = tmp_path / "m.safetensors"
    fluxion.save_model(m, path)
    loaded = fluxion.load_model(path)
    for name, value in m.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[name], value)
    assert loaded.input_shape == [3]


# ---------------------------------------------------------------- the CLI on the same files

def test_explain_matches_the_cli_bit_for_bit(tmp_path):
    m = quadratic_model()
    fluxion.save_model(m, tmp_path / "m.safetensors")
    x = np.array([[0.3, -0.7, 1.1], [1.0, 0.5, -0.2]])
    np.save(tmp_path / "x.npy", x)
    for method, extra in [("ig", ["--steps", "32"]), ("saliency", []), ("smoothgrad", ["--seed", "5"])]:
        out = tmp_path / f"{method}.npy"
        subprocess.run([FLUXION_TOOL, "explain", "--model", str(tmp_path / "m.safetensors"), "--input",
                        str(tmp_path / "x.npy"), "--method", method, "--target", "1", "--out", str(out)] + extra,
                       check=True, capture_output=True)
        options = {"steps": int(extra[1])} if method == "ig" else {"seed": int(extra[1])} if extra else {}
        np.testing.assert_array_equal(fluxion.explain(m, x, method=method, target=1, **options), np.load(out))


# ---------------------------------------------------------------- errors: one sentence, the right class

def test_unknown_method_is_an_argument_error_naming_the_known_ones():
    with pytest.raises(fluxion.ArgumentError, match="unknown method") as e:
        fluxion.explain(linear_model(), X, method="no_such_method")
    assert "ig" in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, fluxion.Error)


def test_bad_shapes_dtypes_nan_and_targets():
    m = linear_model()
    with pytest.raises(fluxion.ArgumentError, match="shape"):
        fluxion.explain(m, np.zeros((2, 5)))
    with pytest.raises(fluxion.ArgumentError, match="float32 or float64"):
        fluxion.explain(m, np.zeros((2, 4), dtype=np.complex128))
    bad = X.copy()
    bad[1, 2] = np.nan
    with pytest.raises(fluxion.ArgumentError, match="NaN"):
        fluxion.explain(m, bad)
    with pytest.raises(fluxion.ArgumentError, match="not a class"):
        fluxion.explain(m, X, target=7)
    with pytest.raises(fluxion.ArgumentError, match="one per example"):
        fluxion.explain(m, X, target=[0, 1, 2])
    with pytest.raises(fluxion.ArgumentError, match="steps"):
        fluxion.explain(m, X, steps=-1)
    with pytest.raises(fluxion.ArgumentError, match="interaction"):
        fluxion.explain(m, X, method="ih")
    with pytest.raises(fluxion.ArgumentError, match="attribution"):
        fluxion.interactions(m, X, method="ig")


def test_missing_and_corrupt_files_are_file_errors(tmp_path):
    with pytest.raises(fluxion.FileError) as e:
        fluxion.load_model(tmp_path / "missing.safetensors")
    assert isinstance(e.value, OSError) and "missing.safetensors" in str(e.value)
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(fluxion.FileError, match="corrupt.safetensors"):
        fluxion.load_model(corrupt)


# ---------------------------------------------------------------- memory and threads

def resident_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_no_call_leaks_over_1000_repetitions():
    m = quadratic_model()
    x = np.array([[0.3, -0.7, 1.1]])
    for _ in range(100):  # warm up the allocator and the caches
        fluxion.explain(m, x, method="ig", target=0, steps=8)
    before = resident_kib()
    for _ in range(1000):
        fluxion.explain(m, x, method="ig", target=0, steps=8)
        try:
            fluxion.explain(m, x, method="no_such_method")
        except fluxion.ArgumentError:
            pass
    grown = resident_kib() - before
    # one leaked result or node per call would be >= 1000 × ~100 bytes; allow allocator noise
    assert grown < 2048, f"resident memory grew by {grown} KiB over 1000 calls"


def test_two_threads_explain_at_once_and_the_gil_is_released():
    m = fluxion.build_model("mlp", seed=1)
    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 28, 28))
    alone = fluxion.explain(m, x, method="ig", target=3, steps=64)
    results = [None, None]

    def work(i):
        results[i] = fluxion.explain(m, x, method="ig", target=3, steps=64)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    ticks = 0
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        ticks += 1  # runs only while no explanation holds the GIL
    for t in threads:
        t.join()
    np.testing.assert_array_equal(results[0], alone)
    np.testing.assert_array_equal(results[1], alone)
    # With the GIL held for the whole computation this loop would barely run.
    assert ticks > 1000, f"the main thread ran {ticks} iterations while two explanations ran"


# ---------------------------------------------------------------- torch users

def test_from_torch_sequential_gives_the_same_logits():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 5)).double()
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    model = fluxion.from_torch(net, x)
    np.testing.assert_allclose(model.predict(x.numpy()), net(x).detach().numpy(), rtol=0, atol=1e-12)
    a = fluxion.explain(model, x, method="saliency", target=2)  # a torch tensor goes in as an array
    assert a.shape == (2, 1, 8, 8)


# ---------------------------------------------------------------- training

def write_idx(path, array, kind):
    """IDX: magic (0, 0, 0x08 = unsigned bytes, rank), big-endian extents, the bytes."""
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, array.ndim]))
        for extent in array.shape:
            f.write(int(extent).to_bytes(4, "big"))
        f.write(array.astype(np.uint8).tobytes())


def test_train_learns_a_separable_synthetic_set(tmp_path):
    rng = np.random.default_rng(0)

    def split(n):
        labels = rng.integers(0, 2, n)
        images = rng.integers(0, 40, (n, 28, 28))
        images[labels == 1, 10:18, 10:18] = 255  # class 1: a bright square
        return images, labels

    for name, n in (("train", 256), ("t10k", 64)):
        images, labels = split(n)
        write_idx(tmp_path / f"{name}-images-idx3-ubyte", images, "images")
        write_idx(tmp_path / f"{name}-labels-idx1-ubyte", labels, "labels")
    m = fluxion.build_model("mlp", seed=0)
    history = fluxion.train(m, tmp_path, epochs=2, batch_size=32, lr=1e-3, seed=0)
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[-1]["test_accuracy"] == 1.0
    assert history[-1]["loss"] < history[0]["loss"]


def test_model_properties_and_smooth_beta_is_smooth_then_explain():
    m = fluxion.build_model(LINEAR)
    described = json.loads(m.description)
    assert described["input_shape"] == [4] and described["layers"][0]["type"] == "linear"
    assert m.input_shape == [4] and m.output_shape == [3] and m.source == "description"
    relu = fluxion.build_model("mlp", seed=2)
    x = np.random.default_rng(1).random((2, 1, 28, 28))
    np.testing.assert_array_equal(fluxion.explain(relu, x, method="saliency", target=1, smooth_beta=10),
                                  fluxion.explain(fluxion.smooth(relu, 10), x, method="saliency", target=1))
    assert not np.array_equal(fluxion.explain(relu, x, method="saliency", target=1),
                              fluxion.explain(relu, x, method="saliency", target=1, smooth_beta=10))


def test_output_probability_explains_the_softmax_of_the_target():
    m = linear_model()
    x = X[:1]
    a = fluxion.explain(m, x, method="ig", target=2, output="probability", steps=64)

    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    change = softmax(x @ W.T + B)[0, 2] - softmax(B[None])[0, 2]
    # completeness of IG on p_2(x) with 64 Gauss–Legendre nodes on an analytic path
    assert abs(a.sum() - change) < 1e-12
    # saliency of the probability: ∂p_t/∂x = p_t (W_t − Σ_c p_c W_c)
    p = softmax(x @ W.T + B)[0]
    expected = p[2] * (W[2] - p @ W)
    np.testing.assert_allclose(fluxion.explain(m, x, method="gradient_x_input", target=2, output="probability")[0],
                               x[0] * expected, rtol=0, atol=1e-14)  # two softmax evaluations: rounding


def test_deletion_insertion_step_size_and_absolute_ranking():
    m = linear_model()
    a = fluxion.explain(m, X, method="ig", target=[0, 2])
    curves = fluxion.deletion_insertion(m, X, a, target=[0, 2], fraction_per_step=0.25)
    assert curves["deletion"]["fractions"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # deleting the single top-ranked feature of example 0 first: signed ranking removes the largest
    # positive attribution, absolute ranking the largest |attribution|
    signed = fluxion.deletion_insertion(m, X[:1], a[:1], target=0, features_per_step=1)
    absolute = fluxion.deletion_insertion(m, X[:1], a[:1], target=0, features_per_step=1, rank_by_absolute_value=True)
    full = X[0] @ W[0] + B[0]
    assert np.isclose(signed["deletion"]["values"][0, 1], full - a[0].max(), atol=1e-12)
    top = np.argmax(np.abs(a[0]))
    assert np.isclose(absolute["deletion"]["values"][0, 1], full - a[0][top], atol=1e-12)
