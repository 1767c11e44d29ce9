"""``PLACEMENT=SENSOR`` pairs from the command line or a caller, shared by every importer that
lets the user say which sensor was worn where (Xsens, HuGaDB, qmt)."""

from __future__ import annotations

from collections.abc import Iterable

from imugait.conventions import Placement
from imugait.errors import ValidationError


def parse_placement_map(items: Iterable[str], *, example: str = "left_thigh=00B40C45") -> dict[Placement, str]:
    """``["left_thigh=00B40C45", ...]`` -> ``{Placement.LEFT_THIGH: "00B40C45", ...}``.

    ``example`` is shown in the message when an item has no ``=``.
    """
    out: dict[Placement, str] = {}
    for item in items:
        name, sep, key = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--map {item!r}: expected PLACEMENT=SENSOR, e.g. {example}")
        try:
            placement = Placement.parse(name)
        except ValueError as exc:
            raise ValidationError(f"--map {item!r}: {exc}") from None
        if placement in out:
            raise ValidationError(f"--map: {placement.value} is mapped twice")
        out[placement] = key.strip()
    return out
