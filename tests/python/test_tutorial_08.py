"""Tutorial 8 (docs/08-python.md): its program's output is the block the
tutorial shows, its IG equals the C++ tutorial 3 program's to the last
printed digit, and its identities hold."""
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
BUILD = os.environ.get("FLUXION_BUILD_DIR", os.path.join(ROOT, "build"))


def run_tutorial():
    return subprocess.run([sys.executable, os.path.join(ROOT, "docs", "examples", "08_python.py")], check=True,
                          capture_output=True, text=True, env=dict(os.environ)).stdout


def numbers(text):
    return {m.group(1).strip(): float(m.group(2)) for m in re.finditer(r"^(.*?) = ([-+0-9.e]+)$", text, re.M)}


def test_the_printed_block_is_the_programs_output():
    doc = open(os.path.join(ROOT, "docs", "08-python.md"), encoding="utf-8").read()
    block = doc.split("## What the program prints")[1].split("```text\n")[1].split("```")[0]
    assert block == run_tutorial()


def test_ig_is_the_cpp_tutorials_ig(tmp_path):
    cpp = subprocess.run([os.path.join(BUILD, "docs", "examples", "tutorial_03_integrated_gradients"), str(tmp_path)],
                         check=True, capture_output=True, text=True).stdout
    cpp_numbers, py_numbers = numbers(cpp), numbers(run_tutorial())
    for i in range(4):
        assert py_numbers[f"ig feature_{i}"] == cpp_numbers[f"ig gauss_legendre_64 feature_{i}"]
    assert py_numbers["ig sum"] == cpp_numbers["ig gauss_legendre_64 sum"]


def test_the_identities_hold():
    n = numbers(run_tutorial())
    assert abs(n["ig convergence_delta"]) < 1e-12
    assert n["check completeness"] < 1e-12
    assert abs(n["ih sum"] - n["ih output_change"]) < 1e-11
    assert n["ih symmetry_gap"] < 1e-15
    assert n["ih row_sums_minus_ig"] < 1e-12
