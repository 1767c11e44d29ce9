"""Helpers for the io tests (a module name unique across tests/, imported by plain name)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np

from imugait.conventions import Placement
from imugait.errors import FormatError
from imugait.model import DeviceInfo, Gap, ImuStream, Session

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASETS = REPO_ROOT / ".." / "shared" / "datasets"


def awkward_floats(rng: np.random.Generator, shape: tuple[int, ...], limit: float) -> np.ndarray:
    """Random float64 bit patterns with ``|x| < limit``: every exponent incl. subnormals, ±0."""
    out = np.empty(int(np.prod(shape)))
    filled = 0
    while filled < out.size:
        bits = rng.integers(0, 2**64, size=4 * out.size, dtype=np.uint64, endpoint=False)
        cand = bits.view(np.float64)
        cand = cand[np.isfinite(cand) & (np.abs(cand) < limit)]
        take = min(cand.size, out.size - filled)
        out[filled:filled + take] = cand[:take]
        filled += take
    specials = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072009e-308, np.nextafter(limit, 0)]
    k = min(len(specials), out.size)
    out[:k] = specials[:k]
    return out.reshape(shape)


def make_stream(rng: np.random.Generator, placement: Placement, n: int, *, mag: bool, quat: bool,
                gaps: tuple[Gap, ...] = (), rate_hz: float = 100.0) -> ImuStream:
    t0 = rng.uniform(-1e6, 1e6)
    t = t0 + np.cumsum(rng.uniform(0.5, 1.5, n)) / rate_hz
    t[1] = np.nextafter(t[0], np.inf)  # adjacent float64s are strictly increasing too
    acc = awkward_floats(rng, (n, 3), 100.0)
    acc[:, 2] = 9.80665 + awkward_floats(rng, (n,), 1.0)  # median |acc| must look like gravity
    gyr = awkward_floats(rng, (n, 3), 40.0)
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return ImuStream(
        placement=placement, t_s=t, acc_mps2=acc, gyr_radps=gyr, sample_rate_hz=rate_hz,
        mag_uT=awkward_floats(rng, (n, 3), 2000.0) if mag else None,
        q_world_sensor=q if quat else None,
        device=DeviceInfo(device_id=f"dev-{placement.value}", model="test-imu", firmware="1.2.3",
                          protocol="imugait_v1", acc_range_mps2=156.9064, gyr_range_radps=34.9),
        gaps=gaps,
    )


def assert_same_session(a: Session, b: Session) -> None:
    """Bit-exact equality of every array and equality of all metadata."""
    assert list(a) == list(b)
    assert a.meta == b.meta
    for p in a:
        x, y = a[p], b[p]
        for name in ("t_s", "acc_mps2", "gyr_radps", "mag_uT", "q_world_sensor"):
            u, v = getattr(x, name), getattr(y, name)
            assert (u is None) == (v is None), f"{p.value}.{name}"
            if u is not None:
                assert u.dtype == v.dtype == np.float64
                assert u.shape == v.shape
                assert u.tobytes() == v.tobytes(), f"{p.value}.{name} differs"
        assert x.sample_rate_hz == y.sample_rate_hz
        assert x.device == y.device
        assert x.gaps == y.gaps


def write_xsens(
    path: Path, counter, *, rate_line: str | None = "// Update Rate: 100.0Hz", sep: str = "\t",
    counter_name: str = "PacketCounter", mag: bool = True, quat: bool = False,
    drop: tuple[str, ...] = (), seed: int = 0, newline_at_end: bool = True,
) -> np.ndarray:
    """Write an MT Manager-like export; returns the (N, 6 or more) values written after the counter."""
    rng = np.random.default_rng(seed)
    counter = np.asarray(counter)
    n = counter.size
    cols = [counter_name, "Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z"]
    values = [rng.normal(0, 1, (n, 3)) + [0, 0, 9.81], rng.normal(0, 1, (n, 3))]
    if mag:
        cols += ["Mag_X", "Mag_Y", "Mag_Z"]
        values.append(rng.normal(0, 0.5, (n, 3)))
    if quat:
        q = rng.normal(size=(n, 4))
        values.append(q / np.linalg.norm(q, axis=1, keepdims=True))
        cols += [f"Quat_q{k}" for k in range(4)]
    data = np.round(np.hstack(values), 6)
    keep = [i for i, c in enumerate(cols) if c not in drop]
    lines = ["// Start Time: 0"] + ([rate_line] if rate_line else []) + ["// Firmware Version: 4.3.1"]
    lines.append(sep.join(cols[i] for i in keep))
    for c, row in zip(counter, data, strict=True):
        cells = [str(int(c))] + [f"{v:.6f}" for v in row]
        lines.append(sep.join(cells[i] for i in keep))
    path.write_text("\r\n".join(lines) + ("\r\n" if newline_at_end else ""))
    return data


def bsn_bytes(counter, acc_counts, gyr_counts, extra=None) -> bytes:
    """A ``.1bsn`` file written record by record with ``struct`` (independently of the reader's
    dtype): u32 counter, int16 acc xyz, gyr xyz, mag xyz (zeros), 3 extra channels."""
    counter = np.asarray(counter)
    n = counter.size
    acc = np.broadcast_to(np.asarray(acc_counts), (n, 3))
    gyr = np.broadcast_to(np.asarray(gyr_counts), (n, 3))
    ext = np.zeros((n, 3), dtype=int) if extra is None else np.broadcast_to(np.asarray(extra), (n, 3))
    return b"".join(struct.pack("<I12h", int(c), *map(int, a), *map(int, g), 0, 0, 0, *map(int, e))
                    for c, a, g, e in zip(counter, acc, gyr, ext, strict=True))


def walking_counts(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) int acc and gyr counts of a leg sensor at ±8 g / ±2000 °/s: ~1 g on x, ~2 rad/s swing."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    acc = np.column_stack([4096 + 300 * np.sin(k / 8), rng.integers(-200, 200, n), rng.integers(-200, 200, n)])
    gyr = np.column_stack([rng.integers(-50, 50, n), rng.integers(-50, 50, n), 1900 * np.sin(k / 17)])
    return acc.astype(int), gyr.astype(int)


def write_mpu9250_tree(files: dict[str, bytes], *, zip_path: Path | None = None, folder: Path | None = None,
                       root: str = "Healthy Adults-gait activity") -> None:
    """The dataset's layout (``<root>/NO.1/Thigh-left/IMU_1.1bsn`` …) as a zip and/or a folder;
    ``files`` maps ``NO.1/Thigh-left/IMU_1`` to the file's bytes."""
    if zip_path is not None:
        with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, data in files.items():
                z.writestr(f"{root}/{name}.1bsn", data)
    if folder is not None:
        for name, data in files.items():
            p = folder / root / f"{name}.1bsn"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)


