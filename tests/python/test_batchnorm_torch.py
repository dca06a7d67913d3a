"""BatchNorm in training mode, residual blocks and the resnet preset against
PyTorch on the same batch (float64 throughout).

A net with Conv2d (grouped too) → BatchNorm2d → ReLU → … → AdaptiveAvgPool2d(1)
→ Flatten → Linear is built in torch, copied with fluxion.from_torch, and both
take three steps of plain gradient descent on the same batches
(fluxion.train_step vs loss.backward(); θ ← θ − η·∇θ). After each step the
loss, every parameter gradient and the running statistics agree to 1e-10
(relative to the largest reference entry). The resnet preset's residual
blocks are checked the same way against a torch module written to match it,
with its weights copied by name (torch's state_dict names are Fluxion's).

Skipped (counted as skipped) when python3-torch is missing.
"""
import json

import numpy as np
import pytest

import fluxion

torch = pytest.importorskip("torch")
nn = torch.nn

TOL = 1e-10
LR = 0.05


def relative(a, b, floor=1e-300):
    """max |a − b| / max(max |b|, floor)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), floor))


def batches(shape, labels, seed):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=shape), rng.integers(0, labels, size=shape[0])) for _ in range(3)]


def torch_step(module, x, y):
    """One step of plain gradient descent in training mode; returns the loss and gradients before the step."""
    module.train()
    module.zero_grad()
    loss = nn.functional.cross_entropy(module(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    grads = {name: p.grad.detach().numpy().copy() for name, p in module.named_parameters()}
    with torch.no_grad():
        for p in module.parameters():
            p -= LR * p.grad
    module.eval()
    return float(loss), grads


def compare_three_steps(module, model, shape, classes, seed):
    worst = {"loss": 0.0, "gradient": 0.0, "running": 0.0, "eval output": 0.0}
    for x, y in batches(shape, classes, seed):
        t_loss, t_grads = torch_step(module, x, y)
        f_loss, f_grads = fluxion.train_step(model, x, y, lr=LR)
        worst["loss"] = max(worst["loss"], abs(f_loss - t_loss) / abs(t_loss))
        assert set(f_grads) == set(t_grads)
        # A conv bias right before a BatchNorm has gradient 0 exactly (the mean is subtracted), so both
        # sides hold rounding noise there: gradients are compared relative to the largest of this step.
        scale = max(float(np.max(np.abs(g))) for g in t_grads.values())
        for name, g in t_grads.items():
            worst["gradient"] = max(worst["gradient"], relative(f_grads[name], g, floor=scale))
        state = model.parameters()
        for name, b in module.named_buffers():
            if name.endswith("num_batches_tracked"):
                continue
            worst["running"] = max(worst["running"], relative(state[name], b.detach().numpy()))
        for name, p in module.named_parameters():  # the updated weights, too
            worst["gradient"] = max(worst["gradient"], relative(state[name], p.detach().numpy()))
    # eval mode: the running statistics normalise
    x = np.random.default_rng(seed + 1).normal(size=shape)
    with torch.no_grad():
        expected = module.eval()(torch.from_numpy(x)).numpy()
    worst["eval output"] = relative(model.predict(x), expected)
    return worst


def test_batchnorm_training_three_steps_match_torch():
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, bias=False), nn.BatchNorm2d(6, eps=1e-3, momentum=0.2),
        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3)).double()
    # non-trivial affine parameters and running statistics to start from
    with torch.no_grad():
        for m in module:
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    example = np.zeros((1, 2, 6, 6))
    model = fluxion.from_torch(module, example)
    worst = compare_three_steps(module, model, (5, 2, 6, 6), 3, seed=3)
    print("batchnorm vs torch, worst relative differences:", worst)
    for what, value in worst.items():
        assert value <= TOL, (what, value)


class BasicBlock(nn.Module):
    """The resnet preset's block: y = body(x) + shortcut(x), body = conv-bn-relu-conv-bn."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Sequential() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class GlobalAvgPool(nn.Module):
    """AdaptiveAvgPool2d(1) and Flatten as one layer, as Fluxion's global_avgpool2d (so the indices match)."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


def torch_resnet():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        BasicBlock(16, 16, 1), nn.ReLU(), BasicBlock(16, 32, 2), nn.ReLU(), BasicBlock(32, 64, 2), nn.ReLU(),
        GlobalAvgPool(), nn.Linear(64, 10)).double()


def test_resnet_preset_matches_torch_module_of_the_same_shape():
    model = fluxion.build_model("resnet", seed=4)
    module = torch_resnet()
    state = model.parameters()
    torch_state = module.state_dict()
    names = {k for k in torch_state if not k.endswith("num_batches_tracked")}
    assert names == set(state), sorted(names ^ set(state))
    module.load_state_dict({k: torch.from_numpy(np.array(state[k])) if k in state else v
                            for k, v in torch_state.items()})
    worst = compare_three_steps(module, model, (4, 1, 28, 28), 10, seed=5)
    print("resnet vs torch, worst relative differences:", worst)
    for what, value in worst.items():
        assert value <= TOL, (what, value)


def test_train_step_refuses_bad_input_in_one_sentence():
    model = fluxion.build_model(json.dumps({"input_shape": [4], "layers": [{"type": "linear", "in": 4, "out": 2}]}))
    with pytest.raises(fluxion.ArgumentError, match="3 examples but 2 labels"):
        fluxion.train_step(model, np.zeros((3, 4)), [0, 1], lr=0.1)
    with pytest.raises(fluxion.ArgumentError, match="label 5 is not below the 2 classes"):
        fluxion.train_step(model, np.zeros((1, 4)), [5], lr=0.1)
    # plain gradient descent by value: a linear model's cross-entropy gradient is (softmax − onehot) xᵀ / N
    x = np.array([[1.0, 2.0, -1.0, 0.5]])
    before = model.parameters()
    loss, grads = fluxion.train_step(model, x, [1], lr=0.1)
    z = before["0.weight"] @ x[0] + before["0.bias"]
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert abs(loss - (-np.log(p[1]))) <= 1e-14
    delta = p - np.array([0.0, 1.0])
    assert relative(grads["0.weight"], np.outer(delta, x[0])) <= 1e-14
    assert relative(model.parameters()["0.weight"], before["0.weight"] - 0.1 * np.outer(delta, x[0])) <= 1e-14
