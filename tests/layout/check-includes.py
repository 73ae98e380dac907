#!/usr/bin/env python3
"""Checks that core/'s areas include only what core/layers.txt allows.

Reads every #include "..." of core/ and plugins/ (no compiler needed) and
fails, naming file:line, when
  - an area includes a header of an area its line in layers.txt does not name;
  - a core include is not spelled by its area ("net/conn.h"), except the
    shared "server.h" and "hashmap.h";
  - a plugin includes anything of core/ (plugins see only sdk/);
  - layers.txt names an area that is no folder, misses a folder, or has a cycle.
Usage: check-includes.py [SOURCE_ROOT] | --self-test
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SHARED = {"server.h", "hashmap.h"}


def read_layers(path):
    allowed, order = {}, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if ":" not in line:
                sys.exit(f"{path}:{n}: expected 'area: areas it may use'")
            area, uses = line.split(":", 1)
            area = area.strip()
            if area in allowed:
                sys.exit(f"{path}:{n}: {area} listed twice")
            allowed[area] = set(uses.split())
            order.append(area)
    return allowed, order


def find_cycle(allowed):
    state = {}

    def visit(a, path):
        state[a] = "open"
        for b in sorted(allowed.get(a, ())):
            if state.get(b) == "open":
                return path + [a, b]
            if b not in state:
                found = visit(b, path + [a])
                if found:
                    return found
        state[a] = "done"
        return None

    for a in sorted(allowed):
        if a not in state:
            found = visit(a, [])
            if found:
                return found
    return None


def includes(path):
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield n, m.group(1)


def self_test():
    """The check must fail on a tree that breaks each rule, and pass a clean one."""
    import subprocess
    import tempfile

    cases = {
        "clean": ("a:\nb: a\n", {"a/x.h": "", "b/y.c": '#include "a/x.h"\n#include "server.h"\n'}, 0),
        "upward include": ("a:\nb: a\n", {"a/x.c": '#include "b/y.h"\n', "b/y.c": ""}, 1),
        "bare include": ("a:\nb: a\n", {"a/x.c": '#include "x.h"\n', "b/y.c": ""}, 1),
        "cycle": ("a: b\nb: a\n", {"a/x.c": "", "b/y.c": ""}, 1),
        "folder without a line": ("a:\n", {"a/x.c": "", "b/y.c": ""}, 1),
        "plugin includes core": ("a:\n", {"a/x.c": "", "../plugins/p/p.c": '#include "a/x.h"\n'}, 1),
    }
    bad = 0
    for what, (table, files, want) in cases.items():
        with tempfile.TemporaryDirectory() as top:
            os.makedirs(os.path.join(top, "core"))
            with open(os.path.join(top, "core", "layers.txt"), "w") as f:
                f.write(table)
            for rel, text in files.items():
                path = os.path.normpath(os.path.join(top, "core", rel))
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
            rc = subprocess.run([sys.executable, __file__, top], capture_output=True).returncode
            if (rc != 0) != bool(want):
                print(f"self-test: {what}: exit {rc}, expected {'failure' if want else 'success'}", file=sys.stderr)
                bad += 1
    print(f"check-includes self-test: {len(cases) - bad} of {len(cases)} cases as expected")
    return 1 if bad else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    core = os.path.join(top, "core")
    layers = os.path.join(core, "layers.txt")
    allowed, order = read_layers(layers)
    errors = []
    folders = sorted(d for d in os.listdir(core) if os.path.isdir(os.path.join(core, d)))
    for d in folders:
        if d not in allowed:
            errors.append(f"{layers}: core/{d}/ has no line")
    for a in order:
        if a not in folders:
            errors.append(f"{layers}: {a} is no folder of core/")
        for b in allowed[a]:
            if b not in allowed:
                errors.append(f"{layers}: {a} may use {b}, which has no line")
    cycle = find_cycle(allowed)
    if cycle:
        errors.append(f"{layers}: the areas use each other in a circle: {' -> '.join(cycle)}")

    for area in folders:
        for name in sorted(os.listdir(os.path.join(core, area))):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(core, area, name)
            for n, inc in includes(path):
                where = f"core/{area}/{name}:{n}"
                if "/" not in inc:
                    if inc not in SHARED:
                        errors.append(f'{where}: "{inc}": spell a core header by its area ("{area}/{inc}")')
                    continue
                used = inc.split("/", 1)[0]
                if used != area and used in allowed and used not in allowed.get(area, ()):
                    errors.append(f'{where}: {area}/ may not use {used}/ ("{inc}"; core/layers.txt)')

    plugins = os.path.join(top, "plugins")
    for root, _, files in os.walk(plugins):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            for n, inc in includes(path):
                head = inc.split("/", 1)[0]
                if head in allowed or inc in {"server.h", "master.h"}:
                    errors.append(f'{os.path.relpath(path, top)}:{n}: "{inc}": plugins see only sdk/')

    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check-includes: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"check-includes: {len(folders)} areas of core/ and the plugins keep to core/layers.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
