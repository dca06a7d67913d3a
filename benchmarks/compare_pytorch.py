#!/usr/bin/python3
"""Fluxion against PyTorch on the same weights, inputs and thread count.

    scripts/install-bench-deps.sh          # once: python3-torch, numpy, OpenBLAS
    benchmarks/compare_pytorch.py          # builds build/benchmarks/compare_tasks if needed

For each task the script first checks that both sides compute the same
numbers (max |Fluxion − PyTorch|), then times both and prints one markdown
table: task, Fluxion time, PyTorch time, ratio = Fluxion / PyTorch, goal.

The Fluxion side runs in a child process (benchmarks/compare_tasks.cpp) that
reads the weights and inputs this script writes into --workdir; both sides
use --threads threads (OMP_NUM_THREADS for Fluxion, torch.set_num_threads).
Weights: the trained presets in results/models/ when present, otherwise
PyTorch's default initialisation with seed 0 (timing does not depend on it).
Training data: MNIST from data/mnist/ (scripts/fetch-mnist.sh).
"""
import argparse
import datetime
import json
import os
import platform
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The presets' architecture descriptions (nn/models/architecture.cpp), as
# PyTorch modules with the same state_dict names.
PRESET_JSON = {
    "mlp": {"input_shape": [1, 28, 28], "layers": [
        {"type": "flatten"}, {"type": "linear", "in": 784, "out": 256}, {"type": "relu"},
        {"type": "linear", "in": 256, "out": 256}, {"type": "relu"},
        {"type": "linear", "in": 256, "out": 10}]},
    "cnn": {"input_shape": [1, 28, 28], "layers": [
        {"type": "conv2d", "in": 1, "out": 16, "kernel": 5, "stride": 1, "padding": 0}, {"type": "relu"},
        {"type": "maxpool2d", "kernel": 2, "stride": 2},
        {"type": "conv2d", "in": 16, "out": 32, "kernel": 5, "stride": 1, "padding": 0}, {"type": "relu"},
        {"type": "maxpool2d", "kernel": 2, "stride": 2}, {"type": "flatten"},
        {"type": "linear", "in": 512, "out": 128}, {"type": "relu"},
        {"type": "linear", "in": 128, "out": 10}]},
}


def torch_model(arch, activation=None):
    act = activation or nn.ReLU
    if arch == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), act(), nn.Linear(256, 256), act(),
                             nn.Linear(256, 10))
    return nn.Sequential(nn.Conv2d(1, 16, 5), act(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), act(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 128), act(), nn.Linear(128, 10))


# ---- files shared with the C++ side --------------------------------------

def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {entry['dtype']}, expected F32")
        a, b = entry["data_offsets"]
        tensors[name] = np.frombuffer(body[a:b], dtype="<f4").reshape(entry["shape"]).copy()
    return tensors


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(path + ".tmp", path)


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data[4 + 4 * dims:], dtype=np.uint8).reshape(shape)


