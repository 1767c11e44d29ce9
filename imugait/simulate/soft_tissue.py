"""Soft-tissue artefact (STA): a strapped sensor turns and slides on the skin relative to its bone.

The magnitudes are data with a source for each (``imugait/data/soft_tissue_artefact.json``). Per
sensor on a thigh or a shank, in the segment's ISB frame (x anterior, y long axis, z flexion axis):

* a rotation (rotation vector) and a translation of the sensor's centre, each component a
  subject-specific **linear function of the knee and hip flexion angles** (zero in the anatomical
  pose; Bonci et al. 2014), scaled so that its peak-to-peak excursion over the normative gait
  cycle equals an amplitude drawn from the sourced range;
* a **damped vibration after each initial contact** of the leg, envelope
  ``(t/tp)^2 exp(2 (1 - t/tp))`` times ``sin(2 pi f t)`` — smooth at contact, so the sensor's
  acceleration stays continuous.

The sensor model (:func:`imugait.simulate.sensors.simulate_sensor`) places the sensor at
``R_world_segment · R_sta · R_segment_sensor`` and at ``origin + R_world_segment (p_mount + d_sta)``;
the gyroscope and the accelerometer are differentiated from that pose, so the artefact enters both
consistently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import Joint, Placement, Segment, Side
from imugait.data import load_json
from imugait.errors import ValidationError
from imugait.simulate.curves import normative_curves

STA_FILE = "soft_tissue_artefact.json"
NAMED_SCALES = {"literature": 1.0, "none": 0.0}
"""Names of soft-tissue artefact scales (CLI ``--sta`` and the accuracy benchmark)."""
AXES = ("x", "y", "z")
STA_SEGMENTS = (Segment.THIGH, Segment.SHANK)


@dataclass(frozen=True, eq=False)
class SoftTissueArtefact:
    """The artefact drawn for one sensor (all arrays in the segment's ISB frame).

    Attributes
    ----------
    placement : the sensor's placement (a thigh or a shank).
    rotation_per_rad : (3, 2) rad of rotation vector per rad of (knee flexion, hip flexion).
    translation_per_rad_m : (3, 2) m of displacement per rad of (knee flexion, hip flexion).
    vibration_rotvec_rad : (3,) peak rotation vector of the heel-strike vibration, rad.
    vibration_translation_m : (3,) peak displacement of the heel-strike vibration, m.
    vibration_frequency_hz, vibration_peak_s : frequency and time to the envelope's peak.
    """

    placement: Placement
    rotation_per_rad: np.ndarray
    translation_per_rad_m: np.ndarray
    vibration_rotvec_rad: np.ndarray
    vibration_translation_m: np.ndarray
    vibration_frequency_hz: float
    vibration_peak_s: float

    def evaluate(self, body, angles_rad: dict, t_s: np.ndarray) -> tuple[Rotation, np.ndarray]:
        """The artefact at the instants ``t_s`` (N,).

        ``body`` is a walker or a scripted body (``leg_phase``, ``params``, ``timeline``);
        ``angles_rad`` the pose's driving joint angles (``Pose.angles_rad``). Returns the rotation
        of the sensor relative to its bone (N rotations, segment frame) and the displacement of
        its centre, (N, 3) m in the segment frame.
        """
        side = self.placement.side
        drive = np.column_stack([angles_rad[(Joint.KNEE, side)][:, 0], angles_rad[(Joint.HIP, side)][:, 0]])
        vibration = heel_strike_vibration(body, side, t_s, self.vibration_frequency_hz, self.vibration_peak_s)
        rotvec = drive @ self.rotation_per_rad.T + vibration[:, None] * self.vibration_rotvec_rad
        shift_m = drive @ self.translation_per_rad_m.T + vibration[:, None] * self.vibration_translation_m
        return Rotation.from_rotvec(rotvec), shift_m


def heel_strike_vibration(body, side: Side, t_s: np.ndarray, frequency_hz: float, peak_s: float) -> np.ndarray:
    """Unit-peak damped oscillation after each initial contact of ``side`` (N,), faded by the
    walking weight (no vibration while standing)."""
    since_contact_s = np.mod(body.leg_phase(t_s, side), 1.0) * body.params.stride_time_s
    x = since_contact_s / peak_s
    weight = np.clip(body.timeline.walking_weight(t_s), 0.0, 1.0)
    return weight * x**2 * np.exp(2.0 * (1.0 - x)) * np.sin(2.0 * np.pi * frequency_hz * since_contact_s)


def scale_from_text(value: str) -> float:
    """A soft-tissue artefact scale from text: ``literature`` (1), ``none`` (0) or a number >= 0."""
    if value in NAMED_SCALES:
        return NAMED_SCALES[value]
    try:
        scale = float(value)
    except ValueError:
        raise ValidationError(f"expected {' or '.join(NAMED_SCALES)} or a number, got {value!r}") from None
    if not scale >= 0.0:
        raise ValidationError(f"a soft-tissue artefact scale must be >= 0, got {value!r}")
    return scale


@cache
def _cycle_flexion_rad() -> tuple[np.ndarray, np.ndarray]:
    """Knee and hip flexion over one normative cycle (501 samples each), rad."""
    phase = np.linspace(0.0, 1.0, 501)
    curves = normative_curves()
    return curves.angles_rad("knee_flexion", phase), curves.angles_rad("hip_flexion", phase)


def _unit_drive(rng: np.random.Generator, knee_share: tuple[float, float]) -> np.ndarray:
    """(c_knee, c_hip) with a random knee share and signs, scaled to a peak-to-peak of 1 over
    the normative cycle."""
    share = rng.uniform(*knee_share)
    coefficients = np.array([share, (1.0 - share) * rng.choice([-1.0, 1.0])]) * rng.choice([-1.0, 1.0])
    knee, hip = _cycle_flexion_rad()
    drive = coefficients[0] * knee / np.ptp(knee) + coefficients[1] * hip / np.ptp(hip)
    return coefficients / np.array([np.ptp(knee), np.ptp(hip)]) / np.ptp(drive)


def _unit_vector(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


def sta_ranges(segment: Segment) -> dict:
    """The sourced ranges of ``segment`` from the data file: ``rotation_ptp_deg`` and
    ``translation_ptp_mm`` (per axis ``(low, high)``), ``vibration`` (the heel-strike entry) and
    ``knee_share``."""
    doc = load_json(STA_FILE)
    seg = doc["segments"][segment.value]
    return {
        "rotation_ptp_deg": {a: tuple(seg["rotation_ptp_deg"][a]["range"]) for a in AXES},
        "translation_ptp_mm": {a: tuple(seg["translation_ptp_mm"][a]["range"]) for a in AXES},
        "vibration": doc["heel_strike_vibration"][segment.value],
        "knee_share": tuple(doc["model"]["knee_share"][segment.value]),
    }


def draw_soft_tissue(placement: Placement, scale: float, rng: np.random.Generator) -> SoftTissueArtefact | None:
    """Draw one sensor's artefact, amplitudes ``scale`` × the sourced ranges (None for ``scale`` 0
    or a placement other than a thigh or a shank)."""
    if scale <= 0.0 or placement.segment not in STA_SEGMENTS:
        return None
    ranges = sta_ranges(placement.segment)
    rotation = np.zeros((3, 2))
    translation = np.zeros((3, 2))
    for i, axis in enumerate(AXES):
        rotation[i] = np.deg2rad(scale * rng.uniform(*ranges["rotation_ptp_deg"][axis])) * _unit_drive(
            rng, ranges["knee_share"])
        translation[i] = 1e-3 * scale * rng.uniform(*ranges["translation_ptp_mm"][axis]) * _unit_drive(
            rng, ranges["knee_share"])
    vib = ranges["vibration"]
    return SoftTissueArtefact(
        placement=placement,
        rotation_per_rad=rotation,
        translation_per_rad_m=translation,
        vibration_rotvec_rad=np.deg2rad(scale * rng.uniform(*vib["rotation_deg"])) * _unit_vector(rng),
        vibration_translation_m=1e-3 * scale * rng.uniform(*vib["translation_mm"]) * _unit_vector(rng),
        vibration_frequency_hz=float(rng.uniform(*vib["frequency_hz"])),
        vibration_peak_s=float(rng.uniform(*vib["peak_s"])),
    )
