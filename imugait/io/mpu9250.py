"""MPU-9250 ``.1bsn`` files: the binary stream of one sensor.

A ``.1bsn`` file is a sequence of 28-byte little-endian records, one per sample at 100 Hz:

=======  =========  ==========================================================================
bytes    type       content
=======  =========  ==========================================================================
0–3      uint32     record counter (samples since the start of the recording)
4–9      3 × int16  accelerometer x, y, z; ±8 g full scale: ``· 8 / 32768`` g
10–15    3 × int16  gyroscope x, y, z; ±2000 °/s full scale: ``· 2000 / 32768`` °/s
16–21    3 × int16  magnetometer x, y, z — zero in every file of the dataset; ignored
22–27    3 × int16  three undocumented channels (they look like orientation angles in 0.01°);
                    kept raw in :attr:`BsnStream.extra_raw`, not imported into a session
=======  =========  ==========================================================================

``t_s = counter / 100``. A counter step of *k* > 1 is *k* − 1 lost samples (a
:class:`~imugait.model.Gap`, never interpolated). A single counter value that disagrees with both
neighbours while they agree with each other (``460, 461, 462, 463, 208, 465``: one flipped bit)
is a corrupted counter, not lost samples: it is replaced by the value between its neighbours and
reported. Any other counter that does not increase is a :class:`~imugait.errors.FormatError`.

The walks of the gait-rehabilitation dataset (a thigh and a shank file per walk) are read by
:mod:`imugait.io.mpu9250_walks`; ``docs/formats.md`` describes both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imugait.conventions import GRAVITY_MPS2, Placement
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import FormatError, ValidationError
from imugait.io._text_table import gaps_from_steps
from imugait.model import DeviceInfo, Gap, ImuStream

RECORD = np.dtype([("counter", "<u4"), ("acc", "<i2", (3,)), ("gyr", "<i2", (3,)), ("mag", "<i2", (3,)),
                   ("extra", "<i2", (3,))])
"""One ``.1bsn`` record (28 bytes, little endian)."""
RECORD_BYTES = RECORD.itemsize
MPU9250_RATE_HZ = 100.0
MPU9250_ACC_RANGE_MPS2 = 8.0 * GRAVITY_MPS2
"""±8 g full scale (1 g = standard gravity)."""
MPU9250_GYR_RANGE_RADPS = float(np.deg2rad(2000.0))
"""±2000 °/s full scale."""
ACC_MPS2_PER_COUNT = MPU9250_ACC_RANGE_MPS2 / 32768.0
GYR_RADPS_PER_COUNT = MPU9250_GYR_RANGE_RADPS / 32768.0


@dataclass(frozen=True, eq=False)
class BsnStream:
    """One decoded ``.1bsn`` file.

    Attributes
    ----------
    name : the file (or zip member) name, used in messages.
    counter : (N,) int64, record counter, corrupted values repaired (see ``repaired``).
    acc_mps2 : (N, 3) float64, m/s², sensor frame, specific force.
    gyr_radps : (N, 3) float64, rad/s, sensor frame.
    extra_raw : (N, 3) int16, the three undocumented channels as stored.
    repaired : indices of records whose corrupted counter was replaced.
    trailing_bytes : bytes after the last complete record that were left out (0 unless the file
        is truncated and was read with ``allow_truncated=True``).
    """

    name: str
    counter: np.ndarray
    acc_mps2: np.ndarray
    gyr_radps: np.ndarray
    extra_raw: np.ndarray
    repaired: tuple[int, ...]
    trailing_bytes: int

    @property
    def t_s(self) -> np.ndarray:
        """(N,) float64, s: ``counter / 100``."""
        return self.counter / MPU9250_RATE_HZ

    @property
    def gaps(self) -> tuple[Gap, ...]:
        return gaps_from_steps(np.diff(self.counter))

    def to_stream(self, placement: Placement, device_id: str = "unknown") -> ImuStream:
        """This file as the :class:`ImuStream` of ``placement`` (device info included)."""
        device = DeviceInfo(device_id=device_id, model="MPU-9250", protocol="mpu9250-1bsn",
                            acc_range_mps2=MPU9250_ACC_RANGE_MPS2, gyr_range_radps=MPU9250_GYR_RANGE_RADPS,
                            gyr_sampling=source_gyr_sampling("mpu9250_1bsn"))
        try:
            return ImuStream(placement=placement, t_s=self.t_s, acc_mps2=self.acc_mps2, gyr_radps=self.gyr_radps,
                             sample_rate_hz=MPU9250_RATE_HZ, device=device, gaps=self.gaps)
        except ValidationError as exc:
            raise ValidationError(f"{self.name}: {exc}") from None

    def notes(self) -> list[str]:
        """What the import changed or left out, for the session's notes."""
        out = []
        if self.repaired:
            out.append(f"{self.name}: corrupted counter repaired at record(s) {', '.join(map(str, self.repaired))}")
        if self.trailing_bytes:
            out.append(f"{self.name}: {self.trailing_bytes} trailing byte(s) of an incomplete record left out")
        return out


