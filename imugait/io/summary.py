"""A short human-readable summary of a session (what ``imugait info`` prints)."""

from __future__ import annotations

from imugait.model import Session


def describe_session(session: Session, title: str = "") -> str:
    """Multi-line text: metadata, one line per stream (samples, rate, duration, lost samples,
    magnetometer/orientation presence, device and what its gyroscope samples stand for), the protocol steps and the event log (counts per
    kind and the first entries)."""
    m = session.meta
    lines = [title] if title else []
    lines += [
        f"subject      {m.subject_id}",
        f"recorded at  {m.recorded_at}",
        f"source       {m.source or '-'}   (imugait {m.software_version})",
        f"time span    {session.t_start_s:.3f} .. {session.t_end_s:.3f} s "
        f"({session.t_end_s - session.t_start_s:.3f} s)",
    ]
    if m.notes:
        lines.append(f"notes        {m.notes}")
    lines.append(f"streams      {len(session)}")
    for p, s in session.items():
        expected = s.n_samples + s.n_lost_total
        lost_pct = 100.0 * s.n_lost_total / expected
        extras = [name for name, arr in (("mag", s.mag_uT), ("quat", s.q_world_sensor)) if arr is not None]
        if s.device.mag_normalised and s.mag_uT is not None:
            extras[0] = "mag (nominal µT)"
        lines.append(
            f"  {p.value:<12} {s.n_samples:>8} samples @ {s.sample_rate_hz:g} Hz, {s.duration_s:.3f} s, "
            f"lost {s.n_lost_total} ({lost_pct:.2f} %) in {len(s.gaps)} gap(s)"
            + (f", {' + '.join(extras)}" if extras else "")
            + f", device {s.device.device_id} ({s.device.model}), gyroscope samples {s.device.gyr_sampling.value}"
        )
    if m.steps:
        lines.append(f"steps        {len(m.steps)}")
        for st in m.steps:
            lines.append(f"  {st.name:<20} {st.t_start_s:9.3f} .. {st.t_end_s:9.3f} s")
    else:
        lines.append("steps        none")
    if m.events:
        counts: dict[str, int] = {}
        for e in m.events:
            counts[e.kind.value] = counts.get(e.kind.value, 0) + 1
        lines.append(f"events       {len(m.events)}: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
        lines += [f"  {e.describe()}" for e in m.events[:MAX_EVENTS_SHOWN]]
        if len(m.events) > MAX_EVENTS_SHOWN:
            lines.append(f"  … {len(m.events) - MAX_EVENTS_SHOWN} more (session.meta.events)")
    return "\n".join(lines)


MAX_EVENTS_SHOWN = 10
"""Event-log entries listed by :func:`describe_session`; the rest are counted."""
