"""Mutation score of the modules that decide: how many small wrong changes the tests notice.

For each decision module, every mutation site of the whole file is listed (operators below), a seeded
random sample of them is drawn, and each sampled mutant runs the tests that exercise that module in a
subprocess of its own, where an import hook serves the mutated source in place of the module's file
(the working tree is never written). A mutant is *killed* when those tests fail (or time out, or the
mutated module no longer imports), *survived* when they pass. Mutants a person has shown to be
equivalent (no behaviour can tell them apart from the original) are listed in `EQUIVALENT` with the
reason and left out of the score:

    score = killed / (mutants - equivalent)

Operators (one change per mutant; `ast`, so comments and formatting do not count):
- comparison: < <=, > >= swapped for their boundary twin and for their mirror (< to >), == !=, in / not in,
  is / is not;
- arithmetic: + -, * /, // to /, ** to *, % to *, & |, also in augmented assignments (x += 1);
- constant: a number n to n + 1 and n - 1; True / False;
- boolean: `not x` to `x`, `-x` to `x`, `~x` to `x`, `and` / `or`, and the condition of every if,
  while, conditional expression and comprehension filter negated;
- return value: `return x` to `return None`.
Not mutated (text, not decisions): docstrings and other strings, f-strings, type annotations,
decorators and `assert` statements.

    .venv/bin/python scripts/mutation_score.py                 # every module, 40 mutants each, seed 0
    .venv/bin/python scripts/mutation_score.py --module matching/demand.py --sample 0   # all of one file
    .venv/bin/python scripts/mutation_score.py --list matching/exposure.py             # sites, no runs

This is a benchmark (BENCHMARKS.md, "Mutation score"), not part of `make test`: it runs the tests
hundreds of times.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module file -> the tests that exercise it (the new decision tests first: they fail fast)
MODULES: dict[str, list[str]] = {
    "matching/demand.py": ["tests/matching/test_demand_decisions.py", "tests/matching/test_demand.py",
                           "tests/matching/test_sales.py"],
    "matching/sales.py": ["tests/matching/test_sales_decisions.py", "tests/matching/test_sales.py"],
    "matching/exposure.py": ["tests/matching/test_exposure_decisions.py", "tests/matching/test_demand.py"],
    "app/services/interest.py": ["tests/app/test_interest_decisions.py", "tests/app/test_interest_flow.py",
                                 "tests/app/test_preorder_concurrency.py"],
    "matching/allocation/heuristic.py": ["tests/matching/test_allocation_decisions.py",
                                         "tests/matching/test_allocation.py"],
    "matching/allocation/problem.py": ["tests/matching/test_allocation_decisions.py",
                                       "tests/matching/test_allocation.py"],
    "matching/factories/constraints.py": ["tests/matching/test_factory_decisions.py",
                                          "tests/matching/test_interest_and_constraints.py",
                                          "tests/matching/test_allocation.py", "tests/matching/test_capability.py"],
    "matching/factories/shortlist.py": ["tests/matching/test_factory_decisions.py",
                                        "tests/matching/test_capability.py"],
    "generation/trends/rising.py": ["tests/generation/test_rising_decisions.py", "tests/generation/test_trends.py",
                                    "tests/generation/test_forecast.py"],
    "generation/language/extract.py": ["tests/generation/test_language_decisions.py",
                                       "tests/generation/test_language.py"],
    "generation/language/lexicon.py": ["tests/generation/test_language_decisions.py",
                                       "tests/generation/test_language.py"],
    "generation/language/series.py": ["tests/generation/test_language_decisions.py",
                                      "tests/generation/test_language.py"],
    "app/lifecycle.py": ["tests/app/test_lifecycle_decisions.py", "tests/app/test_lifecycle.py"],
}
# tests that exercise none of the modules above and are slow (the real MiniLM)
DESELECT = ["tests/matching/test_capability.py::test_minilm_puts_the_factories_that_make_a_design_first"]

# Mutants shown equivalent by hand: module -> {mutant key: why no behaviour can tell it apart}.
EQUIVALENT: dict[str, dict[str, str]] = {
    "matching/sales.py": {
        "neighbour_relative: if sims.size == 0: :: 0 [0 -> -1]":
            "no neighbours: the next check (w.sum() <= 0) returns the same (0.0, 0.0)",
        "top_k: if len(items) == 0 or len(queries) == 0: :: 0 [0 -> -1]":
            "no items: numpy computes the same empty (q, 0) arrays without the early return",
        "top_k: idx = np.argpartition(-sims, kk - 1, axis=1)[:, :kk] # (q, kk), unordered :: 1 [1 -> 2]":
            "numpy's introselect leaves the kk largest first for kth = kk - 2 too (no difference in 24,000 "
            "random trials, n up to 200)",
    },
    "matching/allocation/heuristic.py": {
        "_dive: take = good[sub.lane_design] & (lane_x > 0) :: lane_x > 0 [> -> >=]":
            "also taking lanes at 0 writes 0 pieces and takes 0 capacity",
        "_dive: take = good[sub.lane_design] & (lane_x > 0) :: 0 [0 -> -1]":
            "lane quantities are whole and never negative: > -1 is >= 0, which writes 0 pieces on unused lanes",
        "_greedy_fill: room = min(int(p.capacity[f] - load[f]), int(p.lane_upper[i] - x[i]), left) :: "
        "p.lane_upper[i] - x[i] [- -> +]":
            "never the smallest: capacity - load <= capacity - x and left <= quantity - x, so "
            "min(capacity - load, left) <= min(capacity, quantity) - x = upper - x",
        "_greedy_fill: if room <= 0 or (x[i] == 0 and room < p.lane_moq[i]): :: room <= 0 [<= -> <]":
            "room is never negative; at room 0 the lane gets 0 more pieces",
        "_greedy_fill: if room <= 0 or (x[i] == 0 and room < p.lane_moq[i]): :: 0 [0 -> -1]":
            "room is never negative; at room 0 the lane gets 0 more pieces",
    },
    "app/services/interest.py": {
        "place_preorder: if design.committed >= (design.production_threshold or 0): :: 0 [0 -> -1]":
            "committed is never negative (orders add at least their MOQ, a cancel takes back only what its order "
            "added): for a design without a threshold, committed >= -1 and committed >= 0 are both true",
        "evaluate: if design.committed >= (design.production_threshold or 0): :: 0 [0 -> -1]":
            "committed is never negative: as above",
    },
    "matching/factories/shortlist.py": {
        "shortlist: cheapest = float(table.price_index[positions[kept]].min()) if kept.any() else 1.0 :: "
        "1.0 [1.0 -> 2.0]": "with no factory kept the cheapest price index is never used (no row is scored)",
        "shortlist: cheapest = float(table.price_index[positions[kept]].min()) if kept.any() else 1.0 :: "
        "1.0 [1.0 -> 0.0]": "with no factory kept the cheapest price index is never used (no row is scored)",
    },
    "generation/language/lexicon.py": {
        "TermIndex.__init__: self.prefixes = {k[:n] for k in self.terms for n in range(1, len(k) + 1)} :: "
        "1 [1 -> 0]": "adds the empty prefix, which lookup never asks for (a key holds at least one token)",
        "TermIndex.__init__: self.prefixes = {k[:n] for k in self.terms for n in range(1, len(k) + 1)} :: "
        "1 [1 -> 2] #2": "k[:len(k) + 1] is k: the same set of prefixes",
        "TermIndex.tokens: if len(low) != len(text): # NFKC changed the length (rare ligatures): offsets from the "
        "normalised text :: if len(low) != len(text): # NFKC changed the length (rare ligatures): offsets from the "
        "normalised text [negate condition]": "dead code: `text` is not read after this assignment (offsets come "
                                              "from `low` either way)",
        "TermIndex.tokens: if len(low) != len(text): # NFKC changed the length (rare ligatures): offsets from the "
        "normalised text :: len(low) != len(text) [!= -> ==]": "dead code, as above",
    },
}

_COMPARE: dict[type, list[type]] = {
    ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.GtE], ast.Gt: [ast.GtE, ast.Lt], ast.GtE: [ast.Gt, ast.LtE],
    ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.In: [ast.NotIn], ast.NotIn: [ast.In],
    ast.Is: [ast.IsNot], ast.IsNot: [ast.Is],
}
_BINOP: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.Pow: ast.Mult, ast.Mod: ast.Mult, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
           ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
           ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|",
           ast.And: "and", ast.Or: "or"}


@dataclass(frozen=True)
class Mutant:
    """One change at one site: `index` is the site's position in the walk, `variant` which change."""

    module: str
    index: int
    variant: int
    line: int
    scope: str  # the enclosing function or class
    context: str  # the source line the site starts on
    before: str  # the site's code
    change: str  # what was changed, in words
    occurrence: int = 1  # the n-th mutant with the same scope, line, code and change

    @property
    def key(self) -> str:
        """Stable across edits elsewhere in the file (no line number): scope, line, code and change."""
        return (f"{self.scope}: {self.context} :: {self.before} [{self.change}]"
                + (f" #{self.occurrence}" if self.occurrence > 1 else ""))


