"""The README's console examples, run in order on a copy of sample.db: every command exits as
shown and prints every line the README shows (a "…" stands for what the README leaves out; an
annotation after three spaces and "(" or "<-", and a "# comment" after a command, are the
README's own)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANNOTATION = re.compile(r"\s{3,}(\(|<-).*$")


def examples() -> list[tuple[str, list[str], int]]:
    """(command, the lines it shows, the exit code it shows) for every console block, in order."""
    out = []
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                i += 1
                continue
            command = lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            command = re.sub(r"\s+#.*$", "", command)
            i += 1
            shown = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            code = 6 if any("(exit 6)" in s for s in shown) else 0
            out.append((command, [ANNOTATION.sub("", s).rstrip() for s in shown if s.strip() not in ("", "...")], code))
    return out


def _squeezed(text: str) -> str:
    """Spaces (and line ends) as one, a header's heavy rule as a light one: a table's column
    widths, and where a long title wraps, follow the widest cell, which the README elides."""
    return re.sub(r"\s+", " ", text.translate(str.maketrans("┃", "│")))


def test_the_readme_examples_print_what_the_readme_shows(tmp_path):
    shutil.copy(ROOT / "sample.db", tmp_path / "sample.db")
    (tmp_path / "docs").mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "collect").write_text(f"#!/bin/sh\nexec '{sys.executable}' -m collect_cli \"$@\"\n")
    (bin_dir / "collect").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "200"}
    env.pop("COLLECT_CONFIG", None)
    env.pop("COLLECT_DB", None)
    missing = []
    for command, shown, code in examples():
        r = subprocess.run(["sh", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=300)
        printed = _squeezed(r.stdout + r.stderr)
        if "| head" not in command and "| tail" not in command and r.returncode != code:
            missing.append(f"{command}: exit {r.returncode}, the README shows {code}: {r.stderr[-300:]}")
            continue
        for line in shown:
            parts = [_squeezed(p).strip() for p in line.split("…") if p.strip()]
            if not all(p in printed for p in parts):
                missing.append(f"{command}: does not print {line!r}")
    assert not missing, "\n".join(missing)
