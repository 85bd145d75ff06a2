"""How many cases schemathesis sent to each operation, from the lines test_openapi_fuzz.py appends
to COMPANION_TEST_FUZZ_CALLS: printed by scripts/test-python.sh after the fuzzing run, which fails
when an operation was hardly exercised, so a hook or a setting that starves the fuzzing is seen.

    python -m tests.service.fuzz_calls artifacts/fuzz-calls.jsonl --examples 300
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from companion.api.openapi import build_spec


def without_input() -> set[str]:
    """Operations that take no parameter and no body: hypothesis stops once it has seen their
    only shape (about 10 cases)."""
    return {
        f"{method.upper()} {path}"
        for path, operations in build_spec()["paths"].items()
        for method, operation in operations.items()
        if not operation.get("parameters") and not operation.get("requestBody")
    }


def operation_of(test_name: str) -> str:
    return test_name[test_name.index("[") + 1 : test_name.rindex("]")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("calls", type=Path)
    parser.add_argument("--examples", type=int, required=True)
    args = parser.parse_args(argv)
    calls: dict[str, int] = {}
    no_input = without_input()
    for line in args.calls.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        calls[operation_of(row["operation"])] = row["calls"]
    if not calls:
        print("fuzzing: no operation was called", file=sys.stderr)
        return 1
    counted = sorted(v for k, v in calls.items() if k not in no_input)
    print(
        f"fuzzing: {sum(calls.values()):,} cases over {len(calls)} operations; "
        f"per operation with input: min {counted[0]:,}, median {statistics.median(counted):,.0f}, "
        f"max {counted[-1]:,}"
    )
    starved = {k: v for k, v in calls.items() if k not in no_input and v < args.examples}
    for operation, count in sorted(starved.items()):
        print(f"  {operation}: {count} cases, fewer than {args.examples}", file=sys.stderr)
    return 1 if starved else 0


if __name__ == "__main__":
    sys.exit(main())
