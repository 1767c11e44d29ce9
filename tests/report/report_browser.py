"""Real headless Chromium for the HTML report tests (Debian's ``chromium`` package).

When Chromium is missing and the tests run as root, it is installed with apt-get; otherwise the
browser tests are skipped with a reason that says how to enable them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
)
CONSOLE_ERROR_MARKERS = ("Uncaught", "ERROR:CONSOLE", "Refused to", "Failed to load resource")


def ensure_chromium() -> tuple[str | None, str]:
    """(path to chromium or None, reason when None)."""
    path = shutil.which("chromium")
    if path:
        return path, ""
    if os.geteuid() != 0:
        return None, ("SKIPPED: headless Chromium not found and not running as root; install Debian's "
                      "'chromium' package (apt-get install -y chromium) to run the HTML browser tests")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if done.returncode:
            return None, f"SKIPPED: '{' '.join(cmd)}' failed: {done.stderr[-500:]}"
    path = shutil.which("chromium")
    return path, "" if path else "SKIPPED: apt-get installed chromium but it is not on PATH"


@dataclass(frozen=True)
class BrowserRun:
    dom: str
    screenshot: Path
    log: str

    @property
    def console_errors(self) -> list[str]:
        return [line for line in self.log.splitlines() if any(m in line for m in CONSOLE_ERROR_MARKERS)]


def render(chromium: str, html: Path, screenshot: Path, profile: Path, size: str = "1200,3000") -> BrowserRun:
    """Load ``html`` twice in headless Chromium: once to dump the DOM, once for a screenshot;
    stderr (with console logging on) of both runs is returned as the log."""
    url = html.resolve().as_uri()
    common = [chromium, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]
    dump = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    shot = subprocess.run([*common, f"--screenshot={screenshot}", f"--window-size={size}", url],
                          capture_output=True, text=True, timeout=120)
    if dump.returncode or shot.returncode:
        raise RuntimeError(f"chromium failed: {dump.stderr[-800:]} {shot.stderr[-800:]}")
    return BrowserRun(dump.stdout, screenshot, dump.stderr + shot.stderr)
