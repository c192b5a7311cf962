"""Command line: `python -m solver solve|check|bench` (see docs/matcher.md).

Exit codes: 0 success; 1 `check` found violations (or `bench` saw CP-SAT place fewer
children than greedy, or an invalid answer); 2 bad usage or bad input (unreadable file,
invalid JSON, malformed instance: the message names the field). Bad input never
produces a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NoReturn

from .instance import InstanceError, Instance, parse_instance

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT = 0, 1, 2


class BadInput(Exception):
    """Input the command cannot use; the message is shown as is, with exit code 2."""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _instances(text: str) -> tuple[str, ...]:
    from .bench import INSTANCES

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in INSTANCES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(INSTANCES)}")
    return names


def read_json(path: str) -> Any:
    """The JSON in `path`; `BadInput` when it cannot be read or parsed."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as error:
        raise BadInput(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise BadInput(f"{path}: invalid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise BadInput(f"{path}: invalid JSON: nested too deeply") from None


def read_instance(path: str) -> Instance:
    """The instance in `path`; `BadInput` naming the field when it is malformed."""
    try:
        return parse_instance(read_json(path))
    except InstanceError as error:
        raise BadInput(f"{path}: invalid instance: {error.field}: {error.message}") from None


def command_solve(args: argparse.Namespace) -> int:
    from .engine import solve
    from .result import result_to_json

    result = solve(read_instance(args.instance), time_limit=args.time_limit, workers=args.workers)
    json.dump(result_to_json(result), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


def command_check(args: argparse.Namespace) -> int:
    from .checker import check

    instance = read_instance(args.instance)
    result = read_json(args.result)
    if not isinstance(result, dict):
        raise BadInput(f"{args.result}: the result must be a JSON object")
    violations = check(instance, result)
    for violation in violations:
        print(violation)
    if violations:
        print(f"{len(violations)} violation{'s' if len(violations) > 1 else ''}", file=sys.stderr)
        return EXIT_VIOLATIONS
    print(f"ok: {len(instance.referrals)} referrals, no hard rule broken, counts right")
    return EXIT_OK


def command_bench(args: argparse.Namespace) -> int:
    from .bench import run, table

    rows = run(args.only, workers=args.workers)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(table(rows))
    good = all(r["never_fewer"] and not r["checker_violations"] for r in rows)
    if not args.json:
        print("CP-SAT never places fewer children than greedy, tier by tier: "
              + ("yes" if all(r["never_fewer"] for r in rows) else "NO"))
    return EXIT_OK if good else EXIT_VIOLATIONS


def parser() -> argparse.ArgumentParser:
    """The `python -m solver` argument parser."""
    main = argparse.ArgumentParser(prog="python -m solver", description="SafeBed's placement matcher.")
    commands = main.add_subparsers(dest="command", required=True)

    solve = commands.add_parser("solve", help="print the result JSON for an instance")
    solve.add_argument("instance", help="instance JSON file (version 1)")
    solve.add_argument("--time-limit", type=_positive_float, default=10.0, metavar="SECONDS")
    solve.add_argument("--workers", type=_positive_int, default=2, metavar="N")
    solve.set_defaults(run=command_solve)

    check = commands.add_parser("check", help="validate a result against its instance")
    check.add_argument("instance", help="instance JSON file")
    check.add_argument("result", help="result JSON file")
    check.set_defaults(run=command_check)

    bench = commands.add_parser("bench", help="run the synthetic benchmark")
    bench.add_argument("--json", action="store_true", help="print the rows as JSON")
    bench.add_argument("--only", type=_instances, default=("state", "dense", "national", "stretch"),
                       metavar="NAMES", help="comma-separated: state,dense,national,stretch")
    bench.add_argument("--workers", type=_positive_int, default=2, metavar="N")
    bench.set_defaults(run=command_bench)
    return main


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except BadInput as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def exit_now(code: int) -> NoReturn:
    """End the process with `code` once its output is flushed, without waiting for threads.

    `solve` may return while the lookahead's LP still runs on its lowest-priority thread
    (`engine.Lookahead.close` does not wait for it), and the interpreter's exit joins every
    `ThreadPoolExecutor` thread: with a starved LP, the process ended 8.4 s after its answer
    was printed (docs/matcher.md, 29 November 2026). Nothing is left to do by then."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
