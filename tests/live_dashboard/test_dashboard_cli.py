"""`imugait live` end to end on emulated serial sensors (virtual clock): one URL line, the LAN
warning only when asked, a recording from the start that `analyze` reads."""

from __future__ import annotations

import re

from imugait.cli import main

URL = re.compile(r"^dashboard: http://(?P<host>[^:/]+):(?P<port>\d+)/\?token=(?P<token>[A-Za-z0-9_-]{32,})$", re.M)


def test_live_prints_the_url_and_records(tmp_path, capsys):
    rec = tmp_path / "rec"
    assert main(["live", "--emulate", "4", "--duration", "14", "--playback", "5", "--no-browser",
                 "--record", str(rec)]) == 0
    out, err = capsys.readouterr()
    [found] = URL.findall(out)
    assert found[0] == "127.0.0.1" and int(found[1]) > 0
    assert "warning" not in err
    assert f"session written to {rec / 'session.parquet'}" in out
    assert main(["analyze", str(rec / "session.parquet")]) == 0


def test_a_lan_host_is_served_only_with_a_warning(tmp_path, capsys):
    # The warning and the URL come before any sample: a 3-s run at real time is enough. (An
    # emulation simulates the duration plus 10 s at the playback factor up front: 9 s at ×5 was a
    # 59-s walk to simulate, 3.6 CPU-s for this test; docs/testing.md "Suite time".)
    assert main(["live", "--emulate", "2", "--duration", "3", "--playback", "1", "--no-browser",
                 "--host", "0.0.0.0"]) == 0
    out, err = capsys.readouterr()
    assert "warning: the dashboard is served on 0.0.0.0" in err
    assert len(URL.findall(out)) == 1
