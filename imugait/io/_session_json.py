"""Session metadata <-> JSON-ready dicts, for the native format's key-value metadata.

Floats go through :mod:`json`, which writes ``repr`` (shortest round-trip form), so rates and
step times come back bit-exact. Unknown keys are ignored (a newer writer may add optional
fields without a format version bump); missing optional keys take the model's defaults.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from imugait.errors import FormatError, ValidationError
from imugait.model import DeviceInfo, Gap, GyroSampling, ProtocolStep, SessionEvent, SessionMeta


def meta_to_dict(meta: SessionMeta) -> dict[str, Any]:
    """``SessionMeta`` as plain JSON types (steps as a list of dicts)."""
    d = asdict(meta)
    d["steps"] = [asdict(s) for s in meta.steps]
    d["events"] = [e.to_dict() for e in meta.events]
    return d


def event_from_dict(d: Any, where: str, what: str) -> SessionEvent:
    """An event-log entry from its JSON object; ``what`` names the entry in error messages."""
    obj = _as_object(d, where, what)
    try:
        return SessionEvent.from_dict(obj)
    except KeyError as exc:
        raise FormatError(f"{where}: metadata '{what}' has no {exc.args[0]!r}") from None
    except (TypeError, ValueError, ValidationError) as exc:
        raise FormatError(f"{where}: metadata '{what}' is invalid: {exc}") from None


def device_to_dict(device: DeviceInfo) -> dict[str, Any]:
    d = asdict(device)
    d["gyr_sampling"] = device.gyr_sampling.value
    return d


def gaps_to_list(gaps: tuple[Gap, ...]) -> list[list[int]]:
    """Gaps as ``[[after_index, n_lost], ...]``."""
    return [[int(g.after_index), int(g.n_lost)] for g in gaps]


def meta_from_dict(d: Any, where: str) -> SessionMeta:
    """Inverse of :func:`meta_to_dict`; ``where`` prefixes error messages (the file name)."""
    obj = _as_object(d, where, "meta")
    steps_raw = obj.pop("steps", [])
    if not isinstance(steps_raw, list):
        raise FormatError(f"{where}: metadata 'meta.steps' must be a list")
    steps = []
    for i, s in enumerate(steps_raw):
        step = _as_object(s, where, f"meta.steps[{i}]")
        try:
            steps.append(ProtocolStep(str(step["name"]), float(step["t_start_s"]), float(step["t_end_s"])))
        except KeyError as exc:
            raise FormatError(f"{where}: metadata 'meta.steps[{i}]' has no {exc.args[0]!r}") from None
        except (TypeError, ValueError, ValidationError) as exc:
            raise FormatError(f"{where}: metadata 'meta.steps[{i}]' is invalid: {exc}") from None
    events_raw = obj.pop("events", [])
    if not isinstance(events_raw, list):
        raise FormatError(f"{where}: metadata 'meta.events' must be a list")
    events = tuple(event_from_dict(e, where, f"meta.events[{i}]") for i, e in enumerate(events_raw))
    kwargs = _known_fields(SessionMeta, obj, where, "meta", exclude={"steps", "events"})
    try:
        return SessionMeta(steps=tuple(steps), events=events, **kwargs)
    except ValidationError as exc:
        raise FormatError(f"{where}: metadata 'meta' is invalid: {exc}") from None


def device_from_dict(d: Any, where: str, what: str) -> DeviceInfo:
    obj = _as_object(d, where, what)
    kwargs = _known_fields(DeviceInfo, obj, where, what, exclude={"gyr_sampling"})
    if "gyr_sampling" in obj:  # (absent in files written before it existed: the default)
        try:
            kwargs["gyr_sampling"] = GyroSampling(obj["gyr_sampling"])
        except (TypeError, ValueError):
            valid = ", ".join(repr(g.value) for g in GyroSampling)
            raise FormatError(f"{where}: metadata '{what}.gyr_sampling' must be one of {valid}, "
                              f"got {obj['gyr_sampling']!r}") from None
    return DeviceInfo(**kwargs)


def gaps_from_list(raw: Any, where: str, what: str) -> tuple[Gap, ...]:
    if not isinstance(raw, list):
        raise FormatError(f"{where}: metadata '{what}' must be a list of [after_index, n_lost]")
    gaps = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2 and all(type(v) is int for v in item)):
            raise FormatError(f"{where}: metadata '{what}' has a malformed entry {item!r}")
        gaps.append(Gap(after_index=item[0], n_lost=item[1]))
    return tuple(gaps)


def _as_object(d: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise FormatError(f"{where}: metadata '{what}' must be a JSON object")
    return dict(d)


_JSON_TYPES = {"str": (str,), "bool": (bool,), "float | None": (int, float, type(None))}


def _known_fields(cls, obj: dict[str, Any], where: str, what: str, exclude=frozenset()) -> dict[str, Any]:
    """The entries of ``obj`` that are fields of dataclass ``cls``, type-checked."""
    out = {}
    for f in fields(cls):
        if f.name in exclude or f.name not in obj:
            continue
        value = obj[f.name]
        allowed = _JSON_TYPES.get(str(f.type))
        if allowed is not None and (not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool))):
            raise FormatError(f"{where}: metadata '{what}.{f.name}' has the wrong type ({type(value).__name__})")
        out[f.name] = float(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return out
