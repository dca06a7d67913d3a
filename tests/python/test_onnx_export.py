"""`fluxion export --onnx`: the files it writes are standard ONNX and compute what Fluxion computes.

Every export passes ONNX's own checker with full_check (strict shape and type
inference) and is evaluated here by a small independent evaluator, written
with torch.nn.functional from the ONNX operator specification (onnx 1.12 has
no onnx.reference and there is no onnxruntime here): it reads the file's
attributes with onnx.helper.get_attribute_value and its weights with
onnx.numpy_helper.to_array, and knows nothing of Fluxion. Its outputs are
compared with Fluxion's on the same inputs: float64 files to 1e-12 and
float32 files to 1e-5, relative to the largest output.

Models: the mlp and cnn presets, the smoothed presets (--smooth-beta, every
Relu as SoftPlus(β)), a model with SoftPlus(β ≠ 1) layers, and a residual CNN
with BatchNorm that PyTorch wrote (torch.onnx.export), read by Fluxion and
exported again; that one is also compared with the torch module itself.

Skipped (counted as skipped) when python3-torch or python3-onnx is missing.
"""
import os
import subprocess

import numpy as np
import pytest

import fluxion

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
from onnx import helper, numpy_helper  # noqa: E402

F = torch.nn.functional
nn = torch.nn

