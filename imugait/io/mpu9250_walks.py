"""The walks of the gait-rehabilitation dataset (``Healthy_Adults-gait_activity.zip``): MPU-9250
``.1bsn`` files of the thigh and the shank of one leg per walk.

Layout: ``NO.<subject>/{Thigh,Shank}-{left,right}/IMU_<n>.1bsn``; a thigh and a shank file of one
subject and side with the same name are one 10-m walk of that leg, except where
:data:`MPU9250_SHANK_FILE_FIXES` says otherwise. Read straight from the zip or from a folder.
One file is decoded by :mod:`imugait.io.mpu9250`; ``docs/formats.md`` describes both.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from imugait.conventions import Placement, Segment, Side
from imugait.errors import FormatError, ValidationError
from imugait.io.mpu9250 import decode_1bsn
from imugait.model import FILE_TIME_NOTE, Session, SessionMeta

MPU9250_SHANK_FILE_FIXES: dict[tuple[str, str, str], tuple[str, int]] = {
    ("NO.8", "left", "IMU_2"): ("IMU_3", 1427 * 28),
    ("NO.8", "left", "IMU_3"): ("IMU_4", 1733 * 28),
}
"""``(subject, side, thigh file stem) -> (shank file stem, size in bytes of both files)`` where
the dataset's file names do not pair the two files of one walk. A fix applies only when both
files have that size, so other recordings laid out the same way (another part of the dataset)
are still paired by name. In ``NO.8`` left the shank files are numbered one higher than
their thigh files: by name, ``Thigh-left/IMU_2`` and ``Shank-left/IMU_4`` have no partner, and
``IMU_3`` pairs a 17.33 s thigh file with a 14.27 s shank file whose strides do not line up.
``Thigh IMU_2`` / ``Shank IMU_3`` (1427 records each) and ``Thigh IMU_3`` / ``Shank IMU_4`` (1733
each) have equal lengths, and the shank's swing peaks follow the thigh's by 0.14–0.19 s in every
stride but the last, as in the other walks of the dataset (typically 0.1–0.3 s)."""

_MEMBER = re.compile(r"(?:^|/)(NO\.\d+)/(thigh|shank)-(left|right)/([^/]+)\.1bsn$", re.IGNORECASE)


@dataclass(frozen=True)
class Mpu9250Walk:
    """One walk of the dataset: a thigh file and a shank file of one subject's leg.

    ``thigh_file`` and ``shank_file`` are zip member names, or paths relative to the parent of
    the folder that was scanned.
    """

    subject: str
    """``NO.1`` … as in the folder names."""
    side: Side
    trial: str
    """The thigh file's stem (``IMU_10``)."""
    thigh_file: str
    shank_file: str

    @property
    def walk_id(self) -> str:
        """``NO.1/left/IMU_10``: how the walk is named on the command line."""
        return f"{self.subject}/{self.side.value}/{self.trial}"


@dataclass(frozen=True)
class Mpu9250Catalog:
    """The walks found in a zip or folder, and the ``.1bsn`` files that have no partner."""

    walks: tuple[Mpu9250Walk, ...]
    unpaired: tuple[str, ...]

    def find(self, walk_id: str) -> Mpu9250Walk:
        """The walk named ``NO.1/left/IMU_10`` (case-insensitive)."""
        want = walk_id.strip().strip("/").lower()
        for w in self.walks:
            if w.walk_id.lower() == want:
                return w
        subject_side = walk_id.strip().strip("/").rsplit("/", 1)[0]
        near = [w.trial for w in self.walks if w.walk_id.lower().startswith(subject_side.lower() + "/")]
        hint = f"walks of {subject_side}: {', '.join(near)}" if near else "use --list to see the walks"
        raise FormatError(f"no walk {walk_id!r} (expected SUBJECT/SIDE/TRIAL such as NO.1/left/IMU_10); {hint}")


class _Source:
    """A zip file or a folder holding ``.1bsn`` files, read member by member."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            base = self.path.resolve().parent
            self.members = sorted(f.resolve().relative_to(base).as_posix() for f in self.path.rglob("*")
                                  if f.is_file() and f.suffix.lower() == ".1bsn")
            self._base = base
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise FormatError(f"{self.path.name}: not a zip file or a folder of .1bsn files ({exc})") from None
            self.members = sorted(n for n in self._zip.namelist() if n.lower().endswith(".1bsn"))
        else:
            raise FormatError(f"{self.path}: no such file or folder")

    def read(self, member: str) -> bytes:
        try:
            if self._zip is not None:
                return self._zip.read(member)
            return (self._base / member).read_bytes()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise FormatError(f"{self.path.name}: cannot read {member} ({exc})") from None

    def size(self, member: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(member).file_size
        return (self._base / member).stat().st_size

    def modified_iso(self, member: str) -> str:
        """The member's modification time: local time without zone from a zip, UTC from a folder."""
        if self._zip is not None:
            return dt.datetime(*self._zip.getinfo(member).date_time).isoformat()
        mtime = (self._base / member).stat().st_mtime
        return dt.datetime.fromtimestamp(mtime, dt.UTC).isoformat(timespec="seconds")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def catalog_mpu9250(source: str | os.PathLike, *, fix_known_pairs: bool = True) -> Mpu9250Catalog:
    """The walks in a zip or folder laid out as ``NO.<n>/{Thigh,Shank}-{left,right}/<name>.1bsn``.

    Parameters
    ----------
    source : the dataset's zip, or a folder (the unpacked zip, or a part of it down to one
        subject's ``NO.<n>`` folder).
    fix_known_pairs : pair the files listed in :data:`MPU9250_SHANK_FILE_FIXES` as corrected
        there (when their sizes match); False pairs strictly by file name.

    Returns
    -------
    Mpu9250Catalog
        Walks sorted by subject number, side, trial number; files without a partner.
    """
    with _Source(source) as src:
        return _catalog(src, fix_known_pairs)


