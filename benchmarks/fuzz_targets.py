"""Fuzz targets: each turns one byte string into a call of a decoder, importer or the log reader.

Used by ``benchmarks/fuzz.py`` (atheris, coverage-guided) and ``tests/fuzz/test_fuzz_short.py``
(hypothesis, a short deterministic run). A target is made once per process with a scratch folder
(``Target.make(scratch) -> run``); ``run(data)`` feeds ``data`` and returns, or raises.

What counts as a crash (:func:`classify`):

* **decoders** promise that ``feed`` never raises (``imugait.protocol.base.Decoder``): *any*
  exception is a crash, and so is a broken invariant — byte accounting
  (``received == accepted + discarded + pending``), a count going down, a sample block whose
  arrays are not ``(n, 3)`` and finite, bytes still pending after ``flush``;
* **importers and the log reader** may refuse an input with the project's own errors
  (:class:`imugait.errors.ImugaitError` and subclasses); any other exception is a crash.

Input layouts (``benchmarks/fuzz_seeds.py`` writes a valid seed of each):

* decoders: byte 0 is the chunk size - 1 (the stream is fed in pieces of 1–256 bytes, as a
  transport delivers it), byte 1 picks the decoder's configuration, the rest is the stream;
* ``import.*``: the bytes are the file (x-IMU3: ``Command.json``, ``Inertial.csv`` and
  ``Quaternion.csv`` joined by :data:`XIMU3_SEPARATOR`; MPU-9250: the thigh's ``.1bsn`` file
  of a walk whose shank file is valid);
* ``log.recover``: the bytes are ``recording.imulog``; ``log.records``: a list of records
  ``kind u8 | length u16 | payload`` that the target writes as a log with *valid* markers,
  lengths and CRCs, so the fuzzer reaches the payload decoding and the replay behind the CRC.
"""

from __future__ import annotations

import operator
import struct
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imugait.conventions import Placement
from imugait.errors import ImugaitError

Run = Callable[[bytes], None]
XIMU3_SEPARATOR = b"\n#=#=#\n"
_RECORD = struct.Struct("<BH")


class InvariantBroken(AssertionError):
    """A decoder returned normally but broke its documented contract."""


@dataclass(frozen=True)
class Target:
    """One fuzz target: ``make(scratch)`` returns ``run(data)``; what it may raise on purpose."""

    name: str
    make: Callable[[Path], Run]
    expected: tuple[type[BaseException], ...]
    max_len: int
    """Longest input the fuzzer generates (bytes)."""
    time_limit_s: float
    """An input taking longer than this is counted as a hang."""


# -- decoders --------------------------------------------------------------------------------

_COUNTS = operator.attrgetter("bytes_received", "bytes_accepted", "bytes_discarded", "frames_ok", "crc_failures",
                              "malformed_frames", "samples_decoded", "samples_lost")
"""The decoder's counts, read in one C call: the check runs after every chunk (up to 1,000 per
input), so a Python loop over the fields would cost as much as the decoding it checks."""


def _check_stats(decoder, before: tuple[int, ...]) -> tuple[int, ...]:
    now = _COUNTS(decoder.stats)
    received, accepted, discarded = now[:3]
    if received != accepted + discarded + decoder.pending_bytes:
        raise InvariantBroken(f"bytes received {received} != accepted {accepted} + discarded "
                              f"{discarded} + pending {decoder.pending_bytes}")
    if not all(map(operator.le, before, now)):
        raise InvariantBroken(f"a decoder count went down: {before} -> {now}")
    return now


def _check_message(msg) -> int:
    if not hasattr(msg, "acc_mps2"):
        return 0
    n = msg.n_samples
    for name in ("acc_mps2", "gyr_radps", "mag_uT"):
        arr = getattr(msg, name)
        if arr is None:
            continue
        if arr.shape != (n, 3) or not np.isfinite(arr).all():
            raise InvariantBroken(f"{name} of shape {arr.shape} (expected ({n}, 3)) or not finite")
    q = msg.q_world_sensor
    if q is not None and (q.shape != (n, 4) or not np.isfinite(q).all()):
        raise InvariantBroken(f"q_world_sensor of shape {q.shape} (expected ({n}, 4)) or not finite")
    return n


