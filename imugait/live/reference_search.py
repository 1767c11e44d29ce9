"""What a live run's legs are referred to: the standing found in the grid's rows, or — without one
after ``standing_wait_s`` of walking, or once a short walk has ended — mid-stance; looked for
again after a recalibration (:class:`ReferenceSearch`, used by
:class:`~imugait.live.kinematics.LiveKinematics`; the looks themselves are
:mod:`imugait.live.standing`'s)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from imugait.conventions import Placement, Side
from imugait.live.config import LiveConfig
from imugait.live.history import History
from imugait.live.standing import find_standing, passes_ended, walked_s
from imugait.model import ProtocolStep


class ReferenceSearch:
    """The reference of the legs ``sides`` of the sensors ``placements`` on a grid at ``rate_hz``."""

    def __init__(self, placements: Sequence[Placement], sides: Sequence[Side], rate_hz: float,
                 config: LiveConfig) -> None:
        self.placements, self.sides, self.rate_hz, self.config = tuple(placements), tuple(sides), rate_hz, config
        self.standing_step: ProtocolStep | None = None
        self.standing_k: tuple[int, int] | None = None
        """Grid rows [k0, k1) of the standing step."""
        self._standing_mask: np.ndarray | None = None
        self.midstance = False
        """No standing: the legs calibrate against mid-stance."""
        self.search_from = 0
        """Grid row from which standing is looked for again (:meth:`restart`)."""

    def reference_in(self, rows: Mapping[str, np.ndarray], k0: int, ended: bool = False) -> dict | None:
        """Look in ``rows`` (grid rows from ``k0``: ``t_s`` and every sensor's accelerations and
        rates): the standing's gyroscope biases per sensor if it is there (kept), an empty dict if
        the legs are to be referred to mid-stance (the person walked ``standing_wait_s`` without
        standing, or every leg walked and stopped — ``ended``: the stream ended, walked), None when
        neither is known yet."""
        found = find_standing(rows, k0, self.placements, self.rate_hz, self.config.periods)
        if found is not None:
            self.standing_step, self.standing_k, self._standing_mask = found.step, found.k, found.mask
            return dict(found.gyr_bias_radps)
        wait, still = self.config.standing_wait_s, self.config.end_of_pass_s
        if (wait is not None and walked_s(rows, self.sides, self.rate_hz, self.config.periods) >= wait) or (
                still is not None and passes_ended(rows, self.sides, self.rate_hz, self.config.periods,
                                                   self.config.calibration.min_motion_s, still, ended)):
            self.midstance = True
            return {}
        return None

    def search_again(self, grid: History, k: int, ended: bool = False) -> bool:
        """After :meth:`restart`, at grid row ``k``: whether the reference has been found in the
        ``grid``'s rows since (``ended``: the walk ended at row ``k``). The sensors' filters go on
        with the biases they have."""
        k0 = max(self.search_from, grid.first_index)
        if k - k0 < 2:
            return False
        names = ["t_s", *(f"{p.value}/{c}" for p in self.placements for c in ("acc_mps2", "gyr_radps"))]
        rows = {name: grid.since(name, k0)[:k - k0] for name in names}
        return self.reference_in(rows, k0, ended) is not None

    def standing_on(self, k0: int, n: int) -> np.ndarray | None:
        """(n,) bool over grid rows from ``k0``: the standing reference; None: mid-stance (none, or
        it has left those rows)."""
        if self.standing_k is None or self.standing_k[0] < k0:
            return None
        standing = np.zeros(n, dtype=bool)
        standing[self.standing_k[0] - k0:self.standing_k[1] - k0] = self._standing_mask
        return standing

    def restart(self, k: int) -> None:
        """Forget the reference; look for it again in the grid rows from ``k`` on."""
        self.standing_step, self.standing_k, self.midstance = None, None, False
        self.search_from = k