def list_mpu9250_walks(source: str | os.PathLike, *, fix_known_pairs: bool = True) -> tuple[Mpu9250Walk, ...]:
    """The walks of :func:`catalog_mpu9250`."""
    return catalog_mpu9250(source, fix_known_pairs=fix_known_pairs).walks


def read_mpu9250_walk(
    source: str | os.PathLike, walk: str | Mpu9250Walk, *, subject_id: str | None = None,
    allow_truncated: bool = False, fix_known_pairs: bool = True,
) -> Session:
    """One walk as a session of two streams, the thigh and the shank of the walk's side.

    Parameters
    ----------
    source : the dataset's zip or a folder (see :func:`catalog_mpu9250`).
    walk : a walk from :func:`list_mpu9250_walks`, or its id ``NO.1/left/IMU_10``.
    subject_id : pseudonym for the metadata; default the dataset's subject (``NO.1``).
    allow_truncated : see :func:`decode_1bsn`.
    fix_known_pairs : see :func:`catalog_mpu9250`.

    Returns
    -------
    Session
        ``t_s = counter / 100`` for both sensors (both counters start at 0 when the recording
        starts); MPU-9250 device info with the ±8 g and ±2000 °/s ranges; ``source =
        "import:mpu9250"``; ``recorded_at`` the earlier of the two files' modification times;
        notes name the two files and anything repaired or left out.
    """
    return next(iter_mpu9250_walks(source, [walk], subject_id=subject_id, allow_truncated=allow_truncated,
                                   fix_known_pairs=fix_known_pairs))[1]


def iter_mpu9250_walks(
    source: str | os.PathLike, walks: Iterable[str | Mpu9250Walk] | None = None, *,
    subject_id: str | None = None, allow_truncated: bool = False, fix_known_pairs: bool = True,
) -> Iterator[tuple[Mpu9250Walk, Session]]:
    """``(walk, session)`` for each of ``walks`` (default: every walk in ``source``), opening the
    zip once. Arguments as in :func:`read_mpu9250_walk`."""
    with _Source(source) as src:
        catalog = _catalog(src, fix_known_pairs)
        chosen = catalog.walks if walks is None else [w if isinstance(w, Mpu9250Walk) else catalog.find(w) for w in walks]
        for w in chosen:
            yield w, _walk_session(src, w, subject_id, allow_truncated)


def _catalog(src: _Source, fix_known_pairs: bool) -> Mpu9250Catalog:
    files: dict[tuple[str, str, str], dict[str, str]] = {}
    unmatched = []
    for member in src.members:
        m = _MEMBER.search(member)
        if m is None:
            unmatched.append(member)
            continue
        subject, segment, side, stem = m[1].upper(), m[2].lower(), m[3].lower(), m[4]
        files.setdefault((subject, side, segment), {})[stem] = member
    if not files:
        found = f"; .1bsn files elsewhere: {', '.join(unmatched[:3])}" if unmatched else ""
        raise FormatError(f"{src.path.name}: no NO.<subject>/<Thigh|Shank>-<left|right>/<name>.1bsn files{found}")
    walks, used = [], set()
    for (subject, side, segment), thighs in files.items():
        if segment != "thigh":
            continue
        shanks = files.get((subject, side, "shank"), {})
        for stem, thigh_member in thighs.items():
            shank_stem = stem
            fix = MPU9250_SHANK_FILE_FIXES.get((subject, side, stem)) if fix_known_pairs else None
            if fix and fix[0] in shanks and src.size(thigh_member) == src.size(shanks[fix[0]]) == fix[1]:
                shank_stem = fix[0]
            if shank_stem in shanks:
                walks.append(Mpu9250Walk(subject, Side(side), stem, thigh_member, shanks[shank_stem]))
                used.update((thigh_member, shanks[shank_stem]))
    all_members = [m for group in files.values() for m in group.values()]
    walks.sort(key=lambda w: (_number(w.subject), w.side.value, _number(w.trial), w.trial))
    return Mpu9250Catalog(tuple(walks), tuple(sorted(m for m in all_members if m not in used)))


def _number(text: str) -> int:
    digits = re.findall(r"\d+", text)
    return int(digits[-1]) if digits else -1


def _walk_session(src: _Source, walk: Mpu9250Walk, subject_id: str | None, allow_truncated: bool) -> Session:
    streams, notes = [], []
    for segment, member in ((Segment.THIGH, walk.thigh_file), (Segment.SHANK, walk.shank_file)):
        short = "/".join(member.split("/")[-3:])  # NO.1/Thigh-left/IMU_10.1bsn
        try:
            bsn = decode_1bsn(src.read(member), short, allow_truncated=allow_truncated)
            placement = Placement.of(segment, walk.side)
            # The dataset has no device ids; the folder (NO.1/Thigh-left) is that subject's sensor.
            streams.append(bsn.to_stream(placement, device_id=short.rsplit("/", 1)[0]))
        except FormatError as exc:
            raise FormatError(f"{src.path.name}: {exc}") from None
        except ValidationError as exc:
            raise ValidationError(f"{src.path.name}: {exc}") from None
        notes.append(f"{placement.value}={short}")
        notes.extend(bsn.notes())
    meta = SessionMeta(
        subject_id=subject_id or walk.subject,
        recorded_at=min(src.modified_iso(m) for m in (walk.thigh_file, walk.shank_file)),
        source="import:mpu9250",
        notes=f"walk {walk.walk_id} from {src.path.name}: " + "; ".join([*notes, FILE_TIME_NOTE]),
    )
    return Session(streams, meta)
