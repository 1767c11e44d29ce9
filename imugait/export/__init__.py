"""Exports of an analysed session to the formats other tools read (``docs/formats.md``).

One module per format; each takes an :class:`~imugait.analysis.result.AnalysisResult` (the one
path from a session to calibrated legs) and writes files. :mod:`imugait.export.common` holds what
they share: segment orientations in one ground frame, angle channels, gait events.
"""
