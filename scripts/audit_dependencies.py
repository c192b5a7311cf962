"""Check SafeBed's installed dependencies for known vulnerabilities with pip-audit.

Audits what `pip install .` brings in (the runtime dependency closure of the
installed `safebed` distribution, at the installed versions), not every package
that happens to be on the machine, and asks PyPI's advisory data (pip-audit's
default service) about each pinned version.

Exit status: 0 when no known vulnerability is found (or each one found is listed
in IGNORED with a reason); 1 when one is found; 2 when the advisory service
could not be asked about some package and SAFEBED_REQUIRE_PIP_AUDIT=1 is set.
Without that variable an unreachable service is a loud warning, not a failure:
some sandboxes reach PyPI's package index but not its per-release JSON, and the
test command must still run there.
"""
from __future__ import annotations

import json
import os
import subprocess  # nosec B404  # runs pip-audit with fixed arguments
import sys
import tempfile
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Vulnerability id -> why it does not apply to SafeBed. Keep empty unless a fix is impossible.
IGNORED: dict[str, str] = {}


def runtime_closure(root: str = "safebed") -> dict[str, str]:
    """Installed name -> version of `root` and everything its runtime requirements pull in."""
    found: dict[str, str] = {}
    pending = [root]
    while pending:
        name = canonicalize_name(pending.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement whose marker did not apply here
        found[name] = dist.version
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    found.pop(canonicalize_name(root))  # the project itself is not on PyPI
    return found


def main() -> int:
    pins = runtime_closure()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
        requirements = handle.name
    command = [sys.executable, "-m", "pip_audit", "--requirement", requirements, "--no-deps", "--disable-pip",
               "--format", "json", "--progress-spinner", "off"]
    for vuln_id in IGNORED:
        command += ["--ignore-vuln", vuln_id]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # nosec B603
    finally:
        os.unlink(requirements)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout + result.stderr, file=sys.stderr)
        print("pip-audit did not produce a report", file=sys.stderr)
        return 1
    dependencies = report["dependencies"]
    vulnerable = [(d["name"], d["version"], v) for d in dependencies for v in d.get("vulns", [])]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    for name, version, vuln in vulnerable:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
        print(f"VULNERABLE {name} {version}: {vuln['id']} ({', '.join(vuln.get('aliases') or [])}); fixed in {fixes}")
    for vuln_id, reason in IGNORED.items():
        print(f"ignored {vuln_id}: {reason}")
    print(f"pip-audit: {len(pins)} runtime dependencies, {audited} audited, {len(vulnerable)} known vulnerabilities")
    if vulnerable:
        return 1
    if skipped:
        print(f"WARNING: NOT AUDITED ({len(skipped)}): the advisory service did not answer for "
              f"{', '.join(sorted(d['name'] for d in skipped))}; first reason: {skipped[0]['skip_reason']}")
        if os.environ.get("SAFEBED_REQUIRE_PIP_AUDIT") == "1":
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
