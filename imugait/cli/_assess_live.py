"""The guided battery of ``imugait assess`` on live or emulated sensors (the sensor handling of
``imugait record``, :mod:`imugait.cli._live`; the run itself, :mod:`imugait.live.guided`)."""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path

EMULATION_LEAD_IN_S = 2.0
"""Seconds of emulated time the emulated sensors stream before the person's first step, whatever
the carrier and --playback: connecting does not eat into it (the emulation's clock waits until
every sensor streams), so the battery played is the same at any playback factor. (It was 0.5 s
× --playback on serial; 2 s is what the tests' --playback 4 runs had.)"""


def run_guided(args: argparse.Namespace, console) -> Path | None:
    """Run the guided battery; returns the finalised session's path (None: nothing recorded)."""
    from imugait.errors import ValidationError

    if args.emulate and (args.port or args.ble):
        raise ValidationError("give either --emulate or sensors (--port/--ble), not both")
    if not args.emulate and not (args.port or args.ble):
        raise ValidationError("no sensors: give --port PATH or --ble ADDRESS (repeatable), or --emulate; "
                              "or --from SESSION.parquet to re-analyse a recording")
    if args.fail_step and not args.emulate:
        raise ValidationError("--fail-step is for emulated runs (--emulate)")
    if args.out is None:
        args.out = Path("assessments") / _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    opened = []
    try:
        driver = _run(args, console, opened)
        recorder = driver.recorder
    except BaseException:
        for rec in opened:  # the log stays on disk: `imugait recover` rebuilds the session
            rec.close()
            console.print(f"recording stopped by an error; recover it with: imugait recover {rec.folder}")
        raise
    path = recorder.finalise()
    run = driver.run
    redone = [(m, r) for m, r in driver.results if not r.passed]
    console.print(f"session written to [bold]{path}[/bold] — steps kept: "
                  f"{', '.join(s.name for s in driver.accepted) or 'none'}"
                  + (f"; attempts repeated: {', '.join(f'{m.name} #{m.attempt}' for m, _ in redone)}" if redone else ""))
    for m, r in redone:
        console.print(f"  {m.name} #{m.attempt}: " + "; ".join(i.message for i in r.issues if i.repeat))
    if run.current is not None:
        console.print(f"[yellow]the run stopped at step {run.index + 1} ({run.step_name}); the analysis uses the "
                      f"steps recorded so far[/yellow]")
    if not driver.accepted:
        console.print("[red]no step was recorded: nothing to analyse[/red]")
        return None
    return path


def _run(args: argparse.Namespace, console, opened: list):
    from rich.live import Live

    from imugait.acquisition.recorder import Recorder
    from imugait.assessment.guided import GuidedRun
    from imugait.assessment.guided_steps import guided_steps
    from imugait.cli._guided_view import render
    from imugait.cli._live import opener_from_args
    from imugait.live.guided import KeyboardPerson, run_guided
    from imugait.live.run import run_event_loop

    steps = guided_steps([s for s in args.protocols.split(",") if s.strip()])
    run = GuidedRun(protocols=steps, countdown_s=args.countdown)
    if args.emulate:
        from imugait.emulate.device import DeviceSettings
        from imugait.emulate.emulator import emulated_devices
        from imugait.emulate.person import EmulatedPerson, scripted_person
        from imugait.emulate.sensors import emulated_sensors

        with console.status("simulating the person doing the battery"):
            emulated = EmulatedPerson(steps, args.fail_step, args.short, args.rate, args.seed, EMULATION_LEAD_IN_S)
        settings = DeviceSettings(sample_loss_probability=args.loss,
                                  samples_per_block=4 if args.carrier == "serial" else None, seed=args.seed)
        opener = emulated_sensors(emulated_devices(emulated.played(), settings), args.playback, args.carrier)
        make_person = scripted_person(emulated, args.countdown)
        notes = (f"imugait assess, emulated battery x{args.playback:g}"
                 + (f", --fail-step {args.fail_step}" if args.fail_step else ""))
    else:
        opener = opener_from_args(args)
        make_person = lambda _opened, _t0: KeyboardPerson()  # noqa: E731
        notes = "imugait assess, guided battery"

    def make_recorder(t0_host_s: float) -> Recorder:
        opened.append(Recorder(args.out, subject_id=args.subject, t0_host_s=t0_host_s, notes=notes))
        return opened[-1]

    keyboard = not args.emulate
    with Live(render(run, 0.0, (), args, keyboard), console=console, refresh_per_second=8) as view:
        return run_event_loop(run_guided(run, opener, make_recorder, make_person, on_tick=lambda t_s, status: view.update(
            render(run, t_s, status, args, keyboard))))
