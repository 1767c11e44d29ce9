"""Acquisition: device clocks onto the session clock, lost-sample accounting, crash-safe recording.

Decoded messages (:mod:`imugait.protocol.messages`) with their host arrival times go in; per
sensor :class:`~imugait.model.ImuStream` objects and a :class:`~imugait.model.Session` come out.
See ``docs/acquisition.md`` for the clock synchronisation, lost samples and recovery.
"""

from imugait.acquisition.assembler import (
    AcquisitionConfig,
    Assembly,
    LiveSamples,
    SensorHealth,
    SessionAssembler,
)
from imugait.acquisition.clock import ClockMapping, ClockSyncConfig, OnlineClockMapper, fit_offline
from imugait.acquisition.live_buffer import LiveBuffer, LiveWindow
from imugait.acquisition.recorder import (
    Recorder,
    RecordingStopped,
    RecoveryReport,
    SkippedRecords,
    check_recording_folder,
    recover,
    recover_with_report,
)
from imugait.acquisition.sequence import SequenceTracker, gaps_from_seq

__all__ = [
    "AcquisitionConfig",
    "Assembly",
    "ClockMapping",
    "ClockSyncConfig",
    "LiveBuffer",
    "LiveSamples",
    "LiveWindow",
    "OnlineClockMapper",
    "Recorder",
    "RecordingStopped",
    "RecoveryReport",
    "SensorHealth",
    "SequenceTracker",
    "SessionAssembler",
    "SkippedRecords",
    "check_recording_folder",
    "fit_offline",
    "gaps_from_seq",
    "recover",
    "recover_with_report",
]