def decode_1bsn(data: bytes, name: str, *, allow_truncated: bool = False) -> BsnStream:
    """Decode the bytes of one ``.1bsn`` file.

    Parameters
    ----------
    data : the whole file.
    name : used in messages (file name or zip member).
    allow_truncated : keep the complete records of a file whose size is not a multiple of 28
        bytes (an interrupted write or incomplete copy) instead of raising.

    Raises
    ------
    FormatError
        A size that is not a multiple of 28 (unless ``allow_truncated``), fewer than 2 records,
        or a counter that does not increase.
    """
    n, trailing = divmod(len(data), RECORD_BYTES)
    if trailing and not allow_truncated:
        raise FormatError(
            f"{name} is truncated: {len(data)} bytes are {n} complete {RECORD_BYTES}-byte records and "
            f"{trailing} trailing byte(s) (interrupted write or incomplete copy); import with "
            f"--allow-truncated (allow_truncated=True) to keep the {n} complete records"
        )
    if n < 2:
        raise FormatError(f"{name}: needs at least 2 records of {RECORD_BYTES} bytes, has {len(data)} bytes")
    rec = np.frombuffer(data, dtype=RECORD, count=n)
    counter, repaired = _checked_counter(rec["counter"], name)
    return BsnStream(
        name=name, counter=counter,
        acc_mps2=rec["acc"].astype(np.float64) * ACC_MPS2_PER_COUNT,
        gyr_radps=rec["gyr"].astype(np.float64) * GYR_RADPS_PER_COUNT,
        extra_raw=rec["extra"].copy(), repaired=repaired, trailing_bytes=trailing,
    )


def read_1bsn(path: str | os.PathLike, *, allow_truncated: bool = False) -> BsnStream:
    """Read and decode one ``.1bsn`` file (see :func:`decode_1bsn`)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"{p.name}: no such file") from None
    except OSError as exc:
        raise FormatError(f"{p.name}: cannot read ({exc.strerror})") from None
    return decode_1bsn(data, p.name, allow_truncated=allow_truncated)


def _checked_counter(raw: np.ndarray, name: str) -> tuple[np.ndarray, tuple[int, ...]]:
    c = raw.astype(np.int64)
    repaired = []
    # Ascending, re-checked on the repaired values, so two corrupted counters in a row are not
    # "repaired" into agreement with each other.
    for i in np.flatnonzero((c[2:] - c[:-2] == 2) & (c[1:-1] != c[:-2] + 1)) + 1:
        if c[i + 1] - c[i - 1] == 2 and c[i] != c[i - 1] + 1:
            c[i] = c[i - 1] + 1
            repaired.append(int(i))
    back = np.flatnonzero(np.diff(c) <= 0)
    if back.size:
        k = int(back[0]) + 1
        raise FormatError(
            f"{name}: record counter does not increase at record {k} ({c[k - 1]} then {c[k]}); "
            f"is the file damaged, or several recordings joined?"
        )
    return c, tuple(repaired)
