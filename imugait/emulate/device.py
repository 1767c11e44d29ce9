"""One emulated sensor speaking our wire protocol (imugait v1), independent of any carrier.

The device plays one simulated :class:`~imugait.model.ImuStream` (``t_s`` = true time) as a
firmware would: it numbers the samples it outputs, stamps them with its own µs clock (the
simulator's crystal error, plus an arbitrary start value), packs them into DATA blocks, sends
DEVICE_INFO and STATUS now and then, and answers COMMAND frames with ACKs. Loss (single samples
or whole blocks) is applied after numbering, so every lost sample is a sequence gap.

It is a pure, time-driven state machine: a carrier (pseudo-terminal, BLE peripheral, see
:mod:`imugait.emulate.emulator`) asks :meth:`EmulatedDevice.poll` for the frames due at a true
time, hands it the host's command bytes with :meth:`EmulatedDevice.receive`, and tells it when
the link goes down and comes back. Everything the device put on the wire is recorded
(:meth:`EmulatedDevice.sent`), so tests can compare it with what the host recorded.

The emulator sits at the far end of the wire (it stands in for firmware), so unlike the
transports it imports the protocol encoder; nothing in the data flow imports it.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from imugait.errors import ValidationError
from imugait.model import ImuStream
from imugait.protocol.imugait_v1 import (
    DeviceInfoV1,
    ImugaitV1Decoder,
    StatusFlag,
    encode_ack,
    encode_data,
    encode_device_info,
    encode_status,
    max_samples_per_notification,
)
from imugait.protocol.messages import AckResult, Command, CommandCode

BLE_ATT_MTU = 247
"""The MTU BlueZ and most phones negotiate; blocks are sized to fit one notification."""


@dataclass(frozen=True)
class DeviceSettings:
    """How one emulated device behaves (times in seconds of true time).

    Attributes
    ----------
    samples_per_block : samples per DATA frame; None: as many as fit one BLE notification at
        ATT_MTU 247 (12 with magnetometer, 18 without).
    with_mag : send magnetometer channels.
    sample_loss_probability : each numbered sample is lost (never sent) with this probability.
    block_loss_probability : each DATA frame is lost as a whole with this probability.
    clock_start_us : reading of the device's µs clock at its first sample (any u64; sent modulo
        2³², so a value near 2³² makes the counter wrap during the recording).
    seq_start : sequence number of the first sample output.
    autostart : stream without waiting for a START command.
    status_interval_s : STATUS every this many seconds while streaming.
    info_interval_s : DEVICE_INFO repeated this often while streaming (the spec asks for it on
        serial links, where a host can attach late); None: only on START and on request.
    battery_start_percent, battery_drain_percent_per_h : the battery level reported.
    seed : seeds the loss draws.
    """

    samples_per_block: int | None = None
    with_mag: bool = True
    sample_loss_probability: float = 0.0
    block_loss_probability: float = 0.0
    clock_start_us: int = 0
    seq_start: int = 0
    autostart: bool = False
    status_interval_s: float = 5.0
    info_interval_s: float | None = 5.0
    battery_start_percent: float = 100.0
    battery_drain_percent_per_h: float = 12.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("sample_loss_probability", "block_loss_probability"):
            p = getattr(self, name)
            if not 0.0 <= p < 1.0:
                raise ValidationError(f"DeviceSettings.{name} must be in [0, 1), got {p!r}")
        if self.samples_per_block is not None and not 1 <= self.samples_per_block <= 255:
            raise ValidationError(f"samples_per_block must be 1..255, got {self.samples_per_block!r}")
        if self.clock_start_us < 0 or self.seq_start < 0:
            raise ValidationError("clock_start_us and seq_start must be non-negative")
        if not self.status_interval_s > 0:
            raise ValidationError(f"status_interval_s must be positive, got {self.status_interval_s!r}")


@dataclass(frozen=True, eq=False)
class SentRecord:
    """What a device put on the wire and what it lost on purpose.

    Attributes
    ----------
    seq : (n,) int64, sequence numbers of the samples sent (in order).
    source_index : (n,) int64, index of each sent sample in the played stream.
    lost_seq : (m,) int64, sequence numbers of samples numbered but not sent (loss, link down).
    """

    seq: np.ndarray
    source_index: np.ndarray
    lost_seq: np.ndarray

    @property
    def n_sent(self) -> int:
        return int(self.seq.size)


class EmulatedDevice:
    """A sensor that plays ``stream`` over our protocol; see the module docstring.

    Parameters
    ----------
    stream : the simulated stream to play (``t_s`` is true time; no lost samples).
    info : what the device announces; its ranges quantise the samples and its
        ``sample_rate_hz`` must equal ``stream.sample_rate_hz``.
    settings : DeviceSettings
    """

    def __init__(self, stream: ImuStream, info: DeviceInfoV1, settings: DeviceSettings | None = None) -> None:
        if stream.gaps:
            raise ValidationError(
                f"{stream.placement.value}: the emulator plays streams without lost samples "
                "(simulate with loss_probability=0) and applies loss on the wire itself"
            )
        if not math.isclose(info.sample_rate_hz, stream.sample_rate_hz, rel_tol=1e-9):
            raise ValidationError(
                f"{stream.placement.value}: device rate {info.sample_rate_hz} Hz differs from the "
                f"stream's {stream.sample_rate_hz} Hz"
            )
        self.stream = stream
        self.settings = settings or DeviceSettings()
        self.source_info = info
        self.info = info if self.settings.with_mag else _without_mag(info)
        self._source_period_ns = info.sample_period_ns
        self._decimation = 1
        spb = self.settings.samples_per_block
        self.samples_per_block = spb or max_samples_per_notification(BLE_ATT_MTU, self.settings.with_mag)
        self._rng = np.random.default_rng(self.settings.seed)
        self._commands = ImugaitV1Decoder()
        self._out: list[tuple[bytes, np.ndarray | None, np.ndarray | None]] = []
        """Queued frames with the (seq, source index) of the samples they carry."""
        self.cursor = 0
        """Index in ``stream`` of the next sample the IMU produces."""
        self._seq_next = self.settings.seq_start
        self._clock_offset_us = 0
        """Added to the device clock: clock jumps and restarts (:meth:`jump_clock`, :meth:`reboot`)."""
        self.streaming = self.settings.autostart
        self.connected = True
        self._next_status_s: float | None = None
        self._next_info_s: float | None = None
        self._lost_since_status = False
        self._sent_seq: list[np.ndarray] = []
        self._sent_index: list[np.ndarray] = []
        self._lost: list[np.ndarray] = []
        self.frames_sent = 0
        self.commands_received = 0

    # ------------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        return self.stream.placement.value

    @property
    def finished(self) -> bool:
        """Every sample of the stream has been produced (sent, lost or skipped while stopped)."""
        return self.cursor >= self.stream.n_samples

    @property
    def sample_rate_hz(self) -> float:
        return self.source_info.sample_rate_hz / self._decimation

    def next_due_s(self) -> float:
        """True time at which :meth:`poll` will next have something to send (inf: nothing)."""
        if self._out:
            return -math.inf
        due = [math.inf]
        if self.streaming and not self.finished:
            last = min(self.cursor + (self.samples_per_block - 1) * self._decimation, self.stream.n_samples - 1)
            due.append(float(self.stream.t_s[last]))
            due += [t for t in (self._next_status_s, self._next_info_s) if t is not None]
        return min(due)

    def battery_percent(self, t_true_s: float) -> int:
        s = self.settings
        return int(np.clip(round(s.battery_start_percent - s.battery_drain_percent_per_h * t_true_s / 3600), 0, 100))

    # ------------------------------------------------------------------ link
    def on_connect(self) -> None:
        """The link is up (again)."""
        self.connected = True

    def on_disconnect(self) -> None:
        """The link went down: data produced from now on is lost until :meth:`on_connect`."""
        self.connected = False
        for _frame, seq, _index in self._out:
            if seq is not None:
                self._lost.append(seq)
        self._out.clear()

    def jump_clock(self, jump_us: int) -> None:
        """The device clock steps by ``jump_us`` (µs, either sign) from the next sample on; the
        counter goes on as before."""
        self._clock_offset_us += int(jump_us)

    def reboot(self, t_true_s: float) -> None:
        """The device restarts at true time ``t_true_s``: what was queued is lost, counter and clock
        start again from ``seq_start`` and ``clock_start_us``, and it streams again only on START
        (or at once with ``autostart``). Call :meth:`on_disconnect` first when the link drops with it."""
        for _frame, seq, _index in self._out:
            if seq is not None:
                self._lost.append(seq)
        self._out.clear()
        self._skip_until(t_true_s)
        self._seq_next = self.settings.seq_start
        self._clock_offset_us = -((self.cursor * self._source_period_ns + 500) // 1000)
        self.streaming = self.settings.autostart
        self._next_status_s = self._next_info_s = None
        self._decimation = 1

    def inject(self, data: bytes) -> None:
        """Put raw bytes on the wire before the next frame (corruption tests)."""
        self._out.append((bytes(data), None, None))

    # ------------------------------------------------------------------ commands
    def receive(self, data: bytes, t_true_s: float) -> None:
        """Bytes the host wrote (COMMAND frames); replies are queued for :meth:`poll`."""
        for message in self._commands.feed(data):
            if isinstance(message, Command):
                self.commands_received += 1
                self._command(message, t_true_s)

    def _command(self, command: Command, t_true_s: float) -> None:
        code, result = command.code, AckResult.OK
        reply_info = False
        if code is CommandCode.START:
            if not self.streaming:
                self._skip_until(t_true_s)
                self.streaming = True
            self._start_periodic(t_true_s)
            reply_info = True
        elif code is CommandCode.STOP:
            self.streaming = False
        elif code is CommandCode.REQUEST_INFO:
            reply_info = True
        elif code is CommandCode.SET_RATE:
            source = self.source_info.sample_rate_hz
            self._decimation = max(1, round(source / command.sample_rate_hz))
            self.info = DeviceInfoV1(self.info.device_id, self.info.model, self.info.firmware,
                                     self.sample_rate_hz, self.info.acc_range_g,
                                     self.info.gyr_range_dps, self.info.mag_range_uT)
            reply_info = True
        else:  # pragma: no cover - the decoder only emits known codes
            result = AckResult.UNKNOWN_COMMAND
        self._out.append((encode_ack(code, command.token, result), None, None))
        if reply_info:
            self._out.append((encode_device_info(self.info), None, None))

    # ------------------------------------------------------------------ output
    def poll(self, t_true_s: float) -> list[bytes]:
        """Frames due by true time ``t_true_s``, in wire order (empty while the link is down)."""
        return [frame for frame, _seq in self.poll_tagged(t_true_s)]

    def poll_tagged(self, t_true_s: float) -> list[tuple[bytes, np.ndarray | None]]:
        """As :meth:`poll`, each frame with the sequence numbers of the samples it carries (None
        for frames without samples): a faulty wire uses them to say which samples it destroyed."""
        if not self.streaming:
            self._skip_until(t_true_s)
        else:
            self._produce(t_true_s)
        if not self.connected:
            return []
        out, self._out = self._out, []
        for _frame, seq, index in out:
            if seq is not None:
                self._sent_seq.append(seq)
                self._sent_index.append(index)
        self.frames_sent += len(out)
        return [(frame, seq) for frame, seq, _index in out]

    def record_bytes(self) -> int:
        """Memory of the device's own record of what it sent and lost (:meth:`sent`; numbers and
        indices per frame): the emulation's bookkeeping, which a memory measurement of the host
        leaves out."""
        return sum(sys.getsizeof(a) + 8 for a in (*self._sent_seq, *self._sent_index, *self._lost))

    def sent(self) -> SentRecord:
        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

        return SentRecord(cat(self._sent_seq), cat(self._sent_index), cat(self._lost))

    def _skip_until(self, t_true_s: float) -> None:
        """Stopped: the IMU runs but nothing is numbered or sent."""
        self.cursor = max(self.cursor, int(np.searchsorted(self.stream.t_s, t_true_s, side="right")))

    def _produce(self, t_true_s: float) -> None:
        stream, dec, spb = self.stream, self._decimation, self.samples_per_block
        while not self.finished:
            idx = np.arange(self.cursor, min(self.cursor + spb * dec, stream.n_samples), dec)
            if stream.t_s[idx[-1]] > t_true_s:
                break
            self._periodic(float(stream.t_s[idx[0]]))
            self.cursor = int(idx[-1]) + dec
            seq = self._seq_next + np.arange(idx.size, dtype=np.int64)
            self._seq_next += idx.size
            keep = self._rng.random(idx.size) >= self.settings.sample_loss_probability
            if not self.connected:
                keep[:] = False
            self._emit_runs(idx, seq, keep)
        if self.streaming and not self.finished:
            self._periodic(t_true_s)

    def _start_periodic(self, t_true_s: float) -> None:
        """Streaming starts: STATUS at once, DEVICE_INFO repeated from one interval on."""
        self._next_status_s = t_true_s
        interval = self.settings.info_interval_s
        self._next_info_s = None if interval is None else t_true_s + interval

    def _periodic(self, t_true_s: float) -> None:
        s = self.settings
        if self._next_status_s is None:  # autostart: no START command started the clocks
            self._start_periodic(t_true_s)
        if self._next_info_s is not None and t_true_s >= self._next_info_s:
            self._out.append((encode_device_info(self.info), None, None))
            self._next_info_s = t_true_s + s.info_interval_s
        if t_true_s >= self._next_status_s:
            battery = self.battery_percent(t_true_s)
            flags = (StatusFlag.TX_OVERFLOW if self._lost_since_status else 0) | (
                StatusFlag.LOW_BATTERY if battery < 20 else 0)
            self._out.append((encode_status(battery, int(flags)), None, None))
            self._lost_since_status = False
            self._next_status_s = t_true_s + s.status_interval_s

    def _emit_runs(self, idx: np.ndarray, seq: np.ndarray, keep: np.ndarray) -> None:
        """One DATA frame per run of consecutive kept samples; whole frames may be lost too."""
        stream = self.stream
        if not keep.all():
            self._lost_since_status = True
            self._lost.append(seq[~keep])
        breaks = np.flatnonzero(np.diff(keep.astype(np.int8)) != 0) + 1
        for part in np.split(np.arange(idx.size), breaks):
            if part.size == 0 or not keep[part[0]]:
                continue
            if self._rng.random() < self.settings.block_loss_probability:
                self._lost_since_status = True
                self._lost.append(seq[part])
                continue
            i = idx[part]
            t_first_us = (self.settings.clock_start_us + self._clock_offset_us
                          + (int(i[0]) * self._source_period_ns + 500) // 1000)
            mag = stream.mag_uT[i] if self.settings.with_mag and stream.mag_uT is not None else None
            frame = encode_data(self.info, int(seq[part[0]]), t_first_us, stream.acc_mps2[i],
                                stream.gyr_radps[i], mag, self._source_period_ns * self._decimation)
            self._out.append((frame, seq[part], i.astype(np.int64)))


def _without_mag(info: DeviceInfoV1) -> DeviceInfoV1:
    return DeviceInfoV1(info.device_id, info.model, info.firmware, info.sample_rate_hz,
                        info.acc_range_g, info.gyr_range_dps, 0)
