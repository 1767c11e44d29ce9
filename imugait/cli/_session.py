"""Loading a session for analysis: read it, then apply the per-device intrinsic calibrations.

Calibration files (``imugait calibrate imu`` writes them) live in a folder, by default
``./calibration``; every stream whose device has a file there is corrected (bias, scale,
misalignment, magnetometer) before anything is computed. The raw session file is never changed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._options import existing_folder

DEFAULT_CALIBRATION_DIR = Path("calibration")


def add_filter_arg(parser: argparse.ArgumentParser) -> None:
    """``--filter``: the orientation filter (``args.filter``, a ``FilterKind`` value)."""
    from imugait.fusion.settings import FilterKind

    parser.add_argument("--filter", choices=[k.value for k in FilterKind], default=FilterKind.VQF_OFFLINE.value,
                        help="orientation filter (default vqf_offline)")


def add_calibration_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calibration-dir", type=existing_folder, default=DEFAULT_CALIBRATION_DIR, metavar="DIR",
                        help="per-device calibration files to apply (default ./calibration, skipped if absent; "
                             "a folder given here must exist)")
    parser.add_argument("--no-calibration", action="store_true", help="do not apply per-device calibrations")


class CalibratedWindows:
    """A :class:`~imugait.analysis.chunked.SessionSource` whose windows get the per-device
    calibrations of ``folder`` as :func:`load_session` applies them to a whole session."""

    def __init__(self, source, folder: Path) -> None:
        from imugait.calibration.store import CalibrationStore

        self.source, self.store = source, CalibrationStore(folder)
        self.meta, self.t_start_s, self.t_end_s = source.meta, source.t_start_s, source.t_end_s
        self.corrected: dict = {}

    def read(self, t_start_s: float, t_end_s: float):
        applied = self.store.apply_to_session(self.source.read(t_start_s, t_end_s))
        self.corrected.update(applied.corrected)
        return applied.session


def open_session_windows(path: Path, args: argparse.Namespace):
    """The native file at ``path`` read window by window (verified once now), with the
    calibrations of ``args.calibration_dir`` applied to each window; for the analysis, which fuses
    6-axis, so without magnetometers and device orientations (``motion_only``)."""
    from imugait.io.native_ranges import SessionFileRanges

    source = SessionFileRanges(path, motion_only=True)
    folder = args.calibration_dir
    return source if args.no_calibration or not folder.is_dir() else CalibratedWindows(source, folder)


def load_session(path: Path, args: argparse.Namespace, say=print, motion_only: bool = False):
    """The session at ``path`` with the calibrations of ``args.calibration_dir`` applied;
    ``motion_only``: without magnetometers and device orientations (``read_session``'s option)."""
    from imugait.calibration.store import CalibrationStore
    from imugait.io.native import read_session

    session = read_session(path, motion_only=motion_only)
    folder = args.calibration_dir
    if args.no_calibration or not folder.is_dir():
        return session
    applied = CalibrationStore(folder).apply_to_session(session)
    for placement, file in applied.corrected.items():
        say(f"{placement.value}: corrected with {file}")
    return applied.session
