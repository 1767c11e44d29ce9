"""Draw docs/figures/conventions.png: ISB segment frames, internal rotation +, knee varus/valgus.

Every segment pose and every axis arrow is computed with ``imugait.conventions``
(``relative_rotation_from_angles`` for the joints, ``joint_angles_rad`` for the printed labels),
so the picture cannot disagree with the code: if the sign table changes, the drawing changes.

Usage::

    .venv/bin/python docs/figures/make_conventions_figure.py [OUT.png]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Ellipse, FancyArrowPatch  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402

from imugait.conventions import (  # noqa: E402
    Joint,
    Side,
    joint_angles_rad,
    quat,
    relative_rotation_from_angles,
)

OUT_PNG = Path(__file__).with_name("conventions.png")

# Body sizes for the drawing only, m.
HIP_HALF_WIDTH_M = 0.09
THIGH_LENGTH_M = 0.42
SHANK_LENGTH_M = 0.42
AXIS_LENGTH_M = 0.12

# The subject faces world +x for the drawing (the heading itself is arbitrary). The pelvis
# (or progression) frame in the world: ISB X anterior -> world x, Y superior -> world z,
# Z right -> world -y; a +90° turn about world x.
R_WORLD_PELVIS = Rotation.from_euler("x", 90.0, degrees=True)

AXIS_COLOURS = {"X": "#d62728", "Y": "#2ca02c", "Z": "#1f77b4"}
WORLD_COLOUR = "black"
BONE_COLOUR = "#555555"


@dataclass(frozen=True)
class View:
    """An orthographic view: page-right, page-up and towards-the-viewer as world unit vectors."""

    right: np.ndarray
    up: np.ndarray

    @property
    def towards_viewer(self) -> np.ndarray:
        return np.cross(self.right, self.up)

    def project(self, p_world: np.ndarray) -> np.ndarray:
        return np.array([np.dot(p_world, self.right), np.dot(p_world, self.up)])


# Seen from the front (viewer at +x): the subject's right (world -y) is on the page's left.
FRONT = View(right=np.array([0.0, 1.0, 0.0]), up=np.array([0.0, 0.0, 1.0]))
# Seen from the subject's right (viewer at -y): anterior is to the page's right.
SIDE_FROM_RIGHT = View(right=np.array([1.0, 0.0, 0.0]), up=np.array([0.0, 0.0, 1.0]))
# Seen from above, walking direction up the page: the subject's right is on the page's right.
TOP = View(right=np.array([0.0, -1.0, 0.0]), up=np.array([1.0, 0.0, 0.0]))


@dataclass(frozen=True)
class Leg:
    side: Side
    hip_m: np.ndarray
    knee_m: np.ndarray
    ankle_m: np.ndarray
    r_world_thigh: Rotation
    r_world_shank: Rotation


def pose_leg(
    side: Side,
    hip_deg: tuple[float, float, float],
    knee_deg: tuple[float, float, float],
    r_world_pelvis: Rotation = R_WORLD_PELVIS,
    origin_m: np.ndarray | None = None,
    hip_half_width_m: float = HIP_HALF_WIDTH_M,
) -> Leg:
    """Pose one leg from sign-table angles (flexion, adduction, internal rotation), degrees."""
    origin = np.zeros(3) if origin_m is None else np.asarray(origin_m, dtype=float)
    # q_world_thigh = q_world_pelvis ⊗ q_pelvis_thigh, q_world_shank = q_world_thigh ⊗ q_thigh_shank.
    r_world_thigh = r_world_pelvis * relative_rotation_from_angles(np.deg2rad(hip_deg), Joint.HIP, side)
    r_world_shank = r_world_thigh * relative_rotation_from_angles(np.deg2rad(knee_deg), Joint.KNEE, side)
    to_right = 1.0 if side is Side.RIGHT else -1.0
    hip = origin + r_world_pelvis.apply([0.0, 0.0, to_right * hip_half_width_m])
    knee = hip + r_world_thigh.apply([0.0, -THIGH_LENGTH_M, 0.0])
    ankle = knee + r_world_shank.apply([0.0, -SHANK_LENGTH_M, 0.0])
    return Leg(side, hip, knee, ankle, r_world_thigh, r_world_shank)


def draw_frame(ax, view: View, r_world_segment: Rotation, at_m: np.ndarray, name: str,
               length_m: float = AXIS_LENGTH_M, dot_label_offset: tuple[int, int] = (9, -13)) -> None:
    """Draw a segment's ISB X/Y/Z axes; an axis pointing at or away from the viewer is ⊙ / ⊗."""
    o = view.project(at_m)
    for i, axis in enumerate("XYZ"):
        v = r_world_segment.apply(np.eye(3)[i])
        d = view.project(v)
        colour = AXIS_COLOURS[axis]
        if np.hypot(*d) < 0.35:
            towards = np.dot(v, view.towards_viewer) > 0
            ax.plot(*o, marker="o", ms=11, mfc="white", mec=colour, mew=1.8, zorder=5)
            ax.plot(*o, marker="." if towards else "x", ms=7 if towards else 6, color=colour, mew=1.8, zorder=6)
            ax.annotate(f"{axis}$_{{{name}}}$", o, xytext=dot_label_offset, textcoords="offset points",
                        color=colour, fontsize=8, ha="left" if dot_label_offset[0] > 0 else "right")
            continue
        tip = o + length_m * d
        ax.add_patch(FancyArrowPatch(o, tip, arrowstyle="-|>", mutation_scale=11, color=colour,
                                     lw=1.8, zorder=4, shrinkA=0, shrinkB=0))
        ax.annotate(f"{axis}$_{{{name}}}$", tip + 0.03 * d / np.hypot(*d), color=colour,
                    fontsize=8, ha="center", va="center")


