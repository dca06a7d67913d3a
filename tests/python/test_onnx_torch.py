"""ONNX models exported by PyTorch (torch.onnx.export), explained by Fluxion and
checked against PyTorch's own autograd on the same float64 module:
outputs, input gradients and Hessian-vector products to 1e-10.

Three models (the issue's): a residual CNN with BatchNorm, a grouped-convolution
net (groups, strides, dilation, asymmetric Pad, Elu/LeakyReLU, Avg/MaxPool with
ceil_mode) and an MLP with GELU (exported as Erf arithmetic). ReLU nets have a
zero Hessian almost everywhere, so their HVPs are checked on the smoothed net:
fluxion.smooth(model, β) against the torch module with every ReLU replaced by
SoftPlus(β) (threshold off, so it is the exact function). The CLI reads the
same .onnx file and its saliency and input Hessian are checked against torch too.

Skipped (counted as skipped) when python3-torch or python3-onnx is missing.
"""
import os
import subprocess

import numpy as np
import pytest

import fluxion

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
nn = torch.nn
F = torch.nn.functional

BUILD = os.environ.get("FLUXION_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
FLUXION_TOOL = os.path.join(BUILD, "experiments", "fluxion")
TOL = 1e-10  # relative to the largest reference entry, float64 throughout

torch.set_default_dtype(torch.float64)


class Act(nn.Module):
    """ReLU, or SoftPlus(β) = ln(1 + e^{βx})/β without torch's linear cut-off."""

    def __init__(self, beta=None):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        return F.relu(x) if self.beta is None else F.softplus(x, beta=self.beta, threshold=1e6)


class ResidualCNN(nn.Module):
    """stem conv+BN, one residual block (conv-BN-act-conv-BN, + skip), a strided conv, global average pool, linear."""

    def __init__(self, beta=None):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(8)
        self.c1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, 10)
        self.act = Act(beta)

    def forward(self, x):
        h = self.act(self.bn0(self.stem(x)))
        r = self.bn2(self.c2(self.act(self.bn1(self.c1(h)))))
        h = self.act(h + r)
        h = self.act(self.down(h))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


class GroupedNet(nn.Module):
    """asymmetric Pad, grouped strided conv, dilated depthwise conv, ceil-mode pools, Elu and LeakyReLU.

    ONNX stores float attributes (Elu's α, LeakyRelu's slope) in float32, so they are chosen exactly
    representable (0.75, 0.125): with α = 0.7 the file would hold 0.699999988 and differ from the
    float64 module by 1e-8, a property of the format, not of either evaluator."""

    def __init__(self):
        super().__init__()
        self.g1 = nn.Conv2d(4, 8, 3, stride=2, groups=2)
        self.g2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8)
        self.fc = nn.Linear(8 * 2 * 2, 6)

    def forward(self, x):
        x = F.pad(x, (1, 0, 2, 1))
        h = F.elu(self.g1(x), alpha=0.75)
        h = F.avg_pool2d(h, 2, stride=2, ceil_mode=True, count_include_pad=False)
        h = F.leaky_relu(self.g2(h), 0.125)
        h = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
        return self.fc(torch.flatten(h, 1))


class GeluMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(20, 32)
        self.l2 = nn.Linear(32, 32)
        self.l3 = nn.Linear(32, 5)

    def forward(self, x):
        return self.l3(F.gelu(self.l2(F.gelu(self.l1(x)))))


def randomise_batchnorm(module, seed):
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(0.3 * torch.randn(m.num_features, generator=g))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
            m.weight.data.copy_(1 + 0.2 * torch.randn(m.num_features, generator=g))
            m.bias.data.copy_(0.1 * torch.randn(m.num_features, generator=g))


