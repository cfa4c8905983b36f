"""Instruction counts per call, libkasko C against the floor, under callgrind.

Called by `bench/run --profile` (which builds the peers and starts nginx):

    profile.py --work DIR --nginx URL

For each of GET and POST (BENCH_PROFILE_OPS="get post"), each peer's loop
runs twice under valgrind --tool=callgrind, collecting only inside its
per-call function (op_get, op_post): once with CALLS_A views and once with
CALLS_B; the difference divided by CALLS_B - CALLS_A is the steady-state cost
of one call (connection set-up, first-call initialisation and the exit path
cancel out). valgrind 3.19 cannot read the DWARF 5 of the Swift runtime, so
libkasko is profiled from a copy without debug info (symbols remain).

Prints: instructions per call for both peers, the split by shared object
(self cost), the top inclusive cost centres inside libkasko, and the top
self-cost functions of the libkasko loop. Swift names are demangled with
swift-demangle when it is on PATH. BENCH_PROFILE_KEEP=DIR keeps a copy of
every callgrind output there (for callgrind_annotate --tree=caller).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from typing import Dict, Tuple

CALLS_A = int(os.environ.get("BENCH_PROFILE_CALLS_A", "500"))
CALLS_B = int(os.environ.get("BENCH_PROFILE_CALLS_B", "2500"))
TOP = int(os.environ.get("BENCH_PROFILE_TOP", "15"))

PUBLIC_KEY = "pk_test_2jngq6d7GRmxQ58w0yVKW3PBrJXbEvoM"
SECRET_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcBench000"
PAYMENT_ID = "t84223322f013e2287210b6295010fc6d"
REQUEST = json.dumps({"token": "ptok_benchmarkbenchmarkbenchmark00", "provider": "invoice",
                      "method": "invoice", "policy_id": "tpol_b1fc636ad446d6cb7144cfb31cae"})

LINE = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*?)(?: \[(.*)\])?\s*$")


def annotate(path: str, inclusive: bool) -> Dict[Tuple[str, str], int]:
    out = subprocess.run(
        ["callgrind_annotate", "--auto=no", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", path],
        check=True, capture_output=True, text=True).stdout
    costs: Dict[Tuple[str, str], int] = {}
    for line in out.splitlines():
        match = LINE.match(line)
        if not match or match.group(2) == "PROGRAM TOTALS":
            continue
        function = match.group(2).split(":", 1)[-1] if match.group(2).startswith(("???:", "/", ".")) else match.group(2)
        obj = os.path.basename(match.group(3) or "?")
        key = (function, obj)
        costs[key] = costs.get(key, 0) + int(match.group(1).replace(",", ""))
    return costs


def run(work: str, program: str, op: str, calls: int, base: str, env: Dict[str, str]) -> str:
    fresh = ".fresh" if env.get("BENCH_FLOOR_FRESH_POST") == "1" else ""
    out = os.path.join(work, f"callgrind.{program}{fresh}.{op}.{calls}")
    if not os.path.exists(out):
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--collect-atstart=no",
             f"--toggle-collect=op_{op}", os.path.join(work, program), "serve", base, PUBLIC_KEY, SECRET_KEY,
             PAYMENT_ID, REQUEST],
            input=f"{op} {calls}\nquit\n", env=env, check=True, capture_output=True, text=True)
    keep = os.environ.get("BENCH_PROFILE_KEEP")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(out, keep)
    return out


def per_call(work: str, program: str, op: str, base: str, env: Dict[str, str],
             inclusive: bool) -> Dict[Tuple[str, str], float]:
    a = annotate(run(work, program, op, CALLS_A, base, env), inclusive)
    b = annotate(run(work, program, op, CALLS_B, base, env), inclusive)
    n = CALLS_B - CALLS_A
    return {key: (b.get(key, 0) - a.get(key, 0)) / n for key in set(a) | set(b)}


def demangle(names: list) -> list:
    tool = shutil.which("swift-demangle")
    if tool is None:
        return names
    out = subprocess.run([tool, "--simplified"], input="\n".join(names), capture_output=True, text=True).stdout
    lines = out.splitlines()
    return lines if len(lines) == len(names) else names


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--nginx", required=True)
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        print("profile: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    nodebug = os.path.join(args.work, "nodebug")
    os.makedirs(nodebug, exist_ok=True)
    subprocess.run(["objcopy", "--strip-debug", os.path.join(args.work, "lib", "libkasko.so.1"),
                    os.path.join(nodebug, "libkasko.so.1")], check=True)
    env = dict(os.environ, LD_LIBRARY_PATH=nodebug)

    for op in os.environ.get("BENCH_PROFILE_OPS", "get post").split():
        report(args.work, args.nginx, env, op)
    return 0


def report(work: str, base: str, env: Dict[str, str], op: str) -> None:
    floor_self = per_call(work, "floor", op, base, env, inclusive=False)
    lib_self = per_call(work, "kasko_loop", op, base, env, inclusive=False)
    lib_incl = per_call(work, "kasko_loop", op, base, env, inclusive=True)

    floor_total = sum(floor_self.values())
    lib_total = sum(lib_self.values())
    print(f"\ncallgrind, {op.upper()} against nginx, steady state ({CALLS_B} - {CALLS_A} calls), "
          f"user-space instructions per call:")
    print(f"  floor (libcurl direct)  {floor_total:>10,.0f}")
    if op == "post":
        fresh = sum(per_call(work, "floor", op, base, dict(env, BENCH_FLOOR_FRESH_POST="1"), inclusive=False).values())
        print(f"  floor, new connection   {fresh:>10,.0f}   (CURLOPT_FRESH_CONNECT on every create, for comparison)")
    print(f"  libkasko C              {lib_total:>10,.0f}   ({lib_total / floor_total:.2f} x floor, "
          f"+{lib_total - floor_total:,.0f})")

    def by_object(costs: Dict[Tuple[str, str], float]) -> Dict[str, float]:
        objects: Dict[str, float] = {}
        for (_, obj), cost in costs.items():
            objects[obj] = objects.get(obj, 0) + cost
        return objects

    f_obj, l_obj = by_object(floor_self), by_object(lib_self)
    print("\n  self cost by shared object        floor   libkasko C")
    for obj in sorted(set(f_obj) | set(l_obj), key=lambda o: -(l_obj.get(o, 0))):
        if max(f_obj.get(obj, 0), l_obj.get(obj, 0)) >= 50:
            print(f"  {obj:<30} {f_obj.get(obj, 0):>9,.0f} {l_obj.get(obj, 0):>12,.0f}")

    inside = sorted(((cost, name) for (name, obj), cost in lib_incl.items()
                     if obj.startswith("libkasko") and cost > 0), reverse=True)[:TOP]
    names = demangle([name for _, name in inside])
    print(f"\n  top {TOP} inclusive cost centres inside libkasko (instructions per call, % of the call):")
    for (cost, _), name in zip(inside, names):
        print(f"  {cost:>9,.0f} {100 * cost / lib_total:5.1f}%  {name[:150]}")

    hot = sorted(((cost, name, obj) for (name, obj), cost in lib_self.items() if cost > 0), reverse=True)[:TOP]
    names = demangle([name for _, name, _ in hot])
    print(f"\n  top {TOP} self-cost functions of the libkasko loop (instructions per call):")
    for (cost, _, obj), name in zip(hot, names):
        print(f"  {cost:>9,.0f} {100 * cost / lib_total:5.1f}%  {name[:110]}  [{obj}]")


if __name__ == "__main__":
    sys.exit(main())
