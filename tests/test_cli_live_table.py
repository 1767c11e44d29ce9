"""The live sensor table of `imugait record` / `stream`: readable at 80 columns and in a log."""

import argparse

from rich.console import Console

from imugait.acquisition.sources import SourceKind
from imugait.cli._live import render
from imugait.conventions import Placement
from imugait.live.acquisition import SensorStatus
from imugait.transport.link import LinkState


def _status(placement: Placement, outages=()) -> SensorStatus:
    return SensorStatus(placement=placement, address="/dev/pts/7", kind=SourceKind.SERIAL,
                        link_state=LinkState.RECONNECTING if outages else LinkState.CONNECTED,
                        device_id="1a6a170000000000", rate_hz=200.0, n_samples=719_999, n_lost=1234,
                        battery_percent=87.0, drift_ppm=-75.6, clock_offset_s=-4290.819,
                        bytes_discarded=10_240, frame_errors=3, reconnects=len(outages), outages=outages)


def _printed(width: int, emulate: int) -> str:
    args = argparse.Namespace(command="record", emulate=emulate, playback=4.0)
    status = [_status(p) for p in Placement if p.value.endswith(("thigh", "shank"))]
    status[1] = _status(status[1].placement, outages=((12.0, 1.5), (30.0, 0.25)))
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    console.print(render(status, 3599.96, args))
    return console.export_text()


def test_every_word_fits_80_columns_in_a_log():
    text = _printed(80, emulate=4)
    assert "…" not in text, text
    assert max(len(line) for line in text.splitlines()) <= 80
    for word in ("L thigh", "R shank", "retrying", "1234 (0.2%)", "87%", "-76", "10240", "2 (1.8 s)"):
        assert word in text, (word, text)
    # One meaning per "x": the count of sensors and the playback factor are each named.
    assert "4 emulated sensors, playback 4×" in text and "x4" not in text
    # The device clock's offset from the session clock is a meaningless large number: not shown.
    assert "4290" not in text


def test_live_sensors_are_named_as_such():
    assert "live sensors" in _printed(100, emulate=0)
