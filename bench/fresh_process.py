"""Each measurement in a fresh process of its own, so that its peak resident memory is its own.

A benchmark calls itself with extra arguments (`run_again`); that process prints its result
as JSON on its last line.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def run_again(script: str, *args: Any) -> dict[str, Any]:
    """`python script *args` in the repository root; the JSON of its last printed line."""
    out = subprocess.run(
        [sys.executable, script, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far (Linux reports it in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
