"""Fluxion from Python: exact derivatives and trustworthy attributions on NumPy arrays.

    import fluxion
    model = fluxion.load_model("cnn.safetensors")
    a = fluxion.explain(model, x, method="ig", target=t, baseline="zeros", steps=50)
    a, delta = fluxion.explain(model, x, method="ig", return_convergence_delta=True)   # Captum's convention
    g = fluxion.interactions(model, x, method="ih", smooth_beta=10)
    gaps = fluxion.check(model, x, method="ig")              # {axiom: relative gap}
    fluxion.check(model, x, method="ig", tolerance=1e-8)     # raises fluxion.GateError if a gap exceeds it
    smoothed = fluxion.smooth(model, beta=10)
    curves = fluxion.deletion_insertion(model, x, a, target=t)

The functions mirror the `fluxion` command line: the same method names,
option names (``--smooth-beta`` is ``smooth_beta``), defaults and error
sentences. Precision follows the input: a float32 array is explained in
float, a float64 array in double. ``x`` is one example (the model's input
shape) or a batch [N, ...]; results have the same leading shape.

Errors: ``fluxion.ArgumentError`` (a ValueError) for bad options, shapes and
values, ``fluxion.FileError`` (an OSError) for files, ``fluxion.GateError``
(an AssertionError) when ``check(..., tolerance=...)`` finds a gap above it;
all derive from ``fluxion.Error``.
"""
import numpy as _np

from . import _core
from ._core import ArgumentError, Error, FileError, Model

__all__ = ["Error", "ArgumentError", "FileError", "GateError", "Model", "load_model", "build_model", "save_model",
           "from_torch", "smooth", "explain", "interactions", "check", "deletion_insertion", "methods", "train", "train_step"]


class GateError(Error, AssertionError):
    """An axiom gap above the tolerance given to fluxion.check (the CLI's exit code 3)."""


def load_model(path):
    """A model file: one written by `fluxion train` / fluxion.save_model (.safetensors with its architecture),
    or an ONNX model (torch.onnx.export, tf2onnx, ...), told apart by content. An ONNX model explains,
    predicts and smooths like any other; training, saving and set_parameters need Fluxion's own models."""
    return _core.load_model(str(path))


def build_model(description="mlp", seed=0):
    """A freshly initialised model: a preset name ("mlp", "cnn", "resnet") or an architecture description (JSON text)."""
    return _core.build_model(description, int(seed))


def save_model(model, path):
    """Writes `model` to `path` (.safetensors with the architecture; atomic)."""
    _core.save_model(model, str(path))


def smooth(model, beta=10.0):
    """The model with every ReLU replaced by SoftPlus(beta): smooth, so Hessians exist (`--smooth-beta`)."""
    return _core.smooth(model, float(beta))


def methods():
    """The method table: one dict per method (name, kind, description, path_method, default_steps, ...)."""
    return _core.methods()


def _as_array(x, what):
    """NumPy arrays as they are; torch tensors and other array-likes through the array interface."""
    if isinstance(x, _np.ndarray):
        return x
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
        x = x.detach().cpu().numpy()
    array = _np.asarray(x)
    if array.dtype.kind in "iub":  # integers and booleans: explained in float64
        array = array.astype(_np.float64)
    return array


def _targets(target):
    if target is None:
        return None
    if _np.isscalar(target) or (isinstance(target, _np.ndarray) and target.ndim == 0):
        return [int(target)]
    return [int(t) for t in target]


_COMPAT_OPTIONS = ("rule", "sigma_schedule", "blur_border", "blur_kernel", "max_sigma", "aggregate", "noise_sigma",
                   "false_classes", "inner_baseline")


def _request(method, target, baseline, steps, seed, samples, references, reference_labels, output, batch_size,
             x, tolerance=1e-3, compat=None):
    r = _core.Request()
    for name, value in (compat or {}).items():
        if name not in _COMPAT_OPTIONS:
            raise ArgumentError(f"unknown option '{name}' (method options: {', '.join(_COMPAT_OPTIONS)})")
        if value is None:
            continue
        if name in ("max_sigma", "noise_sigma"):
            value = float(value)
        elif name == "false_classes":
            value = [int(c) for c in value]
        else:
            value = str(value)
        setattr(r, name, value)
    r.method = method
    r.target = _targets(target)
    if isinstance(baseline, str):
        r.baseline = baseline
    else:
        r.baseline = "user"
        r.baseline_values = _as_array(baseline, "baseline")
    r.steps = int(steps)
    r.seed = int(seed)
    r.samples = int(samples)
    if references is not None:
        r.references = _as_array(references, "references")
    if reference_labels is not None:
        r.reference_labels = [int(c) for c in reference_labels]
    r.output = output
    r.batch_size = int(batch_size)
    r.tolerance = float(tolerance)
    return r


def _run(model, x, interactions, smooth_beta, compat, **options):
    if smooth_beta:
        model = smooth(model, smooth_beta)
    x = _as_array(x, "x")
    values, changes, gaps, reference, single = _core.explain(model, x, _request(x=x, compat=compat, **options),
                                                             interactions)
    if single:
        values = values[0]
    return values, _np.asarray(changes), _np.asarray(gaps), reference, single


