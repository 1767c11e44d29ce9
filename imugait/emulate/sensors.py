"""Emulated sensors as a live run opens them: a simulated walker, a simulated intrinsic-calibration
procedure, played over pseudo-terminals or as BLE peripherals.

:func:`emulated_sensors` is the emulation's counterpart of :func:`imugait.live.run.real_sensors`:
the command line hands one or the other to the live run.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping

from imugait.acquisition.sources import SensorSource, SourceKind
from imugait.conventions import GRAVITY_MPS2, Placement
from imugait.emulate.device import DeviceSettings, EmulatedDevice
from imugait.emulate.emulator import (
    BleEmulator,
    SerialEmulator,
    emulated_devices,
    walker_simulation,
)
from imugait.errors import ValidationError
from imugait.live.run import OpenedSensors, SensorOpener

EMULATION_MARGIN_S = 10.0
"""Extra walk simulated beyond the run's duration (s of real time at the playback factor):
connecting and starting take some walker time."""
MAX_EMULATED_WALK_S = 3600.0
"""Longest walk an emulation simulates up front (the duration plus the margin at the playback factor)."""
EMULATED_DEVICE_ID = 0x1A6A_CA1B_0000_0000
"""The u64 id an emulated calibration sensor announces (plus the seed): ``1a6aca1b0000000N``."""


def emulated_sensors(devices: Mapping[Placement, EmulatedDevice], playback: float = 1.0,
                     carrier: str = "serial") -> SensorOpener:
    """An opener that starts ``devices`` on pseudo-terminals (``carrier="serial"``) or as BLE
    peripherals on an emulated BlueZ, ``playback`` times faster than real time."""
    async def open_(stack: contextlib.AsyncExitStack) -> OpenedSensors:
        sources, emulator = await open_emulation(stack, devices, playback, carrier)
        return OpenedSensors(sources, emulator.clock, emulator)
    return open_


async def open_emulation(stack: contextlib.AsyncExitStack, devices: Mapping[Placement, EmulatedDevice],
                         playback: float, carrier: str = "serial"):
    """Start emulated ``devices`` on pseudo-terminals or as BLE peripherals, closed with ``stack``.
    Returns (sources to open, the emulator); the emulator's ``clock`` is the host clock to
    acquire with."""
    if carrier == "serial":
        emulator = stack.enter_context(SerialEmulator(devices, playback))
        return [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()], emulator
    from imugait.emulate.bluez import EmulatedBlueZ
    from imugait.transport.ble import scan_ble

    bluez = await stack.enter_async_context(EmulatedBlueZ())
    emulator = await stack.enter_async_context(BleEmulator(devices, bluez, playback))
    found = {r.address: r for r in await scan_ble(1.3, adapter=bluez.central_adapter)}
    sources = [SensorSource(p, SourceKind.BLE, a, ble_device=found[a].device if a in found else None,
                            adapter=bluez.central_adapter) for p, a in emulator.addresses.items()]
    return sources, emulator


def emulated_walk(n_sensors: int, duration_s: float | None, walker, sample_rate_hz: float, loss: float,
                  carrier: str, playback: float, seed: int = 0) -> dict[Placement, EmulatedDevice]:
    """Devices playing a simulated walker long enough for a run of ``duration_s`` (None: 60 s)."""
    walk_s = (duration_s if duration_s is not None else 60.0) + EMULATION_MARGIN_S * playback
    if walk_s > MAX_EMULATED_WALK_S:
        raise ValidationError(f"an emulation of {walk_s:g} s of walking (the duration plus {EMULATION_MARGIN_S:g} s "
                              f"at the playback factor) is too long: at most {MAX_EMULATED_WALK_S:g} s")
    result = walker_simulation(n_sensors, walk_s, walker, sample_rate_hz, seed=seed)
    settings = DeviceSettings(sample_loss_probability=loss,
                              samples_per_block=4 if carrier == "serial" else None, seed=seed)
    return emulated_devices(result, settings)


def simulated_procedure(hold_s: float, rotation_s: float, edges: bool, no_mag: bool, seed: int = 0):
    """(stream, truth) of the simulator's sensor put through the intrinsic-calibration procedure,
    with slack on every hold and the rotation (the emulated person is not in a hurry)."""
    from imugait.simulate.static_poses import (
        EDGE_UP_AXES,
        FACE_UP_AXES,
        StaticPoseConfig,
        simulate_static_poses,
    )

    config = StaticPoseConfig(
        up_axes=FACE_UP_AXES + (EDGE_UP_AXES if edges else ()), hold_s=hold_s + 1.5,
        rotation_s=0.0 if no_mag else rotation_s + 5.0, placement=Placement.LEFT_THIGH,
        device_id=f"{EMULATED_DEVICE_ID + seed:016x}", seed=seed,
    )
    return simulate_static_poses(config)


def emulated_sensor(stream, seed: int = 0) -> EmulatedDevice:
    """An :class:`~imugait.emulate.device.EmulatedDevice` playing ``stream`` in our protocol (4
    samples per frame, as on serial), announcing ``EMULATED_DEVICE_ID + seed``."""
    from imugait.protocol.imugait_v1 import DeviceInfoV1
    from imugait.simulate.sensors import SensorErrors

    # The ranges the stream was quantised with (whole g, °/s and µT, as the wire carries them).
    acc_g = round(stream.device.acc_range_mps2 / GRAVITY_MPS2)
    gyr_dps = round(math.degrees(stream.device.gyr_range_radps))
    mag_uT = round(SensorErrors().mag_range_uT) if stream.mag_uT is not None else 0
    info = DeviceInfoV1(EMULATED_DEVICE_ID + seed, "imugait emulator", "emu-1.0", stream.sample_rate_hz,
                        acc_g, gyr_dps, mag_uT)
    return EmulatedDevice(stream, info, DeviceSettings(samples_per_block=4, with_mag=stream.mag_uT is not None,
                                                       seed=seed))
