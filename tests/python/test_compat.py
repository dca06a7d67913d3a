"""The reference-compatible method options from Python (issue 21), checked by value
against the reference libraries' formulas re-derived here in NumPy: Captum's
riemann_trapezoid and PAIR's inclusive linspace IG, Captum's NoiseTunnel over
Saliency, PAIR's Blur IG (its sigma sequence, scipy's zero-padded blur with
truncate=4 and its finite-difference sum, written out below), AGI summed over an
explicit class list, and the error sentences.

Run by scripts/test.sh:  PYTHONPATH=build/python python3 -m pytest tests/python
"""
import json
import math

import numpy as np
import pytest

import fluxion

LINEAR = json.dumps({"input_shape": [4], "layers": [{"type": "linear", "in": 4, "out": 3}]})
W = np.array([[1.0, -2.0, 0.5, 3.0], [0.25, 1.5, -1.0, 2.0], [-0.5, 0.0, 4.0, -3.0]])
B = np.array([0.1, -0.2, 0.3])
X = np.array([[0.5, -1.0, 2.0, 0.25], [1.0, 0.0, -0.5, 1.5]])


def linear_model():
    m = fluxion.build_model(LINEAR)
    m.set_parameters({"0.weight": W, "0.bias": B})
    return m


def image_model(side=6):
    """f(x) = w . x + b on [1, side, side] images, three classes."""
    desc = {"input_shape": [1, side, side], "layers": [{"type": "flatten"},
                                                        {"type": "linear", "in": side * side, "out": 3}]}
    m = fluxion.build_model(json.dumps(desc), seed=5)
    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, size=(3, side * side))
    m.set_parameters({"1.weight": w, "1.bias": np.zeros(3)})
    return m, w


@pytest.mark.parametrize("n", [2, 7, 50])
def test_captum_trapezoid_and_inclusive_linspace_ig_of_a_linear_model(n):
    # Captum: weights 1/n with halved ends sum to (n-1)/n; PAIR: n equal weights 1/n sum to 1.
    captum = np.full(n, 1.0 / n)
    captum[[0, -1]] /= 2
    a = fluxion.explain(linear_model(), X, method="ig", target=[0, 2], steps=n, rule="captum_trapezoid")
    np.testing.assert_allclose(a, X * W[[0, 2]] * captum.sum(), rtol=0, atol=1e-14)
    assert abs(captum.sum() - (n - 1) / n) < 1e-15
    a = fluxion.explain(linear_model(), X, method="ig", target=[0, 2], steps=n, rule="inclusive_linspace")
    np.testing.assert_allclose(a, X * W[[0, 2]], rtol=0, atol=1e-14)


def test_noise_tunnel_over_saliency_averages_the_absolute_gradient():
    # Every noisy gradient of a linear model is W[t]: Captum's mean of |grad| is |W[t]|, the signed mean W[t].
    m = linear_model()
    a = fluxion.explain(m, X, method="smoothgrad", target=[0, 1], steps=5, aggregate="mean_absolute", noise_sigma=1.0)
    np.testing.assert_allclose(a, np.abs(W[[0, 1]]), rtol=0, atol=1e-15)
    v = fluxion.explain(m, X, method="vargrad", target=[0, 1], steps=5, aggregate="variance_absolute", noise_sigma=1.0)
    np.testing.assert_allclose(v, 0.0, rtol=0, atol=1e-15)


def scipy_like_zero_padded_blur(image, sigma):
    """scipy.ndimage.gaussian_filter(image, sigma, mode="constant", truncate=4) over a 2-D image, written out."""
    if sigma == 0:
        return image.copy()
    radius = int(4.0 * sigma + 0.5)
    taps = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * taps ** 2 / sigma ** 2)
    kernel /= kernel.sum()
    out = image.astype(np.float64)
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)])
        n = out.shape[axis]
        out = sum(k * np.take(padded, np.arange(n) + radius + t, axis=axis) for t, k in zip(taps, kernel))
    return out