def draw_leg(ax, view: View, leg: Leg, lw: float = 5.0, colour: str = BONE_COLOUR) -> None:
    pts = np.array([view.project(p) for p in (leg.hip_m, leg.knee_m, leg.ankle_m)])
    ax.plot(pts[:, 0], pts[:, 1], "-", color=colour, lw=lw, solid_capstyle="round", zorder=2)
    ax.plot(pts[:, 0], pts[:, 1], "o", color="white", mec=colour, ms=6, zorder=3)


def draw_pelvis(ax, view: View, legs: list[Leg]) -> None:
    pts = np.array([view.project(leg.hip_m) for leg in legs])
    ax.plot(pts[:, 0], pts[:, 1], "-", color=BONE_COLOUR, lw=7, solid_capstyle="round", zorder=2)


def draw_world_z(ax, view: View, at_m: np.ndarray) -> None:
    o = view.project(at_m)
    d = view.project(np.array([0.0, 0.0, 1.0]))
    ax.add_patch(FancyArrowPatch(o, o + 0.16 * d, arrowstyle="-|>", mutation_scale=13,
                                 color=WORLD_COLOUR, lw=2.2, zorder=4))
    ax.annotate("world z (up)", o + 0.17 * d, ha="center", va="bottom", fontsize=8, color=WORLD_COLOUR)


def finish(ax, title: str) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_title(title, fontsize=10, loc="left")


def panel_front(ax) -> None:
    # A wide pelvis here so the labels of the two legs do not overlap.
    legs = [pose_leg(side, (0, 0, 0), (0, 0, 0), hip_half_width_m=0.15) for side in (Side.RIGHT, Side.LEFT)]
    draw_pelvis(ax, FRONT, legs)
    for leg in legs:
        draw_leg(ax, FRONT, leg)
        draw_frame(ax, FRONT, leg.r_world_thigh, 0.5 * (leg.hip_m + leg.knee_m), "thigh", length_m=0.09)
        draw_frame(ax, FRONT, leg.r_world_shank, 0.5 * (leg.knee_m + leg.ankle_m), "shank", length_m=0.09)
        x, y = FRONT.project(leg.ankle_m)
        ax.text(x, y - 0.07, f"subject's\n{leg.side.value} leg", ha="center", va="top", fontsize=8)
    draw_frame(ax, FRONT, R_WORLD_PELVIS, np.array([0.0, 0.0, 0.07]), "pelvis")
    draw_world_z(ax, FRONT, np.array([0.0, 0.33, -0.2]))
    ax.text(0.0, 0.27, "Z points to the subject's right on BOTH legs", ha="center", fontsize=8,
            color=AXIS_COLOURS["Z"])
    ax.set_xlim(-0.34, 0.44)
    ax.set_ylim(-1.0, 0.33)
    finish(ax, "(a) ISB frames, seen from the front (standing, all angles 0)")