def _variants(node: ast.AST) -> list[tuple[str, object]]:
    """(description, payload) of each change this node allows."""
    out: list[tuple[str, object]] = []
    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            for new in _COMPARE.get(type(op), []):
                out.append((f"{_SYMBOL[type(op)]} -> {_SYMBOL[new]}", ("cmp", k, new)))
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOP:
        new = _BINOP[type(node.op)]
        out.append((f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new]}", ("binop", new)))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        out += [(f"{node.value!r} -> {node.value + 1!r}", ("const", node.value + 1)),
                (f"{node.value!r} -> {node.value - 1!r}", ("const", node.value - 1))]
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        out.append((f"{node.value} -> {not node.value}", ("const", not node.value)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.Invert)):
        sym = {ast.Not: "not", ast.USub: "-", ast.Invert: "~"}[type(node.op)]
        out.append((f"drop unary {sym}", ("unary",)))
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append((f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new]}", ("boolop", new)))
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        out.append(("negate condition", ("negate",)))
    elif isinstance(node, ast.comprehension) and node.ifs:
        out.append(("negate comprehension filter", ("negate_ifs",)))
    elif isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        out.append(("return None", ("return",)))
    return out


def _sites(tree: ast.Module) -> Iterator[tuple[ast.AST, str, Callable[[ast.AST], None]]]:
    """Every node with its scope and a function that replaces it in its parent, in a fixed order,
    skipping text and typing (module docstring)."""

    def visit(node: ast.AST, scope: str, put: Callable[[ast.AST], None]) -> Iterator[tuple[ast.AST, str, Callable[[ast.AST], None]]]:
        if isinstance(node, (ast.JoinedStr, ast.Assert)):
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = node.name if scope == "<module>" else f"{scope}.{node.name}"
        yield node, scope, put
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "decorator_list", "type_comment"):
                continue
            if isinstance(value, list):
                for k, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        yield from visit(child, scope, lambda new, lst=value, k=k: lst.__setitem__(k, new))
            elif isinstance(value, ast.AST):
                yield from visit(value, scope, lambda new, parent=node, name=name: setattr(parent, name, new))

    yield from visit(tree, "<module>", lambda new: None)


