"""Running the same measurement in this checkout and another one, side by side.

The benchmarks that compare a change with the code before it (startup, model cache, cards)
run a small script inside each checkout in its own process, so each imports its own `bot`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent


def checkouts(baseline: Path | None) -> dict[str, Path]:
    """This checkout, and the baseline when one is given."""
    found = {"this": HERE}
    if baseline is not None:
        found["baseline"] = baseline.resolve()
    return found


def probe(checkout: Path, script: str, *args: str) -> Any:
    """Run `script` with Python in a checkout; the JSON it prints on its last line."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
