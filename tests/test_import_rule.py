"""The import rule of docs/architecture.md, checked on the source: no arrow runs back.

Every ``import imugait.…`` and ``from imugait.… import`` (at module level or inside a function)
is an arrow from the importing package to the imported one. A stage of the flow imports only
stages to its left and the shared modules; ``io`` and ``simulate`` sit beside the flow; ``live``
around it; ``emulate`` stands in for hardware and people; nothing imports ``cli``. The few
allowed exceptions are listed in ``EXCEPTIONS`` with their reason (also in the architecture doc).
"""

from __future__ import annotations

import ast
from pathlib import Path

import imugait

PACKAGE = Path(imugait.__file__).parent

FLOW = ("transport", "protocol", "acquisition", "calibration", "fusion", "kinematics", "gait", "analysis",
        "assessment", "report")
"""The data flow, left to right (``analysis`` sequences the offline stages and is used by the
assessment and the report: docs/architecture.md, deviation 5)."""
SHARED = {"imugait", "conventions", "model", "errors", "data", "atomic", "quaternion", "timebase", "_optional", "output_guard",
          "chunk_plan", "heap"}
"""Importable by everyone (``imugait`` itself: ``__version__``)."""

ALLOWED: dict[str, set[str]] = {
    **{stage: set(FLOW[:i]) for i, stage in enumerate(FLOW)},
    "io": {"protocol"},  # vendor formats reuse the decoders
    "simulate": set(),
    "export": set(FLOW[:FLOW.index("analysis") + 1]),  # takes an AnalysisResult; only the CLI imports it
    "live": set(FLOW) | {"io"},
    "batch": set(FLOW) | {"io"},
    "emulate": set(FLOW) | {"io", "simulate", "live"},
    "cli": set(FLOW) | {"io", "simulate", "emulate", "live", "batch", "export"},
    "__main__": {"cli"},
}
"""Package → the packages (besides ``SHARED``) it may import."""

EXCEPTIONS: dict[tuple[str, str], str] = {
    ("acquisition/recorder.py", "io"):
        "the recorder finalises a recording with the native format's one writer (io.native); io "
        "imports nothing from acquisition, so there is no cycle",
    ("simulate/output.py", "io"):
        "a simulation is written as a native session (io.native's writer) next to its ground truth",
    ("simulate/protocols.py", "io"):
        "the simulated assessment battery is written as a native session, like simulate/output.py",
}
"""(file under imugait/, imported package) → why this back-arrow is allowed."""


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _arrows():
    """(file relative to the package, importing unit, imported unit, line) for every import."""
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        source = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem
        if source == "__init__":
            source = "imugait"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
                if node.module == "imugait":  # from imugait import cli
                    names += [f"imugait.{a.name}" for a in node.names
                              if (PACKAGE / a.name).is_dir() or (PACKAGE / f"{a.name}.py").is_file()]
            else:
                continue
            for name in names:
                if name == "imugait" or name.startswith("imugait."):
                    target = _unit(name)
                    if target != source:
                        yield rel.as_posix(), source, target, node.lineno


def _violations(arrows) -> list[str]:
    bad = []
    for rel, source, target, line in arrows:
        if target in SHARED or (rel, target) in EXCEPTIONS:
            continue
        if source in SHARED and source != "imugait":
            bad.append(f"{rel}:{line}: shared module {source} imports {target}")
        elif source == "imugait":
            continue  # the package's own __init__ (version only)
        elif source not in ALLOWED:
            bad.append(f"{rel}:{line}: package {source} is not placed in the import rule (tests/test_import_rule.py)")
        elif target not in ALLOWED[source]:
            bad.append(f"{rel}:{line}: {source} imports {target}")
    return bad


def test_no_arrow_runs_back():
    bad = _violations(_arrows())
    assert not bad, "imports against the rule in docs/architecture.md:\n" + "\n".join(bad)


def test_every_exception_is_still_needed():
    used = {(rel, target) for rel, _source, target, _line in _arrows()}
    stale = [f"{rel} → {target}" for rel, target in EXCEPTIONS if (rel, target) not in used]
    assert not stale, f"allowed exceptions no longer used (remove them here and in the doc): {stale}"


def test_the_checker_catches_a_back_arrow_and_the_cli():
    fake = [("transport/serial.py", "transport", "simulate", 1), ("report/x.py", "report", "cli", 2),
            ("acquisition/live.py", "acquisition", "live", 3), ("gait/a.py", "gait", "kinematics", 4),
            ("live/run.py", "live", "emulate", 5), ("kinematics/a.py", "kinematics", "gait", 6)]
    bad = _violations(fake)
    assert [b.split(":")[0] for b in bad] == ["transport/serial.py", "report/x.py", "acquisition/live.py",
                                               "live/run.py", "kinematics/a.py"]