BUILD = os.environ.get("FLUXION_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
FLUXION_TOOL = os.path.join(BUILD, "experiments", "fluxion")
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


# ---- an independent evaluator of ONNX graphs (ONNX semantics, torch kernels) ----

def _pads_2d(pads):
    """ONNX pads [top, left, bottom, right] → F.pad's (left, right, top, bottom)."""
    top, left, bottom, right = pads
    return (left, right, top, bottom)


def _conv(x, w, b=None, kernel_shape=None, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1,
          auto_pad="NOTSET"):
    assert auto_pad in ("NOTSET", b"NOTSET"), "auto_pad is not used by these exports"
    return F.conv2d(F.pad(x, _pads_2d(pads)), w, b, stride=tuple(strides), dilation=tuple(dilations), groups=group)


def _max_pool(x, kernel_shape, strides=None, pads=(0, 0, 0, 0), dilations=(1, 1), ceil_mode=0, auto_pad="NOTSET",
              storage_order=0):
    assert auto_pad in ("NOTSET", b"NOTSET") and storage_order == 0
    x = F.pad(x, _pads_2d(pads), value=-float("inf"))
    return F.max_pool2d(x, tuple(kernel_shape), tuple(strides or (1, 1)), dilation=tuple(dilations),
                        ceil_mode=bool(ceil_mode))


def _average_pool(x, kernel_shape, strides=None, pads=(0, 0, 0, 0), ceil_mode=0, count_include_pad=0,
                  auto_pad="NOTSET"):
    assert auto_pad in ("NOTSET", b"NOTSET")
    assert list(pads) == [0, 0, 0, 0] or count_include_pad, "these exports pool without padding"
    return F.avg_pool2d(F.pad(x, _pads_2d(pads)), tuple(kernel_shape), tuple(strides or (1, 1)),
                        ceil_mode=bool(ceil_mode))


def _gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    y = alpha * ((a.T if transA else a) @ (b.T if transB else b))
    return y if c is None else y + beta * c


def _batch_norm(x, scale, bias, mean, var, epsilon=1e-5, momentum=0.9, training_mode=0):
    assert training_mode == 0
    return F.batch_norm(x, mean, var, weight=scale, bias=bias, training=False, eps=epsilon)


def _flatten(x, axis=1):
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


def _reshape(x, shape, allowzero=0):
    target = [int(d) for d in shape]
    if not allowzero:
        target = [x.shape[i] if d == 0 else d for i, d in enumerate(target)]
    return x.reshape(target)


OPS = {
    "Gemm": _gemm,
    "Conv": _conv,
    "MaxPool": _max_pool,
    "AveragePool": _average_pool,
    "GlobalAveragePool": lambda x: x.mean(dim=tuple(range(2, x.dim())), keepdim=True),
    "BatchNormalization": _batch_norm,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Identity": lambda x: x,
    "Relu": F.relu,
    "Tanh": torch.tanh,
    "Sigmoid": torch.sigmoid,
    "Softplus": lambda x: torch.logaddexp(x, torch.zeros_like(x)),  # ln(1 + eˣ), without torch's linear cut-off
    "Add": torch.add,
    "Sub": torch.sub,
    "Mul": torch.mul,
    "Div": torch.div,
}


def evaluate_onnx(model, x):
    """The graph's first output for input x (a numpy array), every op from OPS."""
    values = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    (graph_input,) = [i for i in model.graph.input if i.name not in values]
    values[graph_input.name] = torch.from_numpy(x)
    for node in model.graph.node:
        assert node.domain in ("", "ai.onnx"), node.domain
        if node.op_type not in OPS:
            raise NotImplementedError(f"the test's evaluator has no {node.op_type} (node {node.name!r})")
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        inputs = [values[name] if name else None for name in node.input]
        values[node.output[0]] = OPS[node.op_type](*inputs, **attributes)
    return values[model.graph.output[0].name].numpy()


# ---- helpers ----------------------------------------------------------------

def fluxion_export(model_path, out, *flags):
    result = subprocess.run([FLUXION_TOOL, "export", "--model", str(model_path), "--onnx", str(out), *flags],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def checked(path):
    """The file, after ONNX's checker with full_check (strict shape and type inference) accepted it."""
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    return model


def relative_error(ours, reference):
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    assert ours.shape == reference.shape
    return np.abs(ours - reference).max() / np.abs(reference).max()


SOFTPLUS_NET = ('{"input_shape": [12], "layers": [{"type": "linear", "in": 12, "out": 16}, {"type": "softplus", "beta": 10},'
                ' {"type": "linear", "in": 16, "out": 16}, {"type": "softplus", "beta": 0.5},'
                ' {"type": "linear", "in": 16, "out": 4}]}')

# name: (architecture, seed, --smooth-beta, --dtype)
CASES = {
    "mlp": ("mlp", 1, None, "float64"),
    "cnn": ("cnn", 2, None, "float64"),
    "mlp_smoothed": ("mlp", 3, 10.0, "float64"),
    "cnn_smoothed": ("cnn", 4, 5.0, "float64"),
    "cnn_float32": ("cnn", 5, None, "float32"),
    "mlp_smoothed_float32": ("mlp", 6, 10.0, "float32"),
    "softplus_beta": (SOFTPLUS_NET, 7, None, "float64"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fluxion_exports_pass_the_full_checker_and_evaluate_to_fluxions_outputs(name, tmp_path):
    architecture, seed, beta, dtype = CASES[name]
    model = fluxion.build_model(architecture, seed)
    fluxion.save_model(model, tmp_path / "model.safetensors")
    flags = ["--dtype", dtype] + ([] if beta is None else ["--smooth-beta", str(beta)])
    line = fluxion_export(tmp_path / "model.safetensors", tmp_path / "model.onnx", *flags)
    assert line.startswith(f"wrote {tmp_path / 'model.onnx'}: ") and f"opset 17, {dtype}" in line
    exported = checked(tmp_path / "model.onnx")

    ops = [n.op_type for n in exported.graph.node]
    if beta is not None or name == "softplus_beta":
        assert "Relu" not in ops and "Softplus" in ops and "Mul" in ops and "Div" in ops
    elem = exported.graph.input[0].type.tensor_type.elem_type
    assert elem == (onnx.TensorProto.DOUBLE if dtype == "float64" else onnx.TensorProto.FLOAT)
    assert exported.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"

    shape = tuple(model.input_shape)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(5,) + shape)
    reference = fluxion.smooth(model, beta) if beta is not None else model
    ours = reference.predict(x)  # Fluxion, float64, on the original (smoothed) model
    theirs = evaluate_onnx(exported, x.astype(np.float64 if dtype == "float64" else np.float32))
    err = relative_error(theirs, ours)
    print(f"{name}: independent evaluation vs Fluxion {err:.2e}")
    assert err <= TOLERANCE[dtype]
    if beta is not None:  # and it is the smoothed model, not the ReLU one
        assert relative_error(model.predict(x), ours) > 1e3 * TOLERANCE[dtype]


class ResidualCNN(nn.Module):
    """conv + BN + act, a residual block (conv-BN-act-conv-BN + skip), global average pool, linear."""

    def __init__(self, beta=None):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(6)
        self.c1 = nn.Conv2d(6, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.c2 = nn.Conv2d(6, 6, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, 4)
        self.beta = beta

    def act(self, x):
        return F.relu(x) if self.beta is None else F.softplus(x, beta=self.beta, threshold=1e6)

    def forward(self, x):
        h = self.act(self.bn0(self.stem(x)))
        h = self.act(h + self.bn2(self.c2(self.act(self.bn1(self.c1(h))))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


def residual_cnn(seed, beta=None):
    torch.manual_seed(seed)
    module = ResidualCNN(beta).double()
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):  # statistics that are not the identity
            m.running_mean.copy_(0.3 * torch.randn(m.num_features, generator=g, dtype=torch.float64))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g, dtype=torch.float64))
            m.weight.data.copy_(1 + 0.2 * torch.randn(m.num_features, generator=g, dtype=torch.float64))
            m.bias.data.copy_(0.1 * torch.randn(m.num_features, generator=g, dtype=torch.float64))
    return module.eval()


@pytest.fixture(scope="module")
def torch_written(tmp_path_factory):
    """A residual CNN with BatchNorm written by torch.onnx.export (float64, BatchNormalization nodes kept)."""
    path = tmp_path_factory.mktemp("torch_written") / "residual.onnx"
    module = residual_cnn(seed=3)
    torch.onnx.export(module, torch.zeros((1, 3, 8, 8), dtype=torch.float64), str(path), opset_version=13,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE, input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
    return module, path


def test_a_torch_written_model_reexported_agrees_with_the_torch_module(torch_written, tmp_path):
    module, path = torch_written
    fluxion_export(path, tmp_path / "again.onnx")
    again = checked(tmp_path / "again.onnx")
    ops = {n.op_type for n in again.graph.node}
    assert {"BatchNormalization", "Add", "GlobalAveragePool", "Conv", "Gemm"} <= ops
    assert again.opset_import[0].version == 13
    x = np.random.default_rng(5).uniform(-1.0, 1.0, size=(4, 3, 8, 8))
    with torch.no_grad():
        reference = module(torch.from_numpy(x)).numpy()
    err = relative_error(evaluate_onnx(again, x), reference)
    print(f"torch-written residual CNN re-exported: independent evaluation vs torch {err:.2e}")
    assert err <= TOLERANCE["float64"]
    assert relative_error(fluxion.load_model(tmp_path / "again.onnx").predict(x), reference) <= TOLERANCE["float64"]


def test_a_torch_written_model_smoothed_on_export_agrees_with_the_softplus_module(torch_written, tmp_path):
    _, path = torch_written
    beta = 5.0
    fluxion_export(path, tmp_path / "smooth.onnx", "--smooth-beta", str(beta))
    smooth = checked(tmp_path / "smooth.onnx")
    assert "Relu" not in {n.op_type for n in smooth.graph.node}
    softplus_module = residual_cnn(seed=3, beta=beta)  # the same weights, every ReLU as SoftPlus(β)
    x = np.random.default_rng(6).uniform(-1.0, 1.0, size=(4, 3, 8, 8))
    with torch.no_grad():
        reference = softplus_module(torch.from_numpy(x)).numpy()
    err = relative_error(evaluate_onnx(smooth, x), reference)
    print(f"torch-written residual CNN smoothed on export: independent evaluation vs torch SoftPlus module {err:.2e}")
    assert err <= TOLERANCE["float64"]


def test_a_torch_written_model_exported_in_float32(torch_written, tmp_path):
    module, path = torch_written
    fluxion_export(path, tmp_path / "f32.onnx", "--dtype", "float32")
    f32 = checked(tmp_path / "f32.onnx")
    assert all(t.data_type == onnx.TensorProto.FLOAT for t in f32.graph.initializer
               if t.data_type != onnx.TensorProto.INT64)
    x = np.random.default_rng(7).uniform(-1.0, 1.0, size=(4, 3, 8, 8))
    with torch.no_grad():
        reference = module(torch.from_numpy(x)).numpy()
    err = relative_error(evaluate_onnx(f32, x.astype(np.float32)), reference)
    print(f"float32 export vs the float64 torch module {err:.2e}")
    assert err <= TOLERANCE["float32"]


def test_the_evaluator_is_not_fooled_by_a_wrong_file(tmp_path):
    """The evaluator is a real check: a file whose Softplus lost its β rewrite gives other numbers."""
    model = fluxion.build_model(SOFTPLUS_NET, 7)
    fluxion.save_model(model, tmp_path / "model.safetensors")
    fluxion_export(tmp_path / "model.safetensors", tmp_path / "model.onnx")
    broken = onnx.load(str(tmp_path / "model.onnx"))
    for t in broken.graph.initializer:
        if t.name.startswith("softplus_beta"):
            t.CopyFrom(numpy_helper.from_array(np.array(1.0), t.name))  # β → 1: plain Softplus
    x = np.random.default_rng(8).uniform(0.0, 1.0, size=(3, 12))
    assert relative_error(evaluate_onnx(broken, x), model.predict(x)) > 1e-3


@pytest.mark.parametrize("beta", [None, 10.0])
def test_the_resnet_preset_exports_with_batchnorm_residual_additions_and_global_pooling(beta, tmp_path):
    """The residual BatchNorm preset, its running statistics moved off their initial values by one
    training-mode step (lr = 0, so only the statistics change), exported and evaluated independently.
    ONNX stores BatchNorm's ε in float32 (1e-5 → 9.99999975e-6); the file's 9 BatchNorms therefore
    normalise by √(σ² + ε') instead of √(σ² + ε), a relative change of |ε − ε'|/(2σ²) ≈ 1e-13/σ² each,
    so the bound here is 1e-11 instead of 1e-12 (measured: 6.5e-14 and 6.8e-14 smoothed)."""
    model = fluxion.build_model("resnet", 8)
    rng = np.random.default_rng(8)
    fluxion.train_step(model, rng.uniform(0.0, 1.0, size=(16, 1, 28, 28)), rng.integers(0, 10, size=16), lr=0.0)
    state = model.parameters()
    assert np.abs(state["1.running_mean"]).max() > 1e-3  # the statistics moved
    fluxion.save_model(model, tmp_path / "resnet.safetensors")
    flags = [] if beta is None else ["--smooth-beta", str(beta)]
    fluxion_export(tmp_path / "resnet.safetensors", tmp_path / "resnet.onnx", *flags)
    exported = checked(tmp_path / "resnet.onnx")
    ops = [n.op_type for n in exported.graph.node]
    assert ops.count("BatchNormalization") == 9 and ops.count("Add") == 3 and "GlobalAveragePool" in ops
    x = rng.uniform(0.0, 1.0, size=(3, 1, 28, 28))
    ours = (fluxion.smooth(model, beta) if beta is not None else model).predict(x)
    err = relative_error(evaluate_onnx(exported, x), ours)
    print(f"resnet (beta {beta}): independent evaluation vs Fluxion {err:.2e}")
    assert err <= 1e-11
