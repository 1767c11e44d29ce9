import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import Joint, Side, joint_angles_rad, progression_quat
from imugait.kinematics.angles import leg_angles, legs_angles


def test_several_legs_at_once_are_each_leg_alone_to_the_bit():
    """One rotation conversion for both legs (the live pipeline's polls): each leg's angles are
    those of :func:`leg_angles` alone, with the walking direction known everywhere, nowhere and
    in part."""
    rng = np.random.default_rng(11)
    legs = []
    for k, (n, known) in enumerate([(5, "all"), (3, "none"), (7, "part"), (1, "all")]):
        q_thigh, q_shank = (Rotation.random(n, random_state=20 + 2 * k + j).as_quat(scalar_first=True) for j in (0, 1))
        heading = rng.uniform(-np.pi, np.pi, n)
        if known == "none":
            heading[:] = np.nan
        elif known == "part":
            heading[::2] = np.nan
        legs.append((list(Side)[k % 2], q_thigh, q_shank, heading))
    together = legs_angles(legs)
    assert len(together) == len(legs)
    for leg, got in zip(legs, together, strict=True):
        alone = leg_angles(*leg)
        np.testing.assert_array_equal(got.knee_rad, alone.knee_rad, strict=True)
        np.testing.assert_array_equal(got.hip_rotation_progression_rad, alone.hip_rotation_progression_rad, strict=True)
        # … and those of the plain rule, one joint at a time.
        side, q_thigh, q_shank, heading = leg
        np.testing.assert_array_equal(got.knee_rad, joint_angles_rad(q_thigh, q_shank, Joint.KNEE, side), strict=True)
        known = np.isfinite(heading)
        assert np.isnan(got.hip_rotation_progression_rad).tolist() == (~known).tolist()
        if known.any():
            hip = joint_angles_rad(progression_quat(heading[known]), q_thigh[known], Joint.HIP, side)[:, 2]
            np.testing.assert_array_equal(got.hip_rotation_progression_rad[known], hip)
