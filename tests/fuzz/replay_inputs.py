"""Run saved inputs through their fuzz targets; one JSON line per input (run as a subprocess by
``test_fuzz_regressions.py``, so that an input that kills the interpreter fails only its test).

Usage: ``python replay_inputs.py TARGET=FILE …``; prints ``{"file", "outcome", "type", "message"}``
with outcome ``accepted``, ``refused`` (the project's own error) or ``crash``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # this checkout's imugait, not an installed one

from fuzz_targets import TARGETS, classify  # noqa: E402


def main() -> None:
    runs = {}
    with tempfile.TemporaryDirectory() as scratch:
        for item in sys.argv[1:]:
            name, path = item.split("=", 1)
            if name not in runs:
                runs[name] = TARGETS[name].make(Path(scratch) / name.replace(".", "_"))
            out = {"file": Path(path).name, "outcome": "accepted", "type": "", "message": ""}
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    runs[name](Path(path).read_bytes())
            except Exception as exc:  # noqa: BLE001 — sorting every exception is the point
                crash = classify(TARGETS[name], exc)
                out.update(outcome="crash" if crash else "refused", type=type(exc).__name__, message=str(exc))
            print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