def test_pair_blur_ig_of_a_linear_model_matches_pairs_formula():
    # PAIR BlurIG.GetMask(sqrt=True): sigma_i = sqrt(i max_sigma / steps), and
    # A = -sum_{i<steps} (sigma_{i+1} - sigma_i) (L(sigma_i + h) - L(sigma_i)) / h * grad f(L(sigma_i)).
    m, w = image_model()
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, size=(1, 6, 6))
    max_sigma, steps, h, target = 5.0, 20, 0.01, 1
    sigmas = [math.sqrt(i * max_sigma / steps) for i in range(steps + 1)]
    expected = np.zeros((6, 6))
    for i in range(steps):
        at = scipy_like_zero_padded_blur(x[0], sigmas[i])
        nudged = scipy_like_zero_padded_blur(x[0], sigmas[i] + h)
        expected -= (sigmas[i + 1] - sigmas[i]) * (nudged - at) / h * w[target].reshape(6, 6)
    a = fluxion.explain(m, x, method="blur_ig", target=target, steps=steps, rule="pair_finite_difference",
                        sigma_schedule="pair_sqrt", blur_border="zeros", blur_kernel="scipy", max_sigma=max_sigma)
    np.testing.assert_allclose(a[0], expected, rtol=0, atol=1e-13 * np.abs(expected).max())


def test_agi_sum_over_an_explicit_class_list():
    # The explained class 1 is in the list and skipped: two walks, so the sum is twice the mean.
    desc = {"input_shape": [4], "layers": [{"type": "linear", "in": 4, "out": 6}, {"type": "tanh"},
                                           {"type": "linear", "in": 6, "out": 4}]}
    m = fluxion.build_model(json.dumps(desc), seed=8)
    x = np.array([0.3, 0.7, 0.5, 0.2])
    summed = fluxion.explain(m, x, method="agi", target=1, aggregate="sum_over_classes", false_classes=[0, 1, 3])
    mean = fluxion.explain(m, x, method="agi", target=1, false_classes=[0, 3])
    np.testing.assert_allclose(summed, 2 * mean, rtol=0, atol=1e-15 * max(1.0, np.abs(mean).max()))


def test_the_method_table_documents_each_compatible_option():
    rows = {row["name"]: row for row in fluxion.methods()}
    assert rows["ig"]["options"]["rule"]["choices"]["captum_trapezoid"].startswith(
        "matches Captum IntegratedGradients method='riemann_trapezoid'")
    assert rows["ig"]["options"]["rule"]["default"] == "gauss_legendre"
    assert rows["blur_ig"]["options"]["sigma_schedule"]["choices"]["pair_sqrt"].startswith("matches PAIR saliency")
    assert rows["eh"]["options"]["inner_baseline"]["choices"]["fresh"].startswith("matches path_explain")
    assert rows["agi"]["options"]["aggregate"]["choices"]["sum_over_classes"].startswith("matches AGI_main.py")
    assert rows["saliency"]["options"] == {}


def test_wrong_combinations_are_one_sentence():
    m = linear_model()
    with pytest.raises(fluxion.ArgumentError, match=r"method 'ig' does not take --sigma-schedule \(methods that do: "
                                                   r"blur_ig\)"):
        fluxion.explain(m, X, method="ig", sigma_schedule="pair_sqrt")
    with pytest.raises(fluxion.ArgumentError, match="method 'eh': --inner-baseline 'new' is not one of shared, fresh"):
        fluxion.interactions(m, X[0], method="eh", references=X, inner_baseline="new")
    with pytest.raises(fluxion.ArgumentError, match="unknown option 'stdevs'"):
        fluxion.explain(m, X, method="smoothgrad", stdevs=1.0)
    with pytest.raises(fluxion.ArgumentError, match="false_classes takes class indices >= 0, got -2"):
        fluxion.explain(m, X, method="agi", false_classes=[-2])
