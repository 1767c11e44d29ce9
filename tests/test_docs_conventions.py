"""docs/conventions.md and docs/architecture.md must agree with the code where that can be checked.

The sign table is the one gaitmap had to flip in a breaking release; here the doc's table is parsed
and compared with ``imugait.conventions.sign_table`` for every joint, component and side.
"""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from imugait import conventions
from imugait.conventions import AngleComponent, HipRotationReference, Joint, Placement, Side

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CONVENTIONS_MD = DOCS / "conventions.md"
ARCHITECTURE_MD = DOCS / "architecture.md"
FIGURE_PNG = DOCS / "figures" / "conventions.png"
FIGURE_SCRIPT = DOCS / "figures" / "make_conventions_figure.py"
MAX_FIGURE_BYTES = 300_000


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _table_rows(text: str, header_first_cell: str, header_has: str = "") -> list[list[str]]:
    """Body rows of the first markdown table whose header row starts with ``header_first_cell``
    (and has a cell containing ``header_has``)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = _cells(line)
        if (cells and cells[0].strip("`").lower() == header_first_cell.lower()
                and any(header_has.lower() in c.lower() for c in cells)):
            rows = []
            for body in lines[i + 2:]:  # skip the |---| separator
                if not body.strip().startswith("|"):
                    break
                rows.append(_cells(body))
            return rows
    raise AssertionError(f"no table with header {header_first_cell!r} … {header_has!r}")


def _cells(line: str) -> list[str]:
    line = line.strip()
    if not line.startswith("|"):
        return []
    return [c.strip() for c in line.strip("|").split("|")]


def _section(text: str, heading_start: str) -> str:
    m = re.search(rf"^## {re.escape(heading_start)}.*?(?=^## |\Z)", text, flags=re.M | re.S)
    assert m, f"docs/conventions.md has no section starting '## {heading_start}'"
    return m.group(0)


def _sign(cell: str) -> float:
    cell = cell.replace("−", "-").replace("`", "").strip()
    assert cell in {"+1", "-1", "1"}, f"sign table multiplier must be +1 or -1, got {cell!r}"
    return float(cell)


def test_sign_table_in_doc_equals_code():
    rows = _table_rows(_read(CONVENTIONS_MD), "joint", "multiplier")
    rows = [r for r in rows if len(r) >= 4 and r[0] in {j.value for j in Joint}]
    seen = {}
    for joint, component, side, multiplier, *_ in rows:
        key = (Joint(joint), AngleComponent(component), Side(side))
        assert key not in seen, f"sign table row {key} appears twice"
        seen[key] = _sign(multiplier)
    for joint in Joint:
        for side in Side:
            code = conventions.sign_table(joint, side)
            for i, component in enumerate(AngleComponent):
                key = (joint, component, side)
                assert key in seen, f"sign table in docs/conventions.md lacks {key}"
                assert seen[key] == code[i], (
                    f"docs/conventions.md says {joint.value} {component.value} ({side.value}) "
                    f"multiplier {seen[key]:+g}, imugait.conventions.sign_table says {code[i]:+g}"
                )


def test_sign_table_meanings_name_the_positive_direction():
    rows = _table_rows(_read(CONVENTIONS_MD), "joint", "multiplier")
    wanted = {"flexion": "flexion", "adduction": "adduction", "rotation": "internal rotation"}
    for row in rows:
        if row[0] in {j.value for j in Joint}:
            assert wanted[row[1]] in row[4], f"'+ means' of {row[:3]} should say {wanted[row[1]]!r}"
            if row[0] == "knee" and row[1] == "adduction":
                assert "varus" in row[4]


def test_every_placement_is_documented_with_its_segment_and_side():
    text = _read(CONVENTIONS_MD)
    rows = {r[1].strip("`"): r for r in _table_rows(text, "Placement")}
    for p in Placement:
        assert f"`{p.value}`" in text, f"placement {p.value!r} missing from docs/conventions.md"
        assert p.value in rows, f"placement {p.value!r} missing from the placement table"
        _, _, segment, side = rows[p.value][:4]
        assert rows[p.value][0].strip("`") == p.name
        assert segment == p.segment.value
        assert side == (p.side.value if p.side else "none")
    assert set(rows) == {p.value for p in Placement}, "the placement table lists a placement the code lacks"


def test_jcs_sequence_and_gravity_match():
    text = _read(CONVENTIONS_MD)
    assert f'JCS_SEQUENCE = "{conventions.JCS_SEQUENCE}"' in text
    assert f'as_euler("{conventions.JCS_SEQUENCE}")' in text
    assert f"GRAVITY_MPS2 = {conventions.GRAVITY_MPS2}" in text
    np.testing.assert_array_equal(conventions.GRAVITY_WORLD_MPS2, [0.0, 0.0, -conventions.GRAVITY_MPS2])
    assert "[0, 0, -9.80665]" in text


def test_hip_rotation_references_are_documented():
    section = _section(_read(CONVENTIONS_MD), "Hip rotation")
    for ref in HipRotationReference:
        assert f"`{ref.value}`" in section, f"HipRotationReference.{ref.name} not explained"


def test_quaternion_example_in_doc_is_true():
    from scipy.spatial.transform import Rotation

    text = _read(CONVENTIONS_MD)
    r_world_a = Rotation.from_euler("z", 90, degrees=True)
    r_a_b = Rotation.from_euler("x", 30, degrees=True)
    np.testing.assert_allclose((r_world_a * r_a_b).apply([0, 0, 1]), [0.5, 0, 0.866], atol=1e-3)
    np.testing.assert_allclose((r_a_b * r_world_a).apply([0, 0, 1]), [0, -0.5, 0.866], atol=1e-3)
    assert "[0.5, 0, 0.866]" in text and "[0, -0.5, 0.866]" in text


def test_figure_is_referenced_present_and_small():
    assert "figures/conventions.png" in _read(CONVENTIONS_MD)
    assert FIGURE_PNG.is_file(), "docs/figures/conventions.png is missing; run docs/figures/make_conventions_figure.py"
    assert FIGURE_PNG.stat().st_size < MAX_FIGURE_BYTES


def test_figure_script_runs(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="matplotlib (dev extra) is needed to draw the figure")
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_conventions_figure", FIGURE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    out = module.make_figure(tmp_path / "conventions.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size < MAX_FIGURE_BYTES


def test_architecture_status_lists_every_package():
    rows = _table_rows(_read(ARCHITECTURE_MD), "package")
    listed = {r[0].strip("`").rstrip("/").removesuffix(".py") for r in rows}
    pkg = ROOT / "imugait"
    present = {p.name for p in pkg.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    present |= {p.stem for p in pkg.glob("*.py") if not p.name.startswith("_")}
    missing = sorted(present - listed)
    assert not missing, f"docs/architecture.md Status table lacks: {', '.join(missing)}"