def prepare_workdir(work, models_dir, mnist_dir):
    os.makedirs(work, exist_ok=True)
    models = {}
    for arch in ("mlp", "cnn"):
        model = torch_model(arch)
        trained = os.path.join(models_dir, arch + ".safetensors")
        if os.path.exists(trained):
            state = {k: torch.from_numpy(v) for k, v in read_safetensors(trained).items()}
            model.load_state_dict(state)
            source = trained
        else:
            torch.manual_seed(0)
            model = torch_model(arch)
            source = "PyTorch default init, seed 0"
        arch_json = dict(PRESET_JSON[arch], dtype="float32")
        write_safetensors(os.path.join(work, arch + ".safetensors"),
                          {k: v.detach().numpy() for k, v in model.state_dict().items()},
                          {"architecture": json.dumps(arch_json)})
        models[arch] = (model.eval(), source)

    images = read_idx(os.path.join(mnist_dir, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(mnist_dir, "train-labels-idx1-ubyte"))
    train_x = (images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    np.save(os.path.join(work, "train_images.npy"), train_x)
    np.save(os.path.join(work, "train_labels.npy"), labels.astype(np.float32))

    test = read_idx(os.path.join(mnist_dir, "t10k-images-idx3-ubyte"))
    test_labels = read_idx(os.path.join(mnist_dir, "t10k-labels-idx1-ubyte"))
    image = (test[:1].astype(np.float32) / 255.0).reshape(1, 1, 28, 28)
    np.save(os.path.join(work, "image.npy"), image)
    np.save(os.path.join(work, "target.npy"), np.array([test_labels[0]], dtype=np.float32))
    rng = np.random.default_rng(0)
    np.save(os.path.join(work, "hvp_v.npy"), rng.standard_normal((1, 1, 28, 28)).astype(np.float32))
    return models, torch.from_numpy(train_x), torch.from_numpy(labels.astype(np.int64)), \
        torch.from_numpy(image), int(test_labels[0])


def run_fluxion(args, task, *extra):
    exe = os.path.join(args.build, "benchmarks", "compare_tasks")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    out = subprocess.run([exe, task, "--workdir", args.workdir, "--repeats", str(args.repeats), *extra],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"compare_tasks {task} failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fluxion_array(args, name):
    return np.load(os.path.join(args.workdir, name))


def median_seconds(repeats, work):
    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def max_abs_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


# ---- the PyTorch side of each task -----------------------------------------

def torch_train_check(model, x, y):
    model = model.train()
    model.zero_grad()
    loss = F.cross_entropy(model(x[:64]), y[:64])
    loss.backward()
    flat = torch.cat([loss.detach().reshape(1)] + [p.grad.reshape(-1) for p in model.parameters()]).numpy()
    model.zero_grad()
    return flat


def torch_train_epoch(arch, state, x, y):
    model = torch_model(arch)
    model.load_state_dict(state)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    for b in range(0, x.shape[0], 64):
        index = order[b:b + 64]
        opt.zero_grad()
        loss = F.cross_entropy(model(x[index]), y[index])
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def gauss_legendre_01(n):
    nodes, weights = np.polynomial.legendre.leggauss(n)
    return (nodes + 1) / 2, weights / 2


def torch_ig(model, image, target, steps=50):
    """Captum's batched straight-line IG: one batch of all path points."""
    alphas, weights = gauss_legendre_01(steps)
    alphas = torch.tensor(alphas, dtype=torch.float32).view(-1, 1, 1, 1)
    weights = torch.tensor(weights, dtype=torch.float32).view(-1, 1, 1, 1)
    baseline = torch.zeros_like(image)

    def attribute():
        points = (baseline + alphas * (image - baseline)).requires_grad_(True)
        out = model(points)[:, target].sum()
        (grads,) = torch.autograd.grad(out, points)
        return (image - baseline) * (grads * weights).sum(0, keepdim=True)
    return attribute


def torch_ih_functorch(model, image, target, nodes, weights):
    """Γ = Σ_k w_k [t_k D H(p_k) D + diag(Δ ⊙ ∇f(p_k))], Hessians by vmap(jacfwd(jacrev))."""
    from functorch import grad, jacfwd, jacrev, vmap
    x = image.reshape(784)
    delta = x  # zero baseline
    t = torch.tensor(nodes, dtype=torch.float32)
    w = torch.tensor(weights, dtype=torch.float32)

    def f(v):
        return model(v.view(1, 1, 28, 28))[0, target]

    def attribute():
        points = t[:, None] * delta[None, :]
        hessians = vmap(jacfwd(jacrev(f)))(points)            # [K, 784, 784]
        grads = vmap(grad(f))(points)                          # [K, 784]
        h = torch.einsum("k,kij->ij", w * t, hessians)
        gamma = delta[:, None] * h * delta[None, :]
        return gamma + torch.diag(delta * (w[:, None] * grads).sum(0))
    return attribute


def torch_ih_loop(model, image, target, nodes, weights):
    """path_explain's PyTorch explainer: one double-backward per feature."""
    x = image.reshape(784)
    t = torch.tensor(nodes, dtype=torch.float32)
    w = torch.tensor(weights, dtype=torch.float32)

    def attribute():
        points = (t[:, None] * x[None, :]).requires_grad_(True)
        out = model(points.view(-1, 1, 28, 28))[:, target].sum()
        (grads,) = torch.autograd.grad(out, points, create_graph=True)
        rows = []
        for i in range(784):
            (row,) = torch.autograd.grad(grads[:, i].sum(), points, retain_graph=True)
            rows.append(((w * t)[:, None] * row).sum(0))
        h = torch.stack(rows)
        gamma = x[:, None] * h * x[None, :]
        return gamma + torch.diag(x * (w[:, None] * grads.detach()).sum(0))
    return attribute


def per_op_chain(x0, rounds=32):
    def chain():
        x = x0.clone().requires_grad_(True)
        y = x
        for _ in range(rounds):
            y = torch.tanh(y * y + y)
        y.sum().backward()
        return x.grad
    return chain


# ---- main -------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--workdir", default=os.path.join(REPO, "build", "compare-pytorch"))
    p.add_argument("--models", default=os.path.join(REPO, "results", "models"))
    p.add_argument("--mnist", default=os.environ.get("FLUXION_MNIST_DIR", os.path.join(REPO, "data", "mnist")))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--skip-training", action="store_true", help="skip the two one-epoch timings (the slowest part)")
    p.add_argument("--ih-loop", action="store_true", help="also time path_explain's per-feature loop (slow)")
    args = p.parse_args()

    if not os.path.exists(os.path.join(args.mnist, "train-images-idx3-ubyte")):
        subprocess.run(["bash", os.path.join(REPO, "scripts", "fetch-mnist.sh")], check=True,
                       env=dict(os.environ, FLUXION_MNIST_DIR=args.mnist))
    subprocess.run(["ninja", "-C", args.build, "benchmarks/compare_tasks"], check=True, stdout=subprocess.DEVNULL)
    torch.set_num_threads(args.threads)
    models, train_x, train_y, image, target = prepare_workdir(args.workdir, args.models, args.mnist)
    rows, checks, notes = [], [], []

    def row(task, fluxion_s, torch_s, goal):
        rows.append((task, fluxion_s, torch_s, fluxion_s / torch_s, goal))

    # 1. training: the same loss and gradients first, then one epoch each.
    for arch in ("mlp", "cnn"):
        flux = run_fluxion(args, "train-check", "--arch", arch)
        ours = fluxion_array(args, f"fluxion_train_check_{arch}.npy")
        theirs = torch_train_check(models[arch][0], train_x, train_y)
        checks.append((f"{arch} loss + parameter gradients, 64 images", max_abs_diff(ours, theirs)))
        models[arch][0].eval()
    if not args.skip_training:
        for arch in ("mlp", "cnn"):
            flux = run_fluxion(args, "train-epoch", "--arch", arch)
            state = models[arch][0].state_dict()
            row(f"training epoch, {arch}, batch 64, Adam", flux["seconds"],
                torch_train_epoch(arch, state, train_x, train_y), "≤ 0.8")

    # 2. Integrated Gradients, 50 Gauss–Legendre nodes, cnn.
    cnn = models["cnn"][0]
    flux = run_fluxion(args, "ig")
    ig = torch_ig(cnn, image, target)
    checks.append(("IG attributions, cnn", max_abs_diff(fluxion_array(args, "fluxion_ig.npy"), ig().detach().numpy())))
    row("IG, 50 GL nodes, 1 image, cnn", flux["seconds"], median_seconds(args.repeats, ig), "≤ 0.5")

    # 3. Full 784×784 Integrated Hessians of the softplus(β=10) mlp, 16 nodes.
    smooth_mlp = torch_model("mlp", activation=lambda: nn.Softplus(beta=10))
    smooth_mlp.load_state_dict(models["mlp"][0].state_dict())
    smooth_mlp.eval()
    flux = run_fluxion(args, "ih")
    rule = fluxion_array(args, "ih_rule.npy")
    ih = torch_ih_functorch(smooth_mlp, image, target, rule[0], rule[1])
    ours = fluxion_array(args, "fluxion_ih.npy")[0]
    theirs = ih().detach().numpy()
    checks.append(("IH 784×784 matrix, smoothed mlp (max |Γ| = %.3g)" % np.abs(theirs).max(),
                   max_abs_diff(ours, theirs)))
    row("IH 784×784, 16 nodes, vs functorch", flux["seconds"], median_seconds(args.repeats, ih), "≤ 0.5")
    notes.append("IH peak resident memory of the Fluxion process: %.0f MiB (goal ≤ 1024)"
                 % (flux["peak_rss_bytes"] / 2**20))
    if args.ih_loop:
        loop = torch_ih_loop(smooth_mlp, image, target, rule[0], rule[1])
        checks.append(("IH, path_explain loop vs functorch", max_abs_diff(loop().detach().numpy(), theirs)))
        row("IH 784×784, 16 nodes, vs per-feature loop", flux["seconds"], median_seconds(1, loop), "(report)")

    # 4. HVP / gradient on the cnn (one image, one logit).
    flux = run_fluxion(args, "hvp-grad")
    x = image.clone().requires_grad_(True)
    v = torch.from_numpy(fluxion_array(args, "hvp_v.npy"))

    def torch_grad():
        xx = image.clone().requires_grad_(True)
        return torch.autograd.grad(cnn(xx)[0, target], xx)[0]

    def torch_hvp():
        xx = image.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(cnn(xx)[0, target], xx, create_graph=True)
        return torch.autograd.grad((g * v).sum(), xx)[0]
    del x
    checks.append(("cnn input gradient", max_abs_diff(fluxion_array(args, "fluxion_grad.npy"), torch_grad().numpy())))
    checks.append(("cnn HVP (ReLU net: H v = 0 a.e.)",
                   max_abs_diff(fluxion_array(args, "fluxion_hvp.npy"), torch_hvp().numpy())))
    t_grad, t_hvp = median_seconds(args.repeats * 10, torch_grad), median_seconds(args.repeats * 10, torch_hvp)
    rows.append(("HVP time / gradient time, cnn", flux["ratio"], t_hvp / t_grad, None, "≤ 3 (Fluxion's own)"))

    # 5. per-op overhead: tanh(y ⊙ y + y) chains on [2, 2].
    flux = run_fluxion(args, "per-op")
    x0 = torch.tensor([[0.1, 0.2], [0.3, 0.4]])
    chain = per_op_chain(x0)
    checks.append(("per-op chain gradient", max_abs_diff(fluxion_array(args, "fluxion_per_op.npy"), chain().numpy())))
    t = median_seconds(args.repeats, lambda: [chain() for _ in range(100)]) / (100 * 32 * 3)
    row("per tiny op, forward + backward", flux["seconds_per_op"], t, "≤ 0.2")

    # 6. cnn forward + backward at batch 256 against Eigen's GEMM.
    flux = run_fluxion(args, "gflops")
    notes.append("cnn forward + backward, batch 256: %.1f GFLOP/s = %.0f%% of Eigen's GEMM (%.1f GFLOP/s, 1024³ float) "
                 "in the same process (goal ≥ 50%%)" % (flux["gflops"], 100 * flux["fraction"], flux["eigen_gemm_gflops"]))

    cnn_train = torch_model("cnn")
    cnn_train.load_state_dict(cnn.state_dict())
    xb, yb = train_x[:256], train_y[:256]

    def torch_step():
        cnn_train.zero_grad()
        F.cross_entropy(cnn_train(xb), yb).backward()
    row("cnn forward + backward, batch 256", flux["seconds"], median_seconds(args.repeats, torch_step), "(report)")

    # ---- the table -----------------------------------------------------------
    today = datetime.date.today().isoformat()
    print(f"## Fluxion vs PyTorch {torch.__version__}, {today}\n")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"threads: {args.threads}; float32; median of {args.repeats} runs.\n")
    print("| task | Fluxion | PyTorch | ratio | goal |")
    print("|---|---|---|---|---|")
    for task, ours, theirs, ratio, goal in rows:
        if ratio is None:  # a ratio of ratios
            print(f"| {task} | {ours:.2f} | {theirs:.2f} | — | {goal} |")
        else:
            print(f"| {task} | {fmt_time(ours)} | {fmt_time(theirs)} | {ratio:.2f} | {goal} |")
    print("\nAgreement checked before timing (max |Fluxion − PyTorch|):\n")
    for what, diff in checks:
        print(f"- {what}: {diff:.2e}")
    print()
    for n in notes:
        print(f"- {n}")
    print(f"- weights: mlp {models['mlp'][1]}; cnn {models['cnn'][1]}")


def fmt_time(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.2f} µs"


if __name__ == "__main__":
    sys.exit(main())
