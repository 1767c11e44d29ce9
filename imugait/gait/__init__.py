"""Gait events, cycles, time normalisation and per-cycle metrics."""
