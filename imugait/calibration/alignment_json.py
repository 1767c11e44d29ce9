"""A leg's sensor-to-segment calibration (:class:`~imugait.calibration.segment.LegAlignment`) as
a JSON object, and back, for files that keep it between runs.

Every field is kept except the per-sample heading track (``HeadingTrack.heading_offset_rad`` is on
the grid of the run that calibrated, meaningless in another): the track's window estimates are
kept, and a run that reuses the calibration tracks the thigh–shank heading offset anew. Units are
in the names; quaternions scalar first; NaN is written as null. Reading checks every field's type
and shape and raises :class:`~imugait.errors.FormatError` naming the file (``where``) and field.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_type_hints

import numpy as np

from imugait.calibration.heading import HeadingTrack
from imugait.calibration.joint_centre import FlexionAxes, JointCentre
from imugait.calibration.json_fields import (
    array_field,
    json_array,
    json_number,
    number_or_nan,
    typed_field,
)
from imugait.calibration.knee_axes import KneeAxes
from imugait.calibration.segment import (
    AlignmentQuality,
    HeadingSource,
    LegAlignment,
    SegmentAlignment,
)
from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError

_AXES_ARRAYS = ("flexion_axis_thigh", "rotation_axis_shank")
_CENTRE_ARRAYS = ("centre_thigh_sensor_m", "centre_shank_sensor_m")
_CENTRE_FLEXION_ARRAYS = ("centre_thigh_per_flexion_m",)
_CENTRE_NUMBERS = tuple(f.name for f in fields(JointCentre)
                        if f.name not in (*_CENTRE_ARRAYS, *_CENTRE_FLEXION_ARRAYS, "flexion_axes"))
_FLEXION_AXES_ARRAYS = tuple(f.name for f in fields(FlexionAxes))
_TRACK_ARRAYS = ("window_t_s", "window_offset_rad", "window_residual_radps", "window_residual_mps2")


def alignment_to_dict(alignment: LegAlignment) -> dict[str, Any]:
    """The JSON object of ``alignment`` (see the module docstring)."""
    axes, centre, track = alignment.axes, alignment.joint_centre, alignment.heading
    return {
        "thigh": _segment_to_dict(alignment.thigh),
        "shank": _segment_to_dict(alignment.shank),
        "hinge_axis_shank": json_array(alignment.hinge_axis_shank),
        "axes": {**{name: json_array(getattr(axes, name)) for name in _AXES_ARRAYS},
                 "heading_offset_rad": json_number(axes.heading_offset_rad),
                 "residual_rms_radps": json_number(axes.residual_rms_radps)},
        "heading_windows": {name: json_array(getattr(track, name)) for name in _TRACK_ARRAYS},
        "joint_centre": None if centre is None else _centre_to_dict(centre),
        "quality": {f.name: _quality_value(getattr(alignment.quality, f.name)) for f in fields(AlignmentQuality)},
    }


def alignment_from_dict(d: Any, where: str) -> LegAlignment:
    """Inverse of :func:`alignment_to_dict`; ``where`` (the file and leg) prefixes error messages."""
    d = _object(d, where)
    axes_d = _object(d.get("axes"), f"{where}: axes")
    axes = KneeAxes(*(array_field(axes_d, name, (3,), f"{where}: axes") for name in _AXES_ARRAYS),
                    heading_offset_rad=float(typed_field(axes_d, "heading_offset_rad", (int, float), f"{where}: axes")),
                    residual_rms_radps=number_or_nan(axes_d, "residual_rms_radps", f"{where}: axes"))
    track_d = _object(d.get("heading_windows"), f"{where}: heading_windows")
    windows = [array_field(track_d, name, (None,), f"{where}: heading_windows", finite=False) for name in _TRACK_ARRAYS]
    if windows[0].size != windows[1].size or not np.all(np.isfinite(windows[1])):
        raise FormatError(f"{where}: heading_windows: 'window_offset_rad' must have one finite value per window")
    track = HeadingTrack(np.array([]), *windows)
    centre = None if d.get("joint_centre") is None else _centre_from_dict(d["joint_centre"], f"{where}: joint_centre")
    try:
        return LegAlignment(_segment_from_dict(d.get("thigh"), f"{where}: thigh"),
                            _segment_from_dict(d.get("shank"), f"{where}: shank"),
                            axes, track, array_field(d, "hinge_axis_shank", (3,), where),
                            _quality_from_dict(d.get("quality"), f"{where}: quality"), centre)
    except (TypeError, ValidationError) as exc:
        raise FormatError(f"{where}: {exc}") from None


def _centre_to_dict(centre: JointCentre) -> dict[str, Any]:
    axes = centre.flexion_axes
    return {**{name: json_array(getattr(centre, name)) for name in _CENTRE_ARRAYS},
            **{name: json_number(getattr(centre, name)) for name in _CENTRE_NUMBERS},
            "flexion_axes": None if axes is None else {name: json_array(getattr(axes, name)) for name in _FLEXION_AXES_ARRAYS},
            **{name: None if axes is None else json_array(getattr(centre, name)) for name in _CENTRE_FLEXION_ARRAYS}}


def _centre_from_dict(d: Any, where: str) -> JointCentre:
    """A joint centre; one written before the centre could move with knee flexion (no
    ``flexion_axes``) is read as fixed on each sensor."""
    c = _object(d, where)
    axes = None
    if c.get("flexion_axes") is not None:
        a = _object(c["flexion_axes"], f"{where}: flexion_axes")
        axes = FlexionAxes(*(array_field(a, name, (3,), f"{where}: flexion_axes") for name in _FLEXION_AXES_ARRAYS))
    return JointCentre(**{name: array_field(c, name, (3,), where) for name in _CENTRE_ARRAYS},
                       **{name: number_or_nan(c, name, where) for name in _CENTRE_NUMBERS},
                       flexion_axes=axes,
                       **{name: None if axes is None else array_field(c, name, (3,), where) for name in _CENTRE_FLEXION_ARRAYS})


def _object(d: Any, where: str) -> dict:
    if not isinstance(d, dict):
        raise FormatError(f"{where} must be a JSON object")
    return d


def _segment_to_dict(segment: SegmentAlignment) -> dict[str, Any]:
    return {"placement": segment.placement.value, "q_sensor_segment": json_array(segment.q_sensor_segment)}


def _segment_from_dict(d: Any, where: str) -> SegmentAlignment:
    d = _object(d, where)
    try:
        placement = Placement(typed_field(d, "placement", str, where))
    except ValueError:
        raise FormatError(f"{where}: field 'placement' is not a placement ({d['placement']!r})") from None
    q = array_field(d, "q_sensor_segment", (4,), where)
    if not abs(float(np.linalg.norm(q)) - 1.0) < 1e-6:
        raise FormatError(f"{where}: field 'q_sensor_segment' is not a unit quaternion")
    return SegmentAlignment(placement, q)


def _quality_value(value: Any) -> Any:
    if isinstance(value, HeadingSource):
        return value.value
    return json_number(value) if isinstance(value, float) else value


def _quality_from_dict(d: Any, where: str) -> AlignmentQuality:
    d = _object(d, where)
    kwargs: dict[str, Any] = {}
    for name, kind in get_type_hints(AlignmentQuality).items():
        if kind is float:
            kwargs[name] = number_or_nan(d, name, where)
        elif kind is HeadingSource:
            try:
                kwargs[name] = HeadingSource(typed_field(d, name, str, where))
            except ValueError:
                raise FormatError(f"{where}: field '{name}' is not a heading source ({d[name]!r})") from None
        else:
            kwargs[name] = typed_field(d, name, kind, where)
    return AlignmentQuality(**kwargs)