def decoder_target(factories: list[Callable[[], object]]) -> Callable[[Path], Run]:
    """A target feeding the stream after two control bytes to a fresh decoder (see module doc)."""

    def make(_scratch: Path) -> Run:
        def run(data: bytes) -> None:
            if len(data) < 2:
                return
            size, decoder = data[0] + 1, factories[data[1] % len(factories)]()
            body = data[2:]
            counts = (0,) * 8
            n_out = 0
            for i in range(0, len(body), size):
                for m in decoder.feed(body[i:i + size]):
                    n_out += _check_message(m)
                counts = _check_stats(decoder, counts)
            for m in decoder.flush():
                n_out += _check_message(m)
            _check_stats(decoder, counts)
            if decoder.pending_bytes:
                raise InvariantBroken(f"{decoder.pending_bytes} byte(s) still pending after flush()")
            if decoder.stats.samples_decoded != n_out:
                raise InvariantBroken(f"stats say {decoder.stats.samples_decoded} samples, {n_out} were returned")
        return run

    return make


def _v1_factories():
    from imugait.protocol.imugait_v1 import DeviceInfoV1, ImugaitV1Decoder

    info = DeviceInfoV1(7, "m", "f", 200.0, 8, 1000, 1600)
    return [lambda: ImugaitV1Decoder(info), ImugaitV1Decoder]


def _wit_serial():
    from imugait.protocol.witmotion import WitMotionSerialDecoder

    return [WitMotionSerialDecoder]


def _wit_ble():
    from imugait.protocol.witmotion import WitMotionBleDecoder

    return [WitMotionBleDecoder]


def _dot():
    from imugait.protocol.movella_dot import MovellaDotDecoder

    return [lambda: MovellaDotDecoder(20, sample_rate_hz=60.0, mag_field_uT=50.0), lambda: MovellaDotDecoder(20),
            lambda: MovellaDotDecoder(21, sample_rate_hz=120.0), lambda: MovellaDotDecoder(21)]


def _lazy_decoder(factories: Callable[[], list]) -> Callable[[Path], Run]:
    return lambda scratch: decoder_target(factories())(scratch)


# -- importers -------------------------------------------------------------------------------

def file_target(file_name: str, fmt: str, placement_map: dict[Placement, str] | None = None,
                motion_only_too: bool = False) -> Callable[[Path], Run]:
    """A target writing the input to ``scratch/file_name`` and reading it with ``read_recording``
    (``motion_only_too``: then once more with ``motion_only=True``, a reader of its own for native
    files)."""

    def make(scratch: Path) -> Run:
        from imugait.io.formats import read_recording

        path = scratch / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        where = scratch if fmt in {"xsens", "dot"} else path

        def run(data: bytes) -> None:
            path.write_bytes(data)
            refused: list[ImugaitError] = []
            # the motion-only read also when the whole read refused the file (it reads less of it);
            # anything but a refusal propagates at once
            for motion_only in (False, True) if motion_only_too else (False,):
                try:
                    read_recording(where, fmt, placement_map=placement_map, motion_only=motion_only)
                except ImugaitError as exc:
                    refused.append(exc)
            if refused:
                raise refused[0]
        return run

    return make


def _ximu3(scratch: Path) -> Run:
    from imugait.io.formats import read_recording

    device = scratch / "log" / "x-IMU3 - F7E4 (USB)"
    device.mkdir(parents=True, exist_ok=True)
    names = ("Command.json", "Inertial.csv", "Quaternion.csv")

    def run(data: bytes) -> None:
        parts = data.split(XIMU3_SEPARATOR, len(names) - 1)
        for k, name in enumerate(names):
            if k < len(parts):
                (device / name).write_bytes(parts[k])
            else:
                (device / name).unlink(missing_ok=True)
        read_recording(scratch / "log", "ximu3", placement_map={Placement.LEFT_THIGH: "F7E4"})
    return run


MPU_ROOT = "Healthy Adults-gait activity/NO.1"


def _mpu9250(scratch: Path) -> Run:
    from imugait.io.formats import read_recording

    thigh = scratch / MPU_ROOT / "Thigh-left" / "IMU_1.1bsn"
    shank = scratch / MPU_ROOT / "Shank-left" / "IMU_1.1bsn"
    for p in (thigh, shank):
        p.parent.mkdir(parents=True, exist_ok=True)
    k = np.arange(40)
    acc = np.column_stack([4096 + 300 * np.sin(k / 8), 20 * np.cos(k), -30 + 0 * k]).astype("<i2")
    gyr = np.column_stack([5 + 0 * k, -7 + 0 * k, 1900 * np.sin(k / 17)]).astype("<i2")
    records = np.zeros(k.size, dtype=[("c", "<u4"), ("v", "<i2", 12)])
    records["c"], records["v"][:, :3], records["v"][:, 3:6] = k, acc, gyr
    shank.write_bytes(records.tobytes())

    def run(data: bytes) -> None:
        thigh.write_bytes(data)
        read_recording(scratch, "mpu9250", options={"walk": "NO.1/left/IMU_1"})
    return run