HUGADB_HEADERS = {
    "upper": [f"{s}_{k}_{a}" for s in ("RF", "RS", "RT", "LF", "LS", "LT") for k in ("acc", "gyro") for a in "xyz"]
    + ["R_EMG", "L_EMG", "act"],
    "lower": [f"{k}_{s}_{a}" for s in ("rf", "rs", "rt", "lf", "ls", "lt") for k in ("acc", "gyro") for a in "xyz"]
    + ["EMG_r", "EMG_l", "act"],
}


def write_hugadb(path: Path, counts: np.ndarray, activity, *, spelling: str = "upper",
                 date: str = "2016-10-20-15-35", emg=(120, 130), cut_last: int = 0) -> None:
    """A HuGaDB text file as the dataset writes it: three ``#`` lines, column names, tab-separated
    integer rows with CRLF. ``counts`` (N, 36); ``cut_last`` removes that many characters from the
    end (a truncated write)."""
    activity = np.broadcast_to(np.asarray(activity), (counts.shape[0],))
    lines = ["#Activity\twalking ", "#ActivityID\t1 ", f"#Date {date}", "\t".join(HUGADB_HEADERS[spelling])]
    for row, act in zip(counts, activity, strict=True):
        lines.append("\t".join(str(int(v)) for v in [*row, *emg, act]))
    text = "\r\n".join(lines) + "\r\n"
    path.write_text(text[:len(text) - cut_last] if cut_last else text, newline="")


def flipped_byte_outcomes(path: Path, bad: Path, read, expected: Session, step: int) -> dict[str, int]:
    """Flip every ``step``-th byte of the file at ``path`` in turn (into ``bad``) and read it with
    ``read``: each must raise :class:`FormatError` naming ``bad`` or give exactly ``expected``.
    Returns how many did which ("error", "identical")."""
    good = path.read_bytes()
    outcomes = {"error": 0, "identical": 0}
    for i in range(4, len(good) - 4, step):
        data = bytearray(good)
        data[i] ^= 0x5A
        bad.write_bytes(bytes(data))
        try:
            back = read(bad)
        except FormatError as exc:
            assert bad.name in str(exc)
            outcomes["error"] += 1
            continue
        assert_same_session(expected, back)
        outcomes["identical"] += 1
    return outcomes
