#!/usr/bin/python3
"""Fluxion on an ONNX file vs PyTorch on the same module, same threads, one run.

    PYTHONPATH=build/python benchmarks/onnx_vs_torch.py [--repeats 5] [--threads 2]

1. IG, 50 nodes, a residual CNN with BatchNorm on one 3×32×32 input: Fluxion
   reading the exported .onnx (fluxion.explain, float32, Gauss–Legendre nodes)
   vs Captum-style batched IG in PyTorch (the 50 scaled inputs in one batch,
   one forward and one backward, float32, Gauss–Legendre weights, as Captum's
   IntegratedGradients does by default). Goal: ratio Fluxion / PyTorch ≤ 0.5.
2. The full 768×768 input Hessian of the smoothed net (SoftPlus β = 10 for
   every ReLU) on a 3×16×16 input, float64: fluxion.interactions(method=
   "input_hessian") vs torch.autograd.functional.hessian(vectorize=True)
   (functorch's vmap-over-vjp; torch 1.13 ships no separate functorch).
   Goal: ratio ≤ 0.5.

Median of --repeats after one warm-up each; both sides use --threads threads
(torch.set_num_threads, OMP_NUM_THREADS for Fluxion set before import).
The two results are compared too (agreement is printed, not asserted).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

p = argparse.ArgumentParser()
p.add_argument("--repeats", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
args = p.parse_args()
os.environ["OMP_NUM_THREADS"] = str(args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import fluxion  # noqa: E402

torch.set_num_threads(args.threads)
nn, F = torch.nn, torch.nn.functional


class Block(nn.Module):
    def __init__(self, c, act):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.c2, self.b2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.act = act

    def forward(self, x):
        return self.act(x + self.b2(self.c2(self.act(self.b1(self.c1(x))))))


class ResNet(nn.Module):
    """stem 3→16, two residual blocks at 16, stride-2 conv to 32, a block at 32, global pool, 10 logits."""

    def __init__(self, act):
        super().__init__()
        self.stem, self.bn = nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
        self.blocks1 = nn.Sequential(Block(16, act), Block(16, act))
        self.down, self.bn2 = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32)
        self.block2 = Block(32, act)
        self.fc = nn.Linear(32, 10)
        self.act = act

    def forward(self, x):
        h = self.blocks1(self.act(self.bn(self.stem(x))))
        h = self.block2(self.act(self.bn2(self.down(h))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


class Softplus(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        return F.softplus(x, beta=self.beta, threshold=1e6)


def median_seconds(fn):
    fn()
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def gauss_legendre(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


def export(module, shape, path, dtype):
    module = module.to(dtype).eval()
    torch.onnx.export(module, torch.zeros((1,) + shape, dtype=dtype), path, opset_version=13, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})


torch.manual_seed(0)
tmp = tempfile.mkdtemp()

# ---- 1. IG, 50 nodes, 3×32×32, float32
relu_net = ResNet(nn.ReLU()).eval()
export(relu_net, (3, 32, 32), os.path.join(tmp, "resnet.onnx"), torch.float32)
model = fluxion.load_model(os.path.join(tmp, "resnet.onnx"))
x = np.random.default_rng(0).random((1, 3, 32, 32)).astype(np.float32)
alphas, weights = gauss_legendre(50)
xt = torch.tensor(x)


def torch_ig():
    scaled = (torch.tensor(alphas, dtype=torch.float32).view(-1, 1, 1, 1) * xt).requires_grad_(True)
    out = relu_net(scaled)[:, 3].sum()
    (g,) = torch.autograd.grad(out, scaled)
    return (torch.tensor(weights, dtype=torch.float32).view(-1, 1, 1, 1) * g).sum(0, keepdim=True) * xt


def fluxion_ig():
    return fluxion.explain(model, x, method="ig", target=3, steps=50)


t_torch, t_fluxion = median_seconds(torch_ig), median_seconds(fluxion_ig)
a_t, a_f = torch_ig().detach().numpy(), fluxion_ig()
print(f"IG 50 nodes, residual CNN 3x32x32, float32, {args.threads} threads: Fluxion {t_fluxion * 1e3:.1f} ms, "
      f"PyTorch {t_torch * 1e3:.1f} ms, ratio {t_fluxion / t_torch:.2f} (goal <= 0.5); "
      f"max |difference| / max |IG| = {np.abs(a_t - a_f).max() / np.abs(a_t).max():.1e}")

# ---- 2. full 768×768 input Hessian of the smoothed net, float64
smooth_net = ResNet(Softplus(10.0)).double().eval()
relu_twin = ResNet(nn.ReLU()).double().eval()
relu_twin.load_state_dict(smooth_net.state_dict())
export(relu_twin, (3, 16, 16), os.path.join(tmp, "resnet16.onnx"), torch.float64)
smooth = fluxion.smooth(fluxion.load_model(os.path.join(tmp, "resnet16.onnx")), 10.0)
x16 = np.random.default_rng(1).random((3, 16, 16))
x16t = torch.tensor(x16)


def torch_hessian():
    return torch.autograd.functional.hessian(lambda v: smooth_net(v.view(1, 3, 16, 16))[0, 3], x16t.view(-1),
                                             vectorize=True)


def fluxion_hessian():
    return fluxion.interactions(smooth, x16, method="input_hessian", target=3)


t_torch, t_fluxion = median_seconds(torch_hessian), median_seconds(fluxion_hessian)
H_t, H_f = torch_hessian().numpy(), fluxion_hessian()
print(f"input Hessian 768x768, smoothed residual CNN (beta 10), float64, {args.threads} threads: Fluxion "
      f"{t_fluxion:.2f} s, PyTorch {t_torch:.2f} s, ratio {t_fluxion / t_torch:.2f} (goal <= 0.5); "
      f"max |difference| / max |H| = {np.abs(H_t - H_f).max() / np.abs(H_t).max():.1e}")
sys.exit(0)
