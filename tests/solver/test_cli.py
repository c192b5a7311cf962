"""`python -m solver` through a real subprocess: exit codes, messages, no tracebacks."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
INSTANCE = EXAMPLES / "instance.json"


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "solver", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def assert_bad_input(completed: subprocess.CompletedProcess, *fragments: str) -> None:
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""
    for fragment in fragments:
        assert fragment in completed.stderr


def test_solve_prints_the_result_json():
    completed = run("solve", str(INSTANCE), "--time-limit", "5", "--workers", "1")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["status"] == "optimal"
    assert result["placed"] == {"emergency": 2, "urgent": 2, "planned": 0}


def test_documented_example_result_is_what_solve_gives():
    """docs/examples/result.json is the answer docs/matcher.md shows; keep it true."""
    completed = run("solve", str(INSTANCE))
    documented = json.loads((EXAMPLES / "result.json").read_text())
    solved = json.loads(completed.stdout)
    for result in (documented, solved):
        result.pop("solve_seconds")
    assert solved == documented


def test_check_ok_and_violations(tmp_path):
    completed = run("check", str(INSTANCE), str(EXAMPLES / "result.json"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("ok: 7 referrals")

    result = json.loads((EXAMPLES / "result.json").read_text())
    result["placed"]["planned"] = 5
    result["assignments"][0]["home"] = "prairie"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(result))
    completed = run("check", str(INSTANCE), str(bad))
    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    assert "placed.planned: says 5, assignments place 0" in lines
    assert any(line.startswith("referral r1 in prairie: jurisdiction") for line in lines)
    assert "Traceback" not in completed.stderr


def test_malformed_instance_names_the_field(tmp_path):
    data = json.loads(INSTANCE.read_text())
    data["referrals"][2]["urgency"] = "whenever"
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(data))
    assert_bad_input(run("solve", str(path)), "referrals[2].urgency", "'whenever' is not one of")
    assert_bad_input(run("check", str(path), str(EXAMPLES / "result.json")), "referrals[2].urgency")


@pytest.mark.parametrize("content, message", [
    ("{\"version\": 1,", "invalid JSON"),
    ("", "invalid JSON"),
    ("[1, 2]", "instance: must be an object"),
    ("\ufeff\x00\xff", "invalid JSON"),
])
def test_bad_json_exits_2(tmp_path, content, message):
    path = tmp_path / "instance.json"
    path.write_text(content)
    assert_bad_input(run("solve", str(path)), message)


def test_unreadable_files_exit_2(tmp_path):
    assert_bad_input(run("solve", str(tmp_path / "missing.json")), "cannot read")
    assert_bad_input(run("solve", str(tmp_path)), "cannot read")  # a directory
    not_utf8 = tmp_path / "latin1.json"
    not_utf8.write_bytes(b'{"version": "\xe9"}')
    assert_bad_input(run("solve", str(not_utf8)), "not UTF-8")
    assert_bad_input(run("check", str(INSTANCE), str(tmp_path / "missing.json")), "cannot read")


def test_result_that_is_not_an_object_exits_2(tmp_path):
    path = tmp_path / "result.json"
    path.write_text("[]")
    assert_bad_input(run("check", str(INSTANCE), str(path)), "must be a JSON object")


@pytest.mark.parametrize("args", [
    ("solve",), ("solve", str(INSTANCE), "--time-limit", "0"), ("solve", str(INSTANCE), "--time-limit", "abc"),
    ("solve", str(INSTANCE), "--workers", "0"), ("bench", "--only", "galaxy"), ("fly",), (),
])
def test_bad_usage_exits_2(args):
    completed = run(*args)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr and "usage:" in completed.stderr


def test_solver_cli_imports_no_flask_or_database_code():
    code = (
        "import sys, io, contextlib\n"
        "from solver.__main__ import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): rc = main(['solve', {str(INSTANCE)!r}])\n"
        "banned = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'sqlmodel', 'placement', 'alembic', 'werkzeug'))\n"
        "print(rc, banned)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                               timeout=120)
    assert completed.stdout.strip() == "0 []", completed.stderr


def test_solve_exits_without_waiting_for_a_starved_lookahead(tmp_path):
    """The process ends once the answer is out, though the lookahead's LP (on its own
    lowest-priority thread, which `solve` does not wait for) has not ended: here it never
    does, and a process that joined the thread at exit would never end."""
    path = tmp_path / "state.json"
    code = (
        "import json, runpy, sys, threading\n"
        "from unittest import mock\n"
        "from solver.bench import generate\n"
        "from solver.engine import Lookahead\n"
        "from solver.instance import instance_to_json\n"
        f"json.dump(instance_to_json(generate('state')), open({str(path)!r}, 'w'))\n"
        "def starved(self, k, floors):\n"
        "    print('lookahead started', file=sys.stderr, flush=True)\n"
        "    threading.Event().wait()\n"
        f"sys.argv = ['solver', 'solve', {str(path)!r}]\n"
        "with mock.patch.multiple('solver.engine', LP_PAIRS=1, MIP_PAIRS=1, LOOKAHEAD_PATIENCE=0.05), \\\n"
        "        mock.patch.object(Lookahead, '_solve', starved):\n"
        "    runpy.run_module('solver', run_name='__main__', alter_sys=True)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "lookahead started" in completed.stderr
    assert json.loads(completed.stdout)["status"] == "optimal"


def test_bench_state_runs_and_beats_greedy():
    completed = run("bench", "--json", "--only", "state", "--workers", "1", timeout=300)
    assert completed.returncode == 0, completed.stderr
    (row,) = json.loads(completed.stdout)
    assert row["instance"] == "state" and row["homes"] == 60 and row["referrals"] == 200
    assert row["never_fewer"] is True and row["checker_violations"] == 0
    assert 250 <= row["open_beds"] <= 350