def explain(model, x, method="ig", target=None, baseline="zeros", steps=0, seed=0, samples=0, references=None,
            reference_labels=None, output="logit", batch_size=64, smooth_beta=0.0, return_convergence_delta=False,
            **method_options):
    """Attributions of `method` for x (one example or [N, ...]); same shape as x.

    target: class index, one per example, or None (the predicted class).
    baseline: "zeros" (= "black"), "blur", or an array (one example or [N, ...]).
    steps: quadrature nodes / path steps / samples; 0 is the method's default (IG: 50 Gauss-Legendre nodes).
    references: a pool [R, ...] for expected_gradients and ig2.
    output: "logit" or "probability" (the softmax of the target class).
    return_convergence_delta: also return Captum's delta per example,
        sum(attributions) - (f(x) - f(baseline)) (path methods only).
    method_options: the reference-compatible options of the method table (the CLI's --rule, --aggregate, ...;
        fluxion.methods()[i]["options"] lists each method's, with what each value matches), e.g.
        rule="captum_trapezoid" (Captum's riemann_trapezoid IG), aggregate="mean_absolute" with noise_sigma=1.0
        (Captum's NoiseTunnel over Saliency), sigma_schedule="pair_sqrt", blur_border="zeros",
        blur_kernel="scipy", rule="pair_finite_difference", max_sigma=50 (PAIR's Blur IG),
        aggregate="sum_over_classes", false_classes=[...] (the AGI code). None is a default.
    """
    values, changes, _, _, single = _run(model, x, False, smooth_beta, method_options, method=method, target=target,
                                         baseline=baseline, steps=steps, seed=seed, samples=samples,
                                         references=references, reference_labels=reference_labels, output=output,
                                         batch_size=batch_size)
    if not return_convergence_delta:
        return values
    if changes.size == 0:
        raise ArgumentError(f"'{method}' has no reference point, so no convergence delta")
    batch = values[None] if single else values
    delta = batch.reshape(batch.shape[0], -1).sum(axis=1, dtype=_np.float64) - changes
    return values, (delta[0] if single else delta)


def interactions(model, x, method="ih", target=None, baseline="zeros", steps=0, seed=0, samples=0, references=None,
                 output="logit", batch_size=64, smooth_beta=0.0, **method_options):
    """Pairwise interactions Gamma [d, d] of one example (or [N, d, d]): ih, eh, input_hessian, shapley_interaction.

    method_options: rule="path_explain_tf_grid" (ih, steps = num_samples) or inner_baseline="fresh" (eh, path_explain
    torch's resampled inner baseline); see fluxion.methods().
    """
    values, _, _, _, _ = _run(model, x, True, smooth_beta, method_options, method=method, target=target, baseline=baseline,
                              steps=steps, seed=seed, samples=samples, references=references, reference_labels=None,
                              output=output, batch_size=batch_size)
    return values


def check(model, x, method="ig", tolerance=None, target=None, baseline="zeros", steps=0, seed=0, samples=0,
          references=None, output="logit", batch_size=64, smooth_beta=0.0, **method_options):
    """Every axiom gap that applies to `method`, as {axiom: relative gap} (`fluxion check`).

    With a tolerance, raises fluxion.GateError naming the first gap above its bound (completeness and row
    completeness are bounded by `tolerance`, symmetry by rounding: 1e-9 in float64, 1e-4 in float32).
    """
    if smooth_beta:
        model = smooth(model, smooth_beta)
    x = _as_array(x, "x")
    if tolerance is not None and not (float(tolerance) > 0 and _np.isfinite(float(tolerance))):
        raise ArgumentError(f"tolerance must be a relative gap > 0, got {tolerance}")
    r = _request(method, target, baseline, steps, seed, samples, references, None, output, batch_size, x,
                 1e-3 if tolerance is None else tolerance, method_options)
    rows = _core.check(model, x, r)
    if tolerance is not None:
        for row in rows:
            if row["gap"] > row["tolerance"]:
                raise GateError(f"check: {method}: {row['axiom']} gap {row['gap']:.3e} exceeds its tolerance "
                                f"{row['tolerance']:.1e}")
    return {row["axiom"]: row["gap"] for row in rows}


def deletion_insertion(model, x, attributions, target=None, features_per_step=0, fraction_per_step=0.01,
                       rank_by_absolute_value=False, batch_size=64):
    """Deletion and insertion curves of `attributions` (Petsiuk et al. 2018).

    Returns {"deletion": {"fractions", "values" [N, S+1], "auc" [N]}, "insertion": {...},
    "difference": insertion AUC - deletion AUC per example}.
    """
    x = _as_array(x, "x")
    a = _as_array(attributions, "attributions")
    return _core.deletion_insertion(model, x, a, _targets(target), int(features_per_step), float(fraction_per_step),
                                    bool(rank_by_absolute_value), int(batch_size))


