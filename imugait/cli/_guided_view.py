"""What the person sees during ``imugait assess``: the step, its instructions, the countdown, the
recording's progress, the check and its feedback, with the sensor table under it."""

from __future__ import annotations

from imugait.assessment.guided import GuidedRun, GuidedState


def render_step(run: GuidedRun, t_s: float, keyboard: bool):
    """A rich panel for the current state of ``run`` at session time ``t_s``."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    n = len(run.protocols)
    if run.state is GuidedState.FINISHED or run.current is None:
        return Panel(Text("All steps done — analysing.", style="bold green"), title=f"Assessment ({n} steps)")
    step = run.current
    lines: list = []
    header = f"Step {run.index + 1} of {n}: {step.title}"
    if run.attempt > 1:
        header += f" (attempt {run.attempt})"
    if run.state is GuidedState.REDO:
        lines.append(Text("Please do this step again:", style="bold red"))
        lines += [Text(f"  • {f}", style="red") for f in run.feedback]
    for i, text in enumerate(step.instructions, 1):
        lines.append(Text(f"{i}. {text}"))
    lines.append(Text(""))
    if run.state in (GuidedState.PROMPT, GuidedState.REDO):
        lines.append(Text("Press Enter when ready (s Enter: skip this step, q Enter: stop)." if keyboard
                          else "Getting ready…", style="bold"))
    elif run.state is GuidedState.COUNTDOWN:
        lines.append(Text(f"Starting in {run.countdown_remaining_s(t_s):.0f} …", style="bold yellow"))
    elif run.state is GuidedState.RECORDING:
        elapsed = run.elapsed_s(t_s)
        total = step.hold_s
        lines.append(Text(f"Recording — {elapsed:.0f} s" + (f" of up to {total:.0f} s (Enter: done)" if keyboard else ""),
                          style="bold green"))
        filled = int(round(40 * min(elapsed / total, 1.0))) if total > 0 else 40
        lines.append(Text("━" * filled, style="green") + Text("━" * (40 - filled), style="grey37"))
    elif run.state is GuidedState.CHECKING:
        lines.append(Text("Checking the recording …", style="bold cyan"))
    done = Text(" ".join(f"✓ {m.name}" for m in run.accepted_marks() if m.name != run.step_name), style="dim")
    return Panel(Group(*lines, done), title=header, title_align="left")


def render(run: GuidedRun, t_s: float, status, args, keyboard: bool):
    """The step panel above the live sensor table of ``imugait record``."""
    from rich.console import Group

    from imugait.cli._live import render as render_sensors

    return Group(render_step(run, t_s, keyboard), render_sensors(status, t_s, args))
