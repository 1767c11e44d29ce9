"""Argument types for the command line: every number checked against its allowed range at parse
time, with a one-line message naming the value and the range; ``--force`` for every writer.

``type=finite_range(lo, hi, "Hz")`` accepts a finite float in ``[lo, hi]``; ``type=int_range(lo,
hi)`` an integer. Ranges that are a property of the library (the simulated walker's joint offsets)
are taken from it, not repeated here.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

MAX_SEED = 2**32 - 1


def finite_range(lo: float, hi: float, unit: str = "", lo_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
    left = "(" if lo_open else "["
    allowed = (f"a number in {left}{lo:g}, {hi:g}]" if math.isfinite(lo) or math.isfinite(hi)
               else "a finite number") + (f" {unit}" if unit else "")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; allowed: {allowed}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number; allowed: {allowed}")
        if not ((lo < value if lo_open else lo <= value) and value <= hi):
            raise argparse.ArgumentTypeError(f"{text} is out of range; allowed: {allowed}")
        return value

    parse.__name__ = "number"
    return parse


def int_range(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[lo, hi]``."""
    allowed = f"an integer in [{lo}, {hi}]"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer; allowed: {allowed}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{text} is out of range; allowed: {allowed}")
        return value

    parse.__name__ = "integer"
    return parse


def existing_folder(text: str) -> Path:
    """An argparse ``type``: a folder that exists."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not an existing folder")
    return path


finite_float = finite_range(-math.inf, math.inf)
finite_float.__doc__ = "An argparse ``type``: any finite number (its range is checked by the library)."

# Shared ranges: one name per kind of option, so that the same option means the same everywhere.
seed = int_range(0, MAX_SEED)
sensor_rate_hz = finite_range(20.0, 1000.0, "Hz")
"""Sample rate of a simulated or emulated sensor."""
output_rate_hz = finite_range(1.0, 1000.0, "Hz")
"""Rate of a resampled output (orientations)."""
file_rate_hz = finite_range(0.0, 10000.0, "Hz", lo_open=True)
"""Sample rate stated for an imported file."""
playback_speed = finite_range(0.0, 100.0, "x real time", lo_open=True)
"""How many times faster than real time an emulation plays."""
session_duration_s = finite_range(0.0, 24 * 3600.0, "s", lo_open=True)
"""Seconds of a live stream or recording."""
timeout_s = finite_range(0.0, 60.0, "s", lo_open=True)
sample_loss = finite_range(0.0, 0.5)
"""Probability that a sample (or a burst of them) is lost."""
emulated_sensors = int_range(0, 4)


def add_force_arg(parser: argparse.ArgumentParser) -> None:
    """``--force``: replace existing output files (never the command's own input)."""
    parser.add_argument("--force", action="store_true",
                        help="replace output files that exist (an input is never replaced)")


GYR_SAMPLING_HELP = (
    "what one gyroscope sample stands for in time: 'instant' = the rate at the sample's instant (a MEMS "
    "chip's data register, interpolated or resampled data); 'interval_mean' = the mean rate over the interval "
    "ending at the sample (strapdown-integrated output: Xsens MTi 1/10/100/600-series and MTw, Movella DOT; "
    "samples averaged down to the output rate). Integrating one kind as the other moves the orientations "
    "by half a sample (docs/formats.md lists what each format declares)")


def add_gyr_sampling_arg(parser: argparse.ArgumentParser, default_text: str) -> None:
    """``--gyr-sampling instant|interval_mean`` (``args.gyr_sampling``: a ``GyroSampling`` or None)."""
    from imugait.model import GyroSampling

    def parse(text: str) -> GyroSampling:
        try:
            return GyroSampling(text.strip().lower())
        except ValueError:
            allowed = ", ".join(g.value for g in GyroSampling)
            raise argparse.ArgumentTypeError(f"{text!r} is not a gyroscope sampling; allowed: {allowed}") from None

    parser.add_argument("--gyr-sampling", type=parse, default=None, metavar="{" + ",".join(g.value for g in GyroSampling) + "}",
                        help=f"{GYR_SAMPLING_HELP}; {default_text}")
