#!/usr/bin/env python3
"""Fail the build when an #include reaches up (or sideways) across the layers.

    scripts/check_layers.py SOURCE_ROOT STAMP     (run by meson on every build)

The layers, bottom to top (meson.build builds one library per layer):

    autodiff          the engine: tensors, Var, rules, transforms
    nn, attribution   siblings on the engine; they never include each other
    experiments/lib   PNG, plots, the report (uses nn's atomic files)
    experiments       reproduce/ and cli/, on everything

A file may include its own layer and the layers this table allows; outside
libraries are confined the same way (libpng to the plots, JSON to nn and up,
CLI11 to the command line). One line per violation, naming file, line and
include; exit 1 if there is any, else the stamp is written.
"""
import os
import re
import sys

# layer folder -> the project folders its files may include
ALLOWED = {
    "autodiff": ["autodiff/"],
    "nn": ["autodiff/", "nn/"],
    "attribution": ["autodiff/", "attribution/"],
    "experiments/lib": ["autodiff/", "nn/", "experiments/lib/"],
    "experiments/reproduce": ["autodiff/", "nn/", "attribution/", "experiments/lib/", "experiments/reproduce/"],
    "experiments/cli": ["autodiff/", "nn/", "attribution/", "experiments/"],
}
# outside headers (prefix of the <...> name) -> the layers that may use them
OUTSIDE = {
    "png.h": ["experiments/lib"],
    "nlohmann/": ["nn", "experiments/lib", "experiments/reproduce", "experiments/cli"],
    "CLI/": ["experiments/cli"],
    "onnx/": ["nn"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(path):
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if path == layer or path.startswith(layer + "/"):
            return layer
    return None


def violations(root):
    found = []
    for layer in ALLOWED:
        for folder, _, names in os.walk(os.path.join(root, layer)):
            for name in sorted(names):
                if not name.endswith((".hpp", ".cpp", ".h", ".inc", ".def")):
                    continue
                full = os.path.join(folder, name)
                rel = os.path.relpath(full, root)
                if layer_of(rel) != layer:
                    continue  # a deeper layer's file (experiments/lib inside experiments)
                with open(full, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        kind, target = m.groups()
                        if kind == '"':
                            if "/" in target and not any(target.startswith(p) for p in ALLOWED[layer]):
                                found.append(f"{rel}:{number}: #include \"{target}\" reaches outside "
                                             f"layer {layer} (allowed: {', '.join(ALLOWED[layer])})")
                        else:
                            for prefix, users in OUTSIDE.items():
                                if target.startswith(prefix) and layer not in users:
                                    found.append(f"{rel}:{number}: #include <{target}> is not a dependency "
                                                 f"of layer {layer} (only of: {', '.join(users)})")
    return found


def main():
    if len(sys.argv) != 3:
        print("usage: check_layers.py SOURCE_ROOT STAMP", file=sys.stderr)
        return 2
    root, stamp = sys.argv[1], sys.argv[2]
    found = violations(root)
    for line in found:
        print("layer check: " + line, file=sys.stderr)
    if found:
        return 1
    with open(stamp, "w") as f:
        f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