def list_mutants(module: str, source: str) -> list[Mutant]:
    tree = ast.parse(source)
    lines = source.splitlines()
    out: list[Mutant] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for index, (node, scope, _) in enumerate(_sites(tree)):
        for variant, (change, _) in enumerate(_variants(node)):
            seg = ast.get_source_segment(source, node) or ast.unparse(node)
            before = " ".join(seg.split("\n")[0].split())[:120]
            line = getattr(node, "lineno", None) or getattr(getattr(node, "target", None), "lineno", 0)
            context = " ".join(lines[line - 1].split())[:160] if line else ""
            n = seen[scope, context, before, change] = seen.get((scope, context, before, change), 0) + 1
            out.append(Mutant(module, index, variant, line, scope, context, before, change, n))
    return out


def mutated_source(source: str, index: int, variant: int) -> str:
    """`source` with one change applied (unparsed by `ast`; index -1 = no change)."""
    tree = ast.parse(source)
    if index >= 0:
        node, _, put = next(n for k, n in enumerate(_sites(tree)) if k == index)
        _apply(node, _variants(node)[variant][1], put)
    return ast.unparse(ast.fix_missing_locations(tree))


def _apply(node: ast.AST, payload: object, put: Callable[[ast.AST], None]) -> None:
    kind, *args = payload  # type: ignore[misc]
    if kind == "cmp":
        node.ops[args[0]] = args[1]()  # type: ignore[attr-defined]
    elif kind in ("binop", "boolop"):
        node.op = args[0]()  # type: ignore[attr-defined]
    elif kind == "const":
        node.value = args[0]  # type: ignore[attr-defined]
    elif kind == "unary":  # `not x` -> `x`
        put(node.operand)  # type: ignore[attr-defined]
    elif kind == "negate":
        node.test = ast.UnaryOp(ast.Not(), node.test)  # type: ignore[attr-defined]
    elif kind == "negate_ifs":
        node.ifs = [ast.UnaryOp(ast.Not(), ast.BoolOp(ast.And(), node.ifs) if len(node.ifs) > 1 else node.ifs[0])]  # type: ignore[attr-defined]
    elif kind == "return":
        node.value = ast.Constant(None)  # type: ignore[attr-defined]


# Runs in the subprocess: serve the mutated source for one module, then run pytest.
BOOT = r"""
import importlib.abc, importlib.util, sys
sys.dont_write_bytecode = True
name, path, mutated, *args = sys.argv[1:]
src = open(mutated).read()
class Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        exec(compile(src, path, "exec"), module.__dict__)
class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, target_path=None, target=None):
        if fullname == name:
            return importlib.util.spec_from_file_location(fullname, path, loader=Loader())
        return None
sys.meta_path.insert(0, Finder())
import pytest
sys.exit(pytest.main(args))
"""


EXCLUDE: list[str] = []  # test files left out (--exclude-tests), e.g. to score the suite before new tests


