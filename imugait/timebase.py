"""One time grid for several sensors: each samples at its own instants, angles need common ones.

Vectors are interpolated linearly and orientations by spherical linear interpolation. Samples of
the grid that fall inside a stream's lost-sample gap are marked (``gap_mask``) so that later
stages can drop what was made up, instead of trusting it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imugait.errors import ValidationError
from imugait.model import ImuStream


def common_grid(streams: Sequence[ImuStream], rate_hz: float | None = None) -> np.ndarray:
    """A uniform grid (M,), s, over the time all ``streams`` overlap, at ``rate_hz``
    (default: the highest nominal rate among them)."""
    if not streams:
        raise ValidationError("common_grid needs at least one stream")
    rate_hz = rate_hz or max(s.sample_rate_hz for s in streams)
    t0 = max(float(s.t_s[0]) for s in streams)
    t1 = min(float(s.t_s[-1]) for s in streams)
    if t1 - t0 < 1.0 / rate_hz:
        names = ", ".join(s.placement.value for s in streams)
        raise ValidationError(f"streams {names} do not overlap in time ({t0:.3f} s .. {t1:.3f} s)")
    n = int(np.floor((t1 - t0) * rate_hz)) + 1
    return t0 + np.arange(n) / rate_hz


def interp_vectors(t_src_s: np.ndarray, values: np.ndarray, t_dst_s: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values`` (N, K) sampled at ``t_src_s`` onto ``t_dst_s`` (M,)."""
    values = np.asarray(values, dtype=float)
    return np.column_stack([np.interp(t_dst_s, t_src_s, values[:, k]) for k in range(values.shape[1])])


def slerp_quats(t_src_s: np.ndarray, q_src: np.ndarray, t_dst_s: np.ndarray) -> np.ndarray:
    """Orientations (N, 4) scalar first at ``t_src_s`` → (M, 4) at ``t_dst_s`` (clamped at the ends).

    Normalised linear interpolation between neighbouring samples (sign-aligned): between samples
    of a body-worn IMU the rotation is a few degrees at most, where it differs from true slerp by
    well under 0.01° — and it is several times faster on long recordings.
    """
    q_src = np.asarray(q_src, dtype=float)
    t_dst = np.clip(t_dst_s, t_src_s[0], t_src_s[-1])
    i = np.clip(np.searchsorted(t_src_s, t_dst, side="right") - 1, 0, len(t_src_s) - 2)
    frac = ((t_dst - t_src_s[i]) / (t_src_s[i + 1] - t_src_s[i]))[:, None]
    q0, q1 = q_src[i], q_src[i + 1]
    q1 = np.where(np.sum(q0 * q1, axis=1, keepdims=True) < 0.0, -q1, q1)
    q = (1.0 - frac) * q0 + frac * q1
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def gap_mask(stream: ImuStream, t_dst_s: np.ndarray) -> np.ndarray:
    """(M,) bool: True where ``t_dst_s`` falls inside one of ``stream``'s lost-sample gaps."""
    mask = np.zeros(t_dst_s.shape, dtype=bool)
    for gap in stream.gaps:
        t_before, t_after = stream.t_s[gap.after_index], stream.t_s[gap.after_index + 1]
        mask |= (t_dst_s > t_before) & (t_dst_s < t_after)
    return mask