def panel_side(ax) -> None:
    hip_deg, knee_deg = (25.0, 0.0, 0.0), (45.0, 0.0, 0.0)
    leg = pose_leg(Side.RIGHT, hip_deg, knee_deg)
    draw_leg(ax, SIDE_FROM_RIGHT, leg)
    pelvis_o = np.array([0.0, 0.0, 0.0])
    ax.plot(*SIDE_FROM_RIGHT.project(leg.hip_m), "o", color=BONE_COLOUR, ms=14, zorder=1)
    left = (-9, -13)
    draw_frame(ax, SIDE_FROM_RIGHT, R_WORLD_PELVIS, pelvis_o + np.array([0.0, 0.0, 0.12]), "pelvis", dot_label_offset=left)
    draw_frame(ax, SIDE_FROM_RIGHT, leg.r_world_thigh, 0.5 * (leg.hip_m + leg.knee_m), "thigh", dot_label_offset=left)
    draw_frame(ax, SIDE_FROM_RIGHT, leg.r_world_shank, 0.5 * (leg.knee_m + leg.ankle_m), "shank", dot_label_offset=left)
    draw_world_z(ax, SIDE_FROM_RIGHT, np.array([-0.3, 0.0, -0.25]))
    # Labels come from joint_angles_rad on the drawn orientations (a round trip through the code).
    q_pelvis = quat(R_WORLD_PELVIS)
    hip = np.rad2deg(joint_angles_rad(q_pelvis, quat(leg.r_world_thigh), Joint.HIP, Side.RIGHT))
    knee = np.rad2deg(joint_angles_rad(quat(leg.r_world_thigh), quat(leg.r_world_shank), Joint.KNEE, Side.RIGHT))
    ax.text(-0.4, -0.55, f"right leg\nhip flexion {hip[0]:+.0f}°\nknee flexion {knee[0]:+.0f}°\n"
            "(raw JCS knee angle negated)", fontsize=8, va="top")
    ax.annotate("walking direction", xy=(0.42, 0.2), xytext=(0.12, 0.2), fontsize=8, va="center",
                arrowprops=dict(arrowstyle="-|>", color="gray"))
    ax.set_xlim(-0.42, 0.5)
    ax.set_ylim(-0.95, 0.35)
    finish(ax, "(a) seen from the subject's right side (Z towards you)")


def panel_top(ax) -> None:
    rot_deg = 20.0
    ax.annotate("", xy=(0.0, 0.34), xytext=(0.0, -0.28),
                arrowprops=dict(arrowstyle="-|>", color="gray", lw=1.5, ls="--"))
    ax.text(0.012, 0.32, "line of progression\n(walking direction of the bout)", fontsize=8, color="gray",
            va="top")
    draw_frame(ax, TOP, R_WORLD_PELVIS, np.array([-0.2, 0.0, 0.0]), "prog", dot_label_offset=(6, -16))
    for side in (Side.RIGHT, Side.LEFT):
        neutral = pose_leg(side, (0, 0, 0), (0, 0, 0))
        rotated = pose_leg(side, (0, 0, rot_deg), (0, 0, 0))
        o = TOP.project(rotated.knee_m)
        x0 = TOP.project(neutral.r_world_thigh.apply([1.0, 0, 0]))
        x1 = TOP.project(rotated.r_world_thigh.apply([1.0, 0, 0]))
        z1 = TOP.project(rotated.r_world_thigh.apply([0, 0, 1.0]))
        angle = np.degrees(np.arctan2(x1[1], x1[0]))
        ax.add_patch(Ellipse(o, 0.13, 0.09, angle=angle - 90.0, fc="#eeeeee", ec=BONE_COLOUR, lw=1.2))
        ax.plot(*(o + 0.055 * x1), "o", color=BONE_COLOUR, ms=6)  # kneecap
        ax.plot([o[0], o[0] + 0.19 * x0[0]], [o[1], o[1] + 0.19 * x0[1]], ":", color="gray", lw=1.5)
        ax.add_patch(FancyArrowPatch(o, o + 0.19 * x1, arrowstyle="-|>", mutation_scale=12,
                                     color=AXIS_COLOURS["X"], lw=2))
        ax.add_patch(FancyArrowPatch(o, o + 0.10 * z1, arrowstyle="-|>", mutation_scale=10,
                                     color=AXIS_COLOURS["Z"], lw=1.5))
        ax.plot(*o, marker="o", ms=9, mfc="white", mec=AXIS_COLOURS["Y"], mew=1.5)
        ax.plot(*o, marker=".", ms=6, color=AXIS_COLOURS["Y"])
        a0, a1 = np.degrees(np.arctan2(x0[1], x0[0])), angle
        arc = FancyArrowPatch(o + 0.15 * x0, o + 0.15 * x1, connectionstyle=f"arc3,rad={0.2 * np.sign(a1 - a0)}",
                              arrowstyle="-|>", mutation_scale=10, color="black", lw=1)
        ax.add_patch(arc)
        hip = np.rad2deg(joint_angles_rad(quat(R_WORLD_PELVIS), quat(rotated.r_world_thigh), Joint.HIP, side))
        turn = "counter-clockwise" if a1 > a0 else "clockwise"
        outward = 1.0 if side is Side.RIGHT else -1.0  # the subject's right is on the page's right
        ax.text(o[0] + outward * 0.09, o[1] - 0.07, f"{side.value} thigh\nrotation {hip[2]:+.0f}° = internal\n"
                f"(kneecap turns medially,\n{turn}\nseen from above)", ha="left" if outward > 0 else "right",
                va="top", fontsize=8)
    ax.set_xlim(-0.42, 0.42)
    ax.set_ylim(-0.3, 0.36)
    finish(ax, "(b) top view: internal rotation + on each side (Y out of the page)")


