#!/usr/bin/python3
"""Dataset-scale benchmarks of `fluxion explain` / `interactions` (issue 19).

    benchmarks/compare_dataset_scale.py --cnn results/models/cnn.safetensors \
        --mlp results/models/mlp.safetensors [--n 10000] [--ih-n 1000] [--threads 2]

1. IG, 50 Gauss-Legendre nodes, the first --n MNIST test images on the cnn:
   one `fluxion explain --dtype float32` call vs Captum-style batched IG in
   PyTorch (float32, batches of 64 images, all 64 x 50 path points in one
   forward/backward, as captum.attr.IntegratedGradients does without
   internal_batch_size), the same threads. Both explain the model's predicted
   class from a black baseline. The numbers are compared first (max |diff|
   on the first 64 images).
2. The same under `mpirun -n 2` with one thread per rank vs the one process
   of 1. (--threads threads; --skip-mpi to leave out); the two outputs'
   bytes are compared.
3. IH (smoothed mlp, --smooth-beta 10) row sums and top-k 10 for --ih-n test
   images: wall time and peak resident memory of the command.
Peak memory is the child's maximum resident set (/usr/bin/time -f %M).
Ratio = Fluxion / PyTorch: lower is better; the goal for 1. is <= 0.3. Both the wall-time and the CPU-time
ratio (user + system seconds of each side) are printed: on a shared machine the two halves can meet different
loads, and the CPU seconds are the steadier figure.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_pytorch import gauss_legendre_01, read_idx, read_safetensors, torch_model  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, env=None, cpu=False):
    """Wall seconds and peak RSS (MB) of a command (and, with cpu=True, its CPU seconds, user + system, as a
    third value); raises on failure."""
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-q", "-f", "%M %U %S", "-o", rss.name] + cmd, check=True, env=env,
                       stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        kb, user, system = rss.read().strip().splitlines()[-1].split()
    if cpu:
        return seconds, int(kb) / 1024.0, float(user) + float(system)
    return seconds, int(kb) / 1024.0


def torch_batched_ig(model, images, steps=50, batch=64):
    """Captum-style IG: per batch of images, every path point in one pass; Gauss-Legendre nodes on [0, 1]."""
    alphas, weights = gauss_legendre_01(steps)
    alphas = torch.tensor(alphas, dtype=torch.float32)
    weights = torch.tensor(weights, dtype=torch.float32)
    out = []
    for start in range(0, len(images), batch):
        x = images[start:start + batch]
        with torch.no_grad():
            target = model(x).argmax(1)
        b = x.shape[0]
        points = (alphas.view(-1, 1, 1, 1, 1) * x.unsqueeze(0)).reshape(steps * b, *x.shape[1:])
        points.requires_grad_(True)
        y = model(points).gather(1, target.repeat(steps).view(-1, 1)).sum()
        (grad,) = torch.autograd.grad(y, points)
        grad = grad.view(steps, b, *x.shape[1:])
        out.append((weights.view(-1, 1, 1, 1, 1) * grad).sum(0) * x)
    return torch.cat(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--cnn", required=True, help="a trained cnn preset (.safetensors, float32)")
    p.add_argument("--mlp", required=True, help="a trained mlp preset (.safetensors, float32)")
    p.add_argument("--mnist", default=os.path.join(REPO, "data", "mnist"))
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--ih-n", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-mpi", action="store_true")
    a = p.parse_args()
    fluxion = os.path.join(a.build, "experiments", "fluxion")
    idx = os.path.join(a.mnist, "t10k-images-idx3-ubyte")
    work = tempfile.mkdtemp(prefix="fluxion-scale-")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    torch.set_num_threads(a.threads)

    model = torch_model("cnn")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in read_safetensors(a.cnn).items()})
    model.eval()
    images = torch.from_numpy((read_idx(idx)[:a.n].astype(np.float32) / 255.0).reshape(-1, 1, 28, 28))

    # 1. check the numbers on 64 images, then time both sides on --n
    out = os.path.join(work, "ig.npy")
    ig_cmd = [fluxion, "explain", "--model", a.cnn, "--method", "ig", "--steps", "50", "--dtype", "float32",
              "--input", idx, "--quiet"]
    subprocess.run(ig_cmd + ["--out", out, "--limit", "64"], check=True, env=env, stdout=subprocess.DEVNULL)
    diff = np.abs(np.load(out) - torch_batched_ig(model, images[:64]).detach().numpy()).max()
    print(f"IG cnn: max |Fluxion - PyTorch| on 64 images = {diff:.2e}")
    f_s, f_mb, f_cpu = timed(ig_cmd + ["--out", out, "--limit", str(a.n)], env, cpu=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    torch_batched_ig(model, images)
    t_s, t_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    # On a shared machine the two halves can meet different loads; their CPU seconds are the steadier figure.
    print(f"| IG cnn, {a.n} images, float32, {a.threads} threads | Fluxion {f_s:.1f} s wall, {f_cpu:.1f} s CPU "
          f"({f_mb:.0f} MB) | PyTorch batched {t_s:.1f} s wall, {t_cpu:.1f} s CPU | ratio {f_s / t_s:.2f} wall, "
          f"{f_cpu / t_cpu:.2f} CPU | goal <= 0.3 |")

    # 2. two ranks of one thread vs one process of two threads
    if not a.skip_mpi:
        env1 = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        m_s, m_mb = timed(["mpirun", "--oversubscribe", "-n", "2", "-x", "OMP_NUM_THREADS"] + ig_cmd +
                          ["--limit", str(a.n), "--out", out + ".mpi.npy"], env1)
        same = open(out, "rb").read() == open(out + ".mpi.npy", "rb").read()
        print(f"| IG cnn, {a.n} images, mpirun -n 2 x 1 thread | {m_s:.1f} s | 1 process x {a.threads} threads {f_s:.1f} s "
              f"| ratio {m_s / f_s:.2f} | bytes identical: {same} |")

    # 3. IH row sums and top-k on the smoothed mlp
    for form in (["row-sums"], ["top-k", "10"]):
        ih_cmd = [fluxion, "interactions", "--model", a.mlp, "--method", "ih", "--smooth-beta", "10", "--dtype",
                  "float32", "--input", idx, "--limit", str(a.ih_n), "--quiet", "--out", os.path.join(work, "ih.npy"),
                  "--output-form"] + form
        s, mb = timed(ih_cmd, env)
        print(f"| IH smoothed mlp, {a.ih_n} images, --output-form {' '.join(form)} | {s:.1f} s | peak RSS {mb:.0f} MB "
              f"| output {os.path.getsize(os.path.join(work, 'ih.npy')) / 1e6:.2f} MB |")


if __name__ == "__main__":
    main()