def export(module, example_shape, path, opset=13):
    module.eval()
    x = torch.zeros((1,) + example_shape)
    # PRESERVE (with the module in eval mode) keeps BatchNormalization nodes: EVAL would fold them into the convolutions
    torch.onnx.export(module, x, path, opset_version=opset, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      input_names=["x"], output_names=["logits"], dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
    onnx.checker.check_model(onnx.load(path))
    return path


def torch_gradient(module, x, target):
    xt = torch.tensor(x, requires_grad=True)
    module(xt)[:, target].sum().backward()
    return xt.grad.numpy()


def torch_hvp(module, x_one, target, v):
    """H v of logit `target` at one example (double backward)."""
    xt = torch.tensor(x_one[None], requires_grad=True)
    (g,) = torch.autograd.grad(module(xt)[0, target], xt, create_graph=True)
    (hv,) = torch.autograd.grad((g * torch.tensor(v[None])).sum(), xt)
    return hv[0].numpy()


def assert_close(ours, ref, tol=TOL):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape
    scale = max(np.abs(ref).max(), 1e-300)
    err = np.abs(ours - ref).max() / scale
    assert err <= tol, f"max relative error {err:.3e} > {tol:.0e}"
    return err


def signed_gradient(model, x, target):
    """∇f(x) from fluxion: gradient_x_input / x (x has no zeros here)."""
    return fluxion.explain(model, x, method="gradient_x_input", target=target) / x


MODELS = {
    "residual_cnn_bn": (lambda: ResidualCNN(), (3, 8, 8), 1),
    "grouped_conv": (lambda: GroupedNet(), (4, 11, 11), 2),
    "gelu_mlp": (lambda: GeluMLP(), (20,), 3),
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = {}
    for name, (make, shape, seed) in MODELS.items():
        torch.manual_seed(seed)
        module = make()
        randomise_batchnorm(module, seed)
        module.eval()
        path = str(tmp_path_factory.mktemp(name) / f"{name}.onnx")
        out[name] = (module, shape, export(module, shape, path))
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_outputs_and_input_gradients_agree_with_pytorch(exported, name):
    module, shape, path = exported[name]
    model = fluxion.load_model(path)
    assert model.is_graph and tuple(model.input_shape) == shape
    rng = np.random.default_rng(7)
    x = rng.uniform(0.1, 1.0, size=(4,) + shape) * rng.choice([-1.0, 1.0], size=(4,) + shape)
    with torch.no_grad():
        ref = module(torch.tensor(x)).numpy()
    assert_close(model.predict(x), ref)
    for target in (0, 1):
        assert_close(signed_gradient(model, x, [target] * 4), torch_gradient(module, x, target))


def test_residual_cnn_keeps_its_batchnorm_nodes(exported):
    _, _, path = exported["residual_cnn_bn"]
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert "BatchNormalization" in ops and "Add" in ops and "GlobalAveragePool" in ops


@pytest.mark.parametrize("name", ["grouped_conv", "gelu_mlp"])
def test_hessian_vector_products_agree_with_pytorch(exported, name):
    module, shape, path = exported[name]
    model = fluxion.load_model(path)
    rng = np.random.default_rng(11)
    x = rng.uniform(0.1, 1.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    H = fluxion.interactions(model, x, method="input_hessian", target=1)
    d = x.size
    assert H.shape == (d, d)
    for k in range(3):
        v = rng.standard_normal(shape)
        assert_close(H @ v.reshape(-1), torch_hvp(module, x, 1, v).reshape(-1))


def test_smoothed_residual_cnn_hessian_agrees_with_softplus_torch(exported, tmp_path):
    beta = 5.0
    _, shape, path = exported["residual_cnn_bn"]
    torch.manual_seed(MODELS["residual_cnn_bn"][2])
    smooth_torch = ResidualCNN(beta=beta)
    randomise_batchnorm(smooth_torch, MODELS["residual_cnn_bn"][2])
    smooth_torch.eval()
    smooth = fluxion.smooth(fluxion.load_model(path), beta)
    rng = np.random.default_rng(13)
    x = rng.uniform(0.1, 1.0, size=shape)
    with torch.no_grad():
        assert_close(smooth.predict(x[None]), smooth_torch(torch.tensor(x[None])).numpy())
    H = fluxion.interactions(smooth, x, method="input_hessian", target=2)
    for k in range(3):
        v = rng.standard_normal(shape)
        assert_close(H @ v.reshape(-1), torch_hvp(smooth_torch, x, 2, v).reshape(-1))
    # the Hessian is symmetric to rounding (exact second derivatives)
    assert np.abs(H - H.T).max() <= 1e-12 * np.abs(H).max()


def test_the_cli_explains_the_onnx_file(exported, tmp_path):
    module, shape, path = exported["gelu_mlp"]
    rng = np.random.default_rng(17)
    x = rng.uniform(0.1, 1.0, size=(3,) + shape)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "sal.npy"
    subprocess.run([FLUXION_TOOL, "explain", "--model", path, "--method", "saliency", "--input", str(tmp_path / "x.npy"),
                    "--target", "4", "--out", str(out)], check=True, capture_output=True)
    assert_close(np.load(out), np.abs(torch_gradient(module, x, 4)))
    hess = tmp_path / "h.npy"
    subprocess.run([FLUXION_TOOL, "interactions", "--model", path, "--method", "input_hessian", "--input",
                    str(tmp_path / "x.npy"), "--target", "0", "--out", str(hess)], check=True, capture_output=True)
    H = np.load(hess)
    assert H.shape == (3, 20, 20)
    v = rng.standard_normal(shape)
    assert_close(H[1] @ v, torch_hvp(module, x[1], 0, v))
    # IG2's representation layer by name: an unknown value is one sentence, exit 1
    bad = subprocess.run([FLUXION_TOOL, "explain", "--model", path, "--method", "ig2", "--input", str(tmp_path / "x.npy"),
                          "--references", str(tmp_path / "x.npy"), "--target", "1", "--representation", "no_such_value",
                          "--out", str(tmp_path / "ig2.npy")], capture_output=True, text=True)
    assert bad.returncode == 1 and "no value of the graph is named 'no_such_value'" in bad.stderr


def test_an_onnx_model_refuses_what_only_fluxion_models_have(exported):
    _, _, path = exported["gelu_mlp"]
    model = fluxion.load_model(path)
    with pytest.raises(ValueError, match="is an ONNX model"):
        model.description
    assert set(model.parameters()) >= {"l1.weight", "l1.bias", "l3.weight"}
