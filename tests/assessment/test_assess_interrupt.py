"""Ctrl-C during a guided `imugait assess` run: what was recorded is kept (issue 13's fault list,
"Ctrl-C at any --speed", for the guided battery). A real SIGINT is sent from inside the run at a
chosen point of the protocol, so the test does not depend on how fast the machine is."""

from __future__ import annotations

import os
import signal

from imugait.assessment.guided import GuidedRun, GuidedState
from imugait.cli import main
from imugait.io.native import read_session
from imugait.live.guided import GuidedDriver
from imugait.model import EventKind


def _printed(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def _interrupted_events(folder):
    session = read_session(folder / "session.parquet")
    return session, [e for e in session.meta.events if e.kind is EventKind.INTERRUPTED]


def test_ctrl_c_after_a_kept_step_reports_the_steps_recorded_so_far(tmp_path, capsys, monkeypatch):
    checked = GuidedRun.checked

    def checked_then_ctrl_c(self, result, t_s):
        state = checked(self, result, t_s)
        if result.passed and not getattr(self, "_ctrl_c", False):
            self._ctrl_c = True
            os.kill(os.getpid(), signal.SIGINT)
        return state

    monkeypatch.setattr(GuidedRun, "checked", checked_then_ctrl_c)
    out = tmp_path / "battery"
    assert main(["assess", "--emulate", "--short", "--playback", "4", "--protocols", "balance", "--out", str(out), "--no-calibration"]) == 0
    text = _printed(capsys)
    assert "the run stopped at step 2" in text and "the analysis uses the steps recorded so far" in text
    assert "4 emulated sensors, playback 4×" in text  # the live table's title (it read "True emulated sensor")
    session, interrupted = _interrupted_events(out)
    assert len(interrupted) == 1
    kept = [s.name for s in session.meta.steps if not s.name.startswith("failed:")]
    assert len(kept) == 1 and kept[0] in text
    assert interrupted[0].t_s > session.meta.steps[0].t_end_s  # after the kept step, inside the recording
    assert (out / "report.json").exists() and (out / "assessment.json").exists()


def test_ctrl_c_during_the_first_step_keeps_the_recording_and_says_nothing_was_analysed(tmp_path, capsys, monkeypatch):
    advance = GuidedDriver.advance

    def advance_then_ctrl_c(self):
        advance(self)
        if self.run.state is GuidedState.RECORDING and not getattr(self, "_ctrl_c", False):
            self._ctrl_c = True
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(GuidedDriver, "advance", advance_then_ctrl_c)
    out = tmp_path / "battery"
    assert main(["assess", "--emulate", "--short", "--playback", "4", "--protocols", "balance", "--out", str(out), "--no-calibration"]) == 1
    text = _printed(capsys)
    assert "no step was recorded: nothing to analyse" in text and "session written to" in text
    session, interrupted = _interrupted_events(out)
    assert len(interrupted) == 1 and not session.meta.steps
    assert all(stream.n_samples > 0 for stream in session.streams)  # the samples before Ctrl-C are kept
    assert not (out / "report.json").exists()