def train(model, data="data/mnist", epochs=10, batch_size=128, lr=1e-3, optimizer="adam", seed=0, limit=0):
    """Trains `model` in place on MNIST (IDX files in `data`, scripts/fetch-mnist.sh); one dict per epoch."""
    return _core.train(model, str(data), int(epochs), int(batch_size), float(lr), optimizer, int(seed), int(limit))


def train_step(model, x, labels, lr=0.0):
    """One step of plain gradient descent on a batch, in float64: returns (loss, gradients).

    loss = mean cross-entropy of model(x) against `labels` before the step, gradients = {name: dL/dθ};
    then θ ← θ − lr·gradients. The step runs in training mode, so BatchNorm layers normalise with the
    batch's own statistics and update their running ones (read them with model.parameters()), as
    torch's model.train(); optimizer.step() would.
    """
    labels = [int(v) for v in _np.asarray(labels).reshape(-1)]
    return _core.train_step(model, _as_array(x, "x"), labels, float(lr))


def from_torch(module, example_input=None):
    """A Fluxion model with the weights of a torch.nn.Sequential of supported layers.

    Supported: Flatten, Linear, Conv2d (square kernel, one stride and padding, groups), BatchNorm2d (with its
    running statistics), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1) (global average pooling: put it before a
    Flatten), ReLU, Softplus, Tanh, Sigmoid, Dropout. `example_input` is a batch [N, ...] as the module takes it; its
    example shape becomes the model's input shape.
    """
    import json
    import torch.nn as nn

    if example_input is None:
        raise ArgumentError("from_torch needs example_input (one example or a batch) for the input shape")
    if not isinstance(module, nn.Sequential):
        raise ArgumentError(f"from_torch takes a torch.nn.Sequential of supported layers, got {type(module).__name__}")

    def single(value, what, layer):
        if isinstance(value, (tuple, list)):
            if len(set(value)) != 1:
                raise ArgumentError(f"from_torch: layer {layer}: {what} {tuple(value)} is not square")
            value = value[0]
        return int(value)

    layers, params = [], {}
    for i, m in enumerate(module):
        if isinstance(m, nn.Flatten):
            layers.append({"type": "flatten"})
        elif isinstance(m, nn.Linear):
            layers.append({"type": "linear", "in": m.in_features, "out": m.out_features, "bias": m.bias is not None})
        elif isinstance(m, nn.Conv2d):
            if single(m.dilation, "dilation", i) != 1 or m.padding_mode != "zeros":
                raise ArgumentError(f"from_torch: layer {i}: dilated or non-zero-padded Conv2d is not supported")
            layers.append({"type": "conv2d", "in": m.in_channels, "out": m.out_channels,
                           "kernel": single(m.kernel_size, "kernel", i), "stride": single(m.stride, "stride", i),
                           "padding": single(m.padding, "padding", i), "bias": m.bias is not None,
                           "groups": int(m.groups)})
        elif isinstance(m, nn.BatchNorm2d):
            if not m.affine or not m.track_running_stats or m.momentum is None:
                raise ArgumentError(f"from_torch: layer {i}: BatchNorm2d needs affine=True, track_running_stats=True "
                                    f"and a momentum (not None)")
            layers.append({"type": "batchnorm2d", "channels": m.num_features, "eps": float(m.eps),
                           "momentum": float(m.momentum)})
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            if single(m.output_size, "output_size", i) != 1:
                raise ArgumentError(f"from_torch: layer {i}: AdaptiveAvgPool2d is supported with output size 1 only")
            layers.append({"type": "global_avgpool2d"})
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            layers.append({"type": "maxpool2d" if isinstance(m, nn.MaxPool2d) else "avgpool2d",
                           "kernel": single(m.kernel_size, "kernel", i),
                           "stride": single(m.stride if m.stride is not None else m.kernel_size, "stride", i)})
        elif isinstance(m, nn.ReLU):
            layers.append({"type": "relu"})
        elif isinstance(m, nn.Softplus):
            layers.append({"type": "softplus", "beta": float(m.beta)})
        elif isinstance(m, nn.Tanh):
            layers.append({"type": "tanh"})
        elif isinstance(m, nn.Sigmoid):
            layers.append({"type": "sigmoid"})
        elif isinstance(m, nn.Dropout):
            layers.append({"type": "dropout", "p": float(m.p)})
        else:
            raise ArgumentError(f"from_torch: layer {i} ({type(m).__name__}) is not a supported layer")
        for name, p in m.named_parameters():
            params[f"{i}.{name}"] = p.detach().cpu().double().numpy()
        for name, b in m.named_buffers():  # BatchNorm's running statistics (num_batches_tracked is not kept)
            if name != "num_batches_tracked":
                params[f"{i}.{name}"] = b.detach().cpu().double().numpy()
    shape = list(_as_array(example_input, "example_input").shape)
    if len(shape) < 2:
        raise ArgumentError(f"from_torch: example_input must be a batch [N, ...] as torch modules take, got shape "
                            f"{tuple(shape)}")
    input_shape = shape[1:]
    model = build_model(json.dumps({"input_shape": input_shape, "layers": layers}))
    model.set_parameters(params)
    return model
