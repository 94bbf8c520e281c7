"""Run pip-audit (from the tools venv) on requirements.lock and judge the result.

Fails on any known vulnerability not listed, with its reason, in docs/pip-audit-ignore.txt.
Packages the vulnerability service could not be asked about are reported as NOT AUDITED (and fail
the run with AUDIT_STRICT=1): a silent "no known vulnerabilities" would be a lie.
Writes results/pip-audit.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE_FILE = ROOT / "docs" / "pip-audit-ignore.txt"
REPORT = ROOT / "results" / "pip-audit.json"


def ignored() -> dict[str, str]:
    """Vulnerability id -> reason, from lines "ID  reason" (# starts a comment)."""
    entries = {}
    for line in IGNORE_FILE.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            vuln_id, _, reason = line.partition(" ")
            if not reason.strip():
                sys.exit(f"{IGNORE_FILE.name}: {vuln_id} needs a reason")
            entries[vuln_id] = reason.strip()
    return entries


def main() -> int:
    """Audit, print a summary, return the exit code."""
    REPORT.parent.mkdir(exist_ok=True)
    tool = ROOT / ".venv-tools" / "bin" / "pip-audit"
    run = subprocess.run(
        [str(tool), "-r", str(ROOT / "requirements.lock"), "--no-deps", "--disable-pip",
         "--progress-spinner", "off", "--format", "json", "--output", str(REPORT)],
        capture_output=True, text=True,
    )
    if not REPORT.exists() or REPORT.stat().st_size == 0:
        print(run.stdout, run.stderr, file=sys.stderr)
        return run.returncode or 1
    dependencies = json.loads(REPORT.read_text())["dependencies"]
    skip = ignored()
    found, accepted, unaudited = [], [], []
    for dependency in dependencies:
        if dependency.get("skip_reason"):
            unaudited.append(dependency["name"])
        for vuln in dependency.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            entry = (dependency["name"], dependency["version"], vuln["id"], vuln.get("fix_versions", []))
            (accepted if ids & skip.keys() else found).append(entry)
    audited = len(dependencies) - len(unaudited)
    print(f"pip-audit: {audited} of {len(dependencies)} pinned packages audited, "
          f"{len(found)} open findings, {len(accepted)} explained in docs/pip-audit.md.")
    for name, version, vuln_id, fixes in found:
        print(f"  OPEN {name}=={version} {vuln_id} (fixed in {', '.join(fixes) or 'no release'})")
    if unaudited:
        print(f"  NOT AUDITED: {len(unaudited)} packages; the vulnerability service was not reachable "
              "(see docs/pip-audit.md).")
        if os.environ.get("AUDIT_STRICT") == "1":
            return 1
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