def run_tests(module: str, source: str, timeout: float) -> tuple[str, float, str]:
    """('killed' | 'survived' | 'timeout', seconds, last output line) of the module's tests on `source`."""
    name = module[:-3].replace("/", ".")
    tests = [t for t in MODULES[module] if (ROOT / t).exists() and not any(x in t for x in EXCLUDE)]
    args = [*tests, "-x", "-q", "-p", "no:cacheprovider", "-W", "ignore", *[f"--deselect={d}" for d in DESELECT]]
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(source)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", BOOT, name, str(ROOT / module), fh.name, *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=timeout)
        verdict = "survived" if proc.returncode == 0 else "killed"
        tail = (proc.stdout.strip().splitlines() or [""])[-1]
    except subprocess.TimeoutExpired:
        verdict, tail = "timeout", f"over {timeout:.0f} s"
    finally:
        os.unlink(fh.name)
    return verdict, time.perf_counter() - t0, tail


@dataclass
class Result:
    mutant: Mutant
    verdict: str  # killed | survived | timeout | equivalent
    seconds: float
    note: str


def score_module(module: str, sample: int, seed: int, jobs: int, log: bool = True) -> dict:
    source = (ROOT / module).read_text()  # read once: others may be editing the file meanwhile
    mutants = list_mutants(module, source)
    chosen = sorted(random.Random(f"{seed}:{module}").sample(mutants, sample) if 0 < sample < len(mutants)
                    else mutants, key=lambda m: (m.index, m.variant))
    verdict, base_s, tail = run_tests(module, mutated_source(source, -1, 0), timeout=1800)
    if verdict != "survived":
        raise SystemExit(f"{module}: the tests fail on the unmutated (unparsed) module: {tail}")
    timeout = 3 * base_s + 15
    equivalent = EQUIVALENT.get(module, {})

    def one(m: Mutant) -> Result:
        if m.key in equivalent:
            return Result(m, "equivalent", 0.0, equivalent[m.key])
        v, s, t = run_tests(module, mutated_source(source, m.index, m.variant), timeout)
        if log:
            print(f"  {v:9s} {s:5.1f}s  L{m.line} {m.key}", flush=True)
        return Result(m, v, s, t)

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        results = list(pool.map(one, chosen))
    n = len(results)
    killed = sum(r.verdict in ("killed", "timeout") for r in results)
    eq = sum(r.verdict == "equivalent" for r in results)
    survived = [r for r in results if r.verdict == "survived"]
    return {"module": module, "sites": len(mutants), "mutants": n, "killed": killed,
            "timeouts": sum(r.verdict == "timeout" for r in results), "survived": len(survived),
            "equivalent": eq, "score": round(killed / (n - eq), 3) if n > eq else None,
            "baseline_s": round(base_s, 1),
            "survivors": [{**asdict(r.mutant), "key": r.mutant.key} for r in survived],
            "equivalents": [{"key": r.mutant.key, "why": r.note} for r in results if r.verdict == "equivalent"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", action="append", help="a module file (repeatable); default: every one in MODULES")
    ap.add_argument("--sample", type=int, default=40, help="mutants per module, drawn at random (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants run at once")
    ap.add_argument("--json", type=Path, help="write the results (with every survivor) here")
    ap.add_argument("--list", metavar="MODULE", help="print every mutant of MODULE and exit")
    ap.add_argument("--exclude-tests", action="append", default=[], metavar="TEXT",
                    help="leave out test files whose path contains TEXT (repeatable)")
    a = ap.parse_args()
    EXCLUDE.extend(a.exclude_tests)
    if a.list:
        for m in list_mutants(a.list, (ROOT / a.list).read_text()):
            print(f"{m.index}.{m.variant}\tL{m.line}\t{m.key}")
        return
    modules = a.module or list(MODULES)
    for m in modules:
        if m not in MODULES:
            raise SystemExit(f"unknown module {m!r}; known: {', '.join(MODULES)}")
    rows = []
    for m in modules:
        print(f"{m}: tests {' '.join(MODULES[m])}", flush=True)
        rows.append(score_module(m, a.sample, a.seed, a.jobs))
        r = rows[-1]
        print(f"{m}: {r['killed']}/{r['mutants'] - r['equivalent']} killed, score {r['score']}", flush=True)
        if a.json:  # after each module, so an interrupted run keeps what it measured
            a.json.write_text(json.dumps({"seed": a.seed, "sample": a.sample, "rows": rows}, indent=1))
    print("\n| module | sites | mutants | killed | survived | equivalent | score |\n| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['module']} | {r['sites']} | {r['mutants']} | {r['killed']} | {r['survived']} | "
              f"{r['equivalent']} | {r['score']:.2f} |" if r["score"] is not None else f"| {r['module']} | ... |")


if __name__ == "__main__":
    main()