def panel_varus_valgus(ax) -> None:
    # Varus: knee bowed outwards (hip abducted, knee adducted). Valgus: the knee caves in.
    cases = [("varus", 8.0, 0.0), ("valgus", -8.0, 0.62)]
    for name, knee_add_deg, offset_y in cases:
        origin = np.array([0.0, offset_y, 0.0])
        legs = [pose_leg(side, (0, -knee_add_deg / 2, 0), (0, knee_add_deg, 0), origin_m=origin)
                for side in (Side.RIGHT, Side.LEFT)]
        draw_pelvis(ax, FRONT, legs)
        for leg in legs:
            draw_leg(ax, FRONT, leg, colour="#d62728" if name == "valgus" else "#1f77b4")
            h, a = FRONT.project(leg.hip_m), FRONT.project(leg.ankle_m)
            ax.plot([h[0], a[0]], [h[1], a[1]], ":", color="gray", lw=1)
            knee = np.rad2deg(joint_angles_rad(quat(leg.r_world_thigh), quat(leg.r_world_shank),
                                               Joint.KNEE, leg.side))
            k = FRONT.project(leg.knee_m)
            outward = -1.0 if leg.side is Side.RIGHT else 1.0  # subject's right is on the page's left
            ax.text(k[0] + outward * 0.07, k[1], f"{knee[1]:+.0f}°", ha="center", va="center", fontsize=8)
            x, y = FRONT.project(leg.ankle_m)
            ax.text(x, y - 0.03, leg.side.value[0].upper(), ha="center", va="top", fontsize=8)
        c = FRONT.project(origin)
        ax.text(c[0], c[1] + 0.07, f"knee {name}\nknee adduction {'+' if knee_add_deg > 0 else '−'}",
                ha="center", va="bottom", fontsize=9)
    ax.text(0.31, -0.98, "dotted: hip–ankle line", fontsize=7, color="gray", ha="center")
    ax.set_xlim(-0.22, 0.84)
    ax.set_ylim(-1.02, 0.26)
    finish(ax, "(c) seen from the front: knee varus (+) vs valgus (−)")


def make_figure(out_png: Path = OUT_PNG) -> Path:
    fig, axes = plt.subplots(2, 2, figsize=(11, 10), dpi=100)
    panel_front(axes[0, 0])
    panel_side(axes[0, 1])
    panel_top(axes[1, 0])
    panel_varus_valgus(axes[1, 1])
    fig.text(0.5, 0.005,
             "ISB segment frames: X anterior (red), Y superior (green), Z to the subject's right (blue); "
             "⊙ points towards you, ⊗ away.\nSign table on both legs: flexion +, adduction (knee: varus) +, "
             "internal rotation +. Drawn with imugait.conventions.relative_rotation_from_angles.",
             ha="center", va="bottom", fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png


if __name__ == "__main__":
    print(make_figure(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_PNG))
