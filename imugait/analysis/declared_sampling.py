"""A user's declaration of what every gyroscope sample stands for (``imugait analyze --gyr-sampling``),
applied to the sessions an analysis reads and noted in its result's warnings."""

from __future__ import annotations

from dataclasses import replace


class DeclaredGyrSampling:
    """The user's ``--gyr-sampling`` (None: the session's own declarations stand): applied to each
    session read, remembering what the session declared, for the note in the result's warnings."""

    def __init__(self, sampling) -> None:
        self.sampling = sampling
        self.session_said: dict[str, set[str]] = {}

    def apply(self, session):
        if self.sampling is None:
            return session
        for placement, stream in session.items():
            self.session_said.setdefault(stream.device.gyr_sampling.value, set()).add(placement.value)
        return session.with_gyr_sampling(self.sampling)

    def noted(self, result):
        """``result`` with the note appended to its warnings (unchanged without ``--gyr-sampling``)."""
        if self.sampling is None:
            return result
        said = "; ".join(f"{kind}: {', '.join(sorted(placements))}" for kind, placements in sorted(self.session_said.items()))
        note = (f"gyroscope samples integrated as {self.sampling.value} for every sensor (--gyr-sampling), "
                f"overriding the session file's declaration ({said or 'no sensor read'})")
        return replace(result, warnings=(*result.warnings, note))


class DeclaredWindows:
    """A session source whose windows get the user's ``--gyr-sampling`` (:class:`DeclaredGyrSampling`)."""

    def __init__(self, source, declared: DeclaredGyrSampling) -> None:
        self.source, self.declared = source, declared
        self.meta, self.t_start_s, self.t_end_s = source.meta, source.t_start_s, source.t_end_s

    def read(self, t_start_s: float, t_end_s: float):
        return self.declared.apply(self.source.read(t_start_s, t_end_s))
