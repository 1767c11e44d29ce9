"""The report as JSON: schema ``imugait.report`` version 1, described by
``imugait/report/schema/report.schema.json`` (JSON Schema 2020-12) and docs/report.md.

Earlier reports are read back (:func:`read_previous`) for trends.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from imugait.atomic import write_text_atomic
from imugait.conventions import Side
from imugait.errors import FormatError
from imugait.report.present import not_counted_text
from imugait.report.report import PreviousReport, Report

SCHEMA = "imugait.report"
SCHEMA_VERSION = 1
SCHEMA_FILE = "report.schema.json"


def schema_document() -> dict[str, Any]:
    """The JSON Schema of the report document."""
    with resources.files(__package__).joinpath("schema", SCHEMA_FILE).open("r", encoding="utf-8") as fh:
        return json.load(fh)


def _num(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def _side(side: Side | None) -> str | None:
    return side.value if side is not None else None


def _list(values) -> list[float | None]:
    return [_num(float(v)) for v in values]


def report_to_dict(report: Report) -> dict[str, Any]:
    p = report.programme
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "software_version": report.software_version,
        "generated_at": report.generated_at,
        "subject": {"subject_id": report.subject_id, "recorded_at": report.recorded_at,
                    "recorded_at_is_file_time": report.recorded_at_is_file_time,
                    "population": report.population.value},
        "hip_rotation": {"reference": report.hip_rotation_reference.value, "note": report.hip_rotation_note},
        "disclaimer": report.disclaimer,
        "measurements": [
            {"name": m.name, "side": _side(m.side), "value": _num(m.value), "unit": m.unit, "n": m.n, "sd": _num(m.sd),
             "confidence": m.confidence.value, "confidence_reason": m.confidence_reason, "protocol": m.protocol,
             "trusted": m.trusted}
            for m in report.measurements
        ],
        "comparisons": [
            {"threshold_id": c.threshold_id, "metric": c.metric, "title": c.title, "side": _side(c.side),
             "quantity": c.quantity, "value": _num(c.value), "unit": c.unit, "status": c.status.value,
             "reference_text": c.reference_text, "severity": c.severity.value if c.severity else None,
             "direction": c.direction or None, "finding_code": c.finding_code or None, "confidence": c.confidence.value,
             "n": c.n, "source": c.source, "population": c.population, "trusted": c.trusted}
            for c in report.comparisons
        ],
        "findings": [
            {"code": f.code, "threshold_id": f.threshold_id, "metric": f.metric, "title": f.title, "side": _side(f.side),
             "value": _num(f.value), "unit": f.unit, "severity": f.severity.value, "confidence": f.confidence.value,
             "confidence_reason": f.confidence_reason, "direction": f.direction, "reference_text": f.reference_text,
             "message": f.message, "source": f.source, "citation": f.citation, "population": f.population,
             "caveats": list(f.caveats)}
            for f in report.findings
        ],
        "programme": {
            "on_hold": p.on_hold,
            "sessions_per_week": p.sessions_per_week,
            "sessions_per_week_range": list(p.sessions_per_week_range),
            "schedule": {day: list(ids) for day, ids in p.schedule.items()},
            "daily": list(p.daily),
            "notes": list(p.notes),
            "progression": list(p.progression),
            "drills": [
                {"id": d.drill.id, "name": d.drill.name, "category": d.drill.category, "purpose": d.drill.purpose,
                 "steps": list(d.drill.steps), "dose_text": d.dose_text, "cues": list(d.drill.cues),
                 "contraindications": list(d.drill.contraindications), "progression": d.drill.progression,
                 "findings": list(d.findings), "emphasis_side": _side(d.emphasis_side), "source": d.drill.source}
                for d in p.drills
            ],
            "referrals": [
                {"trigger_id": r.trigger_id, "kind": r.kind, "text": r.text, "findings": list(r.findings),
                 "holds_drills": r.holds_drills}
                for r in p.referrals
            ],
            "see_a_professional_when": list(p.always_see_a_professional_when),
        },
        "data_quality": {
            "legs": [{"side": q.side.value, "calibration_quality": q.calibration_quality,
                      "strides_used": q.strides_used, "strides_found": q.strides_found,
                      "strides_unused": dict(q.strides_unused),
                      "calibration_method": q.calibration_method, "trusted": q.trusted} for q in report.quality],
            "warnings": list(report.warnings),
            "not_counted": not_counted_text(report),
        },
        "curves": {
            side.value: {name: {"mean": _list(c.mean_deg), "sd": _list(c.sd_deg), "n": c.n} for name, c in curves.items()}
            for side, curves in report.curves.items()
        },
        "trends": [
            {"metric": t.metric, "side": _side(t.side), "unit": t.unit,
             "points": [{"recorded_at": pt.recorded_at, "value": _num(pt.value)} for pt in t.points],
             "change": _num(t.change), "smallest_real_change": _num(t.smallest_real_change),
             "beyond_spread": t.beyond_spread}
            for t in report.trends
        ],
        "sources": dict(report.sources),
    }


def write_report_json(report: Report, path: str | Path) -> Path:
    path = Path(path)
    text = json.dumps(report_to_dict(report), indent=2, ensure_ascii=False, allow_nan=False)
    return write_text_atomic(path, text + "\n")


def previous_from_dict(doc: dict[str, Any], where: str = "report") -> PreviousReport:
    """The parts of an earlier report document that trends need; a measurement that was not trusted
    (its leg marked not trusted) is left out, as it starts no trend in the report itself."""
    if doc.get("schema") != SCHEMA:
        raise FormatError(f"{where}: not an imugait report (schema {doc.get('schema')!r}, expected {SCHEMA!r})")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise FormatError(f"{where}: report schema_version {doc.get('schema_version')!r} is not supported "
                          f"(this imugait reads {SCHEMA_VERSION})")
    try:
        untrusted = {leg["side"] for leg in doc.get("data_quality", {}).get("legs", []) if not leg["trusted"]}
        values = {(m["name"], Side(m["side"]) if m["side"] else None): m["value"]
                  for m in doc["measurements"]
                  if m["value"] is not None and m.get("trusted", True) and m["side"] not in untrusted}
        return PreviousReport(doc["subject"]["subject_id"], doc["subject"]["recorded_at"], values)
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"{where}: malformed report ({exc})") from None


def read_previous(path: str | Path) -> PreviousReport:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not a JSON report (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}: not JSON ({exc})") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not isinstance(doc, dict):
        raise FormatError(f"{path}: not a JSON report (a {type(doc).__name__}, not an object)")
    return previous_from_dict(doc, str(path))
