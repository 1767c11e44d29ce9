"""The soak benchmark in short: four 200-Hz sensors for two virtual minutes with 1 % loss,
±100 ppm clocks and a link drop every 30 s per sensor. The hour-long run is
``benchmarks/soak.py`` (numbers in docs/reliability.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

soak = pytest.importorskip("soak")


def test_short_soak_loses_nothing_silently_and_stays_aligned(tmp_path):
    cfg = soak.SoakConfig(duration_s=120.0, reconnect_every_s=30.0)
    result = soak.run_soak(cfg, tmp_path / "soak")
    assert len(result.sensors) == 4
    for r in result.sensors:
        assert r.lost_silently == 0 and r.made_up == 0, r
        assert r.received == r.sent - r.destroyed_on_wire, r
        # 1 % of the samples plus the drops' 2 s each, all in the session's gaps.
        assert r.lost_accounted >= 0.005 * r.sent + r.drops * cfg.reconnect_down_s * cfg.rate_hz * 0.9, r
        assert r.alignment_max_ms <= 1.0, r
        assert r.drops >= 2
    assert result.events["link_down"] == result.events["link_up"] == sum(r.drops for r in result.sensors)
    text = soak.report(result)
    assert "0 lost silently (0): met" in text and "alignment ≤ 1 ms" in text
