"""Which tools of inventory-0.56.yaml have at least one recorded case, per SDK.

Reads the inventory's `toolkits` (an item is a tool name, or {tool: note}; a note part
"py 0.56.0 only" / "ts 0.39.9 only" restricts it to one SDK) and the `method` of every case file
under cases-0.56/python and cases-0.56/typescript (`<toolkit>.<tool>`; agents.* and events are
not inventory tools and are listed apart).

Usage: python coverage_056.py [--inventory PATH] [--cases DIR]
       (default inventory: ../../../shared/reference/inventory-0.56.yaml from this folder)
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SDKS = {"python": ("py 0.56.0 only", "ts 0.39.9 only"), "typescript": ("ts 0.39.9 only", "py 0.56.0 only")}


def inventory_tools(path: Path) -> dict[str, list[str]]:
    inv = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {"python": [], "typescript": []}
    for toolkit, items in inv["toolkits"].items():
        for item in items:
            if isinstance(item, dict):
                ((tool, note),) = item.items()
            else:
                tool, note = item, ""
            parts = [p.strip() for p in str(note).split(";")]
            for sdk, (_, other_only) in SDKS.items():
                if other_only not in parts:
                    out[sdk].append(f"{toolkit}.{tool}")
    return out


def case_methods(folder: Path) -> Counter:
    methods: Counter = Counter()
    for f in sorted(folder.glob("*.yaml")):
        if f.name.startswith("_"):
            continue
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        methods[doc["method"]] += 1
    return methods


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inventory", type=Path,
                        default=HERE.parent.parent.parent / "shared" / "reference" / "inventory-0.56.yaml")
    parser.add_argument("--cases", type=Path, default=HERE.parent / "cases-0.56")
    args = parser.parse_args()

    tools = inventory_tools(args.inventory)
    for sdk in ("python", "typescript"):
        methods = case_methods(args.cases / sdk)
        wanted = tools[sdk]
        per_toolkit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        missing = []
        for t in wanted:
            tk = t.split(".", 1)[0]
            per_toolkit[tk][1] += 1
            if methods.get(t):
                per_toolkit[tk][0] += 1
            else:
                missing.append(t)
        covered = len(wanted) - len(missing)
        extra = sorted(m for m in methods if m not in wanted)
        print(f"{sdk}: {covered}/{len(wanted)} inventory tools have a case ({sum(methods.values())} cases)")
        print("  " + ", ".join(f"{tk} {c}/{n}" for tk, (c, n) in per_toolkit.items()))
        print(f"  missing ({len(missing)}): " + (", ".join(missing) if missing else "none"))
        print("  also recorded: " + ", ".join(f"{m} ({methods[m]})" for m in extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