# -- the recorder's log ----------------------------------------------------------------------

def _log_target(structured: bool) -> Callable[[Path], Run]:
    def make(scratch: Path) -> Run:
        from imugait.acquisition.recorder import recover_with_report

        folder = scratch / "rec"
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "recording.imulog"

        def run(data: bytes) -> None:
            log.write_bytes(records_as_log(data) if structured else data)
            report = recover_with_report(folder)
            for s in report.skipped:
                s.describe()
        return run

    return make


def records_as_log(data: bytes) -> bytes:
    """``kind u8 | length u16 | payload`` × n → a log whose records all pass their CRC."""
    from imugait.acquisition.logfile import MAGIC, record_bytes

    out, pos = [MAGIC], 0
    while pos + _RECORD.size <= len(data):
        kind, length = _RECORD.unpack_from(data, pos)
        pos += _RECORD.size
        out.append(record_bytes(kind, data[pos:pos + length]))
        pos += length
    return b"".join(out)


def log_as_records(log: bytes) -> bytes:
    """The inverse of :func:`records_as_log` for an intact log (used to make the seed)."""
    from imugait.acquisition.logfile import MAGIC

    head = struct.Struct("<2sBII")
    out, pos = [], len(MAGIC)
    while pos < len(log):
        _marker, kind, length, _crc = head.unpack_from(log, pos)
        payload = log[pos + head.size:pos + head.size + length]
        if length > 0xFFFF:
            raise ValueError("record too long for the u16 layout")
        out.append(_RECORD.pack(kind, length) + payload)
        pos += head.size + length
    return b"".join(out)


# -- the list --------------------------------------------------------------------------------

_DECODER = dict(expected=(), max_len=1024, time_limit_s=1.0)
_FILE = dict(expected=(ImugaitError,), max_len=16384, time_limit_s=5.0)

TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("decoder.imugait_v1", _lazy_decoder(_v1_factories), **_DECODER),
    Target("decoder.witmotion_serial", _lazy_decoder(_wit_serial), **_DECODER),
    Target("decoder.witmotion_ble", _lazy_decoder(_wit_ble), **_DECODER),
    Target("decoder.movella_dot", _lazy_decoder(_dot), **_DECODER),
    Target("import.native", file_target("in.parquet", "native", motion_only_too=True), **_FILE),
    Target("import.csv", file_target("in.csv", "csv"), **_FILE),
    Target("import.xsens", file_target("MT_thigh.txt", "xsens", {Placement.LEFT_THIGH: "thigh"}), **_FILE),
    Target("import.dot", file_target("D1.csv", "dot", {Placement.LEFT_THIGH: "D1"}), **_FILE),
    Target("import.ximu3", _ximu3, **_FILE),
    Target("import.apdm", file_target("in.h5", "apdm"), **_FILE),
    Target("import.mvnx", file_target("in.mvnx", "mvnx"), **_FILE),
    Target("import.mpu9250", _mpu9250, **_FILE),
    Target("import.hugadb", file_target("HGD_v1_walking_01_00.txt", "hugadb"), **_FILE),
    Target("import.qmt", file_target("in.mat", "qmt", {Placement.LEFT_THIGH: "upper_leg_left"}), **_FILE),
    Target("log.recover", _log_target(structured=False), **_FILE),
    Target("log.records", _log_target(structured=True), **_FILE),
)}


# -- outcomes --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Crash:
    """An input's outcome that is a bug: ``key`` (exception type and where) and its message."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def classify(target: Target, exc: BaseException) -> Crash | None:
    """None when ``exc`` is an expected refusal of ``target``, else the crash: the exception type
    and the innermost frame in imugait (else the innermost frame), and the first line of the
    message."""
    if target.expected and isinstance(exc, target.expected) and not isinstance(exc, InvariantBroken):
        return None
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/imugait/" in f.filename]
    where = (ours or frames or [None])[-1]
    place = f"{Path(where.filename).name}:{where.lineno} ({where.name})" if where else "?"
    text = str(exc).splitlines()[0][:160] if str(exc) else ""
    return Crash(f"{type(exc).__name__} at {place}", text)


def check_one(name: str, run: Run, data: bytes, *, must_accept: bool = False) -> Crash | None:
    """Run one input; None if the outcome is allowed, else the crash (with ``must_accept``, a
    refusal too)."""
    target = TARGETS[name]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            run(data)
    except Exception as exc:  # noqa: BLE001 — sorting every exception is the point here
        crash = classify(target, exc)
        if crash or must_accept:
            return crash or Crash("refused", str(exc))
    return None
