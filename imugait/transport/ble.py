"""Bluetooth Low Energy transport (bleak): scan, connect, stream notifications, reconnect.

Notifications arrive in bleak's callback on the event loop; the transport puts them in a bounded
channel (when the consumer falls behind, the newest notifications are dropped and counted in
``dropped_notifications``) and hands them out through an async iterator. Link changes are items
of the same iterator (``LinkEvent``), in order with the bytes, so a consumer sees exactly where
the stream has a hole and how long it lasted:

``CONNECTED`` → bytes … → ``RECONNECTING`` (drop detected) → ``CONNECTED`` (``down_s``) → bytes …

A drop is detected by bleak's ``disconnected_callback`` and, as a fallback, by polling
``is_connected``. Reconnection uses a new ``BleakClient`` per attempt, with exponential back-off.

Example
-------
>>> found = await scan_ble(timeout_s=5.0)                                   # doctest: +SKIP
>>> async with BleTransport(found[0].device, found[0].profile) as link:     # doctest: +SKIP
...     await link.write(b"start")
...     async for item in link:
...         ...
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from imugait.transport.ble_profiles import IMUGAIT_V1, KNOWN_PROFILES, BleProfile
from imugait.transport.link import (
    Backoff,
    Channel,
    ChannelTransport,
    DeviceDisconnected,
    LinkEvent,
    LinkState,
    TransportError,
    now_s,
)


@dataclass(frozen=True)
class BleScanResult:
    """One advertising device found by ``scan_ble``.

    Attributes
    ----------
    name : str or None
        Advertised local name.
    address : str
        Bluetooth address (a UUID on macOS).
    rssi_dbm : int or None
        Received signal strength of the last advertisement, dBm.
    service_uuids : tuple of str
        Advertised service UUIDs, lowercase.
    profile : BleProfile or None
        The known protocol whose service it advertises (``None``: matched by predicate only).
    device : BLEDevice
        What to pass to ``BleTransport`` (connecting by it avoids a second scan).
    """

    name: str | None
    address: str
    rssi_dbm: int | None
    service_uuids: tuple[str, ...]
    profile: BleProfile | None
    device: BLEDevice = field(compare=False, repr=False)


def _profile_for(
    service_uuids: tuple[str, ...], profiles: tuple[BleProfile, ...]
) -> BleProfile | None:
    for profile in profiles:
        if profile.service_uuid in service_uuids:
            return profile
    return None


async def scan_ble(
    timeout_s: float = 5.0,
    *,
    profiles: tuple[BleProfile, ...] = KNOWN_PROFILES,
    require_profile: bool = True,
    name_matches: Callable[[str | None], bool] | None = None,
    uuids_match: Callable[[tuple[str, ...]], bool] | None = None,
    adapter: str | None = None,
    scanner_backend: Any = None,
) -> list[BleScanResult]:
    """Scan for sensors and return them strongest signal first.

    Parameters
    ----------
    timeout_s : float
        Scan duration, seconds.
    profiles : tuple of BleProfile
        Protocols to recognise by advertised service UUID.
    require_profile : bool
        Keep only devices advertising one of ``profiles``' services (and ask the OS to filter
        on them). Set False to find sensors that do not advertise their service UUID, with
        ``name_matches`` instead.
    name_matches, uuids_match : callable, optional
        Further predicates on the advertised name and on the tuple of advertised service UUIDs;
        a device is kept only when every given predicate is true.
    adapter : str, optional
        BlueZ adapter to scan on (``"hci0"``); default: the first powered one.
    scanner_backend : type, optional
        A bleak scanner backend class (for tests).

    Returns
    -------
    list of BleScanResult
    """
    kwargs: dict[str, Any] = {}
    if require_profile:
        kwargs["service_uuids"] = [p.service_uuid for p in profiles]
    if adapter is not None:
        kwargs["bluez"] = {"adapter": adapter}
    if scanner_backend is not None:
        kwargs["backend"] = scanner_backend
    try:
        found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **kwargs)
    except BleakError as exc:
        raise TransportError(
            f"BLE scan failed: {exc}. Is Bluetooth on and an adapter present "
            "(bluetoothctl list)?"
        ) from exc
    results = []
    for device, adv in found.values():
        uuids = tuple(u.lower() for u in adv.service_uuids)
        profile = _profile_for(uuids, profiles)
        name = adv.local_name or device.name
        if require_profile and profile is None:
            continue
        if name_matches is not None and not name_matches(name):
            continue
        if uuids_match is not None and not uuids_match(uuids):
            continue
        results.append(BleScanResult(name, device.address, adv.rssi, uuids, profile, device))
    results.sort(key=lambda r: -(r.rssi_dbm if r.rssi_dbm is not None else -999))
    return results


class BleTransport(ChannelTransport):
    """Notifications of one BLE sensor as an async iterator of ``bytes | LinkEvent``.

    Parameters
    ----------
    device : BLEDevice or str
        From ``scan_ble`` (preferred) or an address.
    profile : BleProfile
        Which characteristic to subscribe to and which to write commands to.
    queue_size : int
        Most notifications buffered for a slow consumer; more are dropped and counted.
    backoff : Backoff, optional
        Waits between reconnect attempts; ``max_attempts`` makes the transport give up (the
        iterator then raises ``DeviceDisconnected`` after the queued items).
    connect_timeout_s : float
        Limit of one connect + subscribe attempt, seconds.
    link_check_interval_s : float
        Period of the ``is_connected`` poll that backs up bleak's disconnect callback, seconds.
    adapter : str, optional
        BlueZ adapter (``"hci0"``).
    backend : type of BaseBleakClient, optional
        Passed to ``BleakClient(backend=...)`` (a fake backend in tests).

    Attributes
    ----------
    state : LinkState
    notifications_received, dropped_notifications, reconnects : int
    """

    def __init__(
        self,
        device: BLEDevice | str,
        profile: BleProfile = IMUGAIT_V1,
        *,
        queue_size: int = 1024,
        backoff: Backoff | None = None,
        connect_timeout_s: float = 10.0,
        link_check_interval_s: float = 0.5,
        adapter: str | None = None,
        backend: type[BaseBleakClient] | None = None,
    ) -> None:
        self.device = device
        self.profile = profile
        self.backoff = backoff if backoff is not None else Backoff()
        self.connect_timeout_s = connect_timeout_s
        self.link_check_interval_s = link_check_interval_s
        self.adapter = adapter
        self.backend = backend
        self.state = LinkState.CLOSED
        self.notifications_received = 0
        self.dropped_notifications = 0
        self.reconnects = 0
        self._queue_size = queue_size
        self._channel: Channel | None = None
        self._client: BleakClient | None = None
        self._dropped = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return self.device.address if isinstance(self.device, BLEDevice) else str(self.device)

    # -- opening and closing -------------------------------------------------------------------

    async def open(self) -> BleTransport:
        """Connect and subscribe; raise ``TransportError`` if the first attempt fails."""
        if self._supervisor is not None:
            return self
        self._channel = Channel(self._queue_size)
        self.state = LinkState.CONNECTING
        try:
            await self._connect_once()
        except Exception as exc:
            self.state = LinkState.CLOSED
            raise TransportError(
                f"cannot connect to BLE device {self.address} ({self.profile.name}): "
                f"{type(exc).__name__}: {exc}. Is it powered, advertising and in range? "
                "Find it with scan_ble() and pass the BLEDevice rather than an address."
            ) from exc
        self.state = LinkState.CONNECTED
        self._channel.put_event(LinkEvent(LinkState.CONNECTED, now_s(), reason="connected"))
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ble-{self.address}")
        return self

    async def close(self) -> None:
        """Unsubscribe and disconnect; the iterator ends after the queued items."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._release_client(unsubscribe=True)
        if self._channel is not None and self.state is not LinkState.CLOSED:
            self.state = LinkState.CLOSED
            self._channel.put_event(
                LinkEvent(LinkState.CLOSED, now_s(), reason="closed by the application")
            )
            self._channel.close()


    # -- commands -----------------------------------------------------------------------------

    async def write(self, data: bytes, response: bool = True) -> None:
        """Write a command to the profile's command characteristic.

        Raises ``DeviceDisconnected`` while the link is down, ``TransportError`` when the
        profile has no command characteristic or the write fails.
        """
        if self.profile.command_uuid is None:
            raise TransportError(f"profile {self.profile.name!r} has no command characteristic")
        client = self._client
        if client is None or self.state is not LinkState.CONNECTED:
            raise DeviceDisconnected(
                f"BLE device {self.address} is {self.state.value}; the command was not sent"
            )
        try:
            await client.write_gatt_char(self.profile.command_uuid, bytes(data), response=response)
        except (BleakError, OSError, EOFError) as exc:
            raise TransportError(f"writing a command to {self.address} failed: {exc}") from exc

    # -- internals ----------------------------------------------------------------------------

    def _on_notification(self, _characteristic: Any, data: bytearray) -> None:
        self.notifications_received += 1
        assert self._channel is not None
        if not self._channel.put_nowait(bytes(data)):
            self.dropped_notifications += 1

    def _on_disconnected(self, client: BleakClient) -> None:
        if client is self._client:
            self._dropped.set()

    async def _connect_once(self) -> None:
        """One connect + subscribe attempt with a fresh client; raises on failure."""
        client = BleakClient(
            self.device,
            disconnected_callback=self._on_disconnected,
            timeout=self.connect_timeout_s,
            bluez={"adapter": self.adapter} if self.adapter else {},
            backend=self.backend,
        )
        self._dropped.clear()
        self._client = client
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                await client.connect()
                if client.services.get_characteristic(self.profile.notify_uuid) is None:
                    raise TransportError(
                        f"{self.address} has no characteristic {self.profile.notify_uuid}: "
                        f"not a {self.profile.name} device, or the wrong profile was given"
                    )
                await client.start_notify(self.profile.notify_uuid, self._on_notification)
        except BaseException:
            self._client = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), self.connect_timeout_s)
            raise

    async def _release_client(self, unsubscribe: bool) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.connect_timeout_s):
                if unsubscribe and client.is_connected:
                    await client.stop_notify(self.profile.notify_uuid)
                await client.disconnect()

    async def _wait_for_drop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dropped.wait(), self.link_check_interval_s)
                return
            client = self._client
            if client is None or not client.is_connected:
                return

    async def _supervise(self) -> None:
        assert self._channel is not None
        channel = self._channel
        try:
            while True:
                await self._wait_for_drop()
                t_down_s = now_s()
                self.state = LinkState.RECONNECTING
                channel.put_event(
                    LinkEvent(LinkState.RECONNECTING, t_down_s, reason="link lost")
                )
                await self._release_client(unsubscribe=False)
                attempt = await self._reconnect(t_down_s)
                t_up_s = now_s()
                self.state = LinkState.CONNECTED
                self.reconnects += 1
                channel.put_event(
                    LinkEvent(
                        LinkState.CONNECTED, t_up_s, t_up_s - t_down_s, attempt, "reconnected"
                    )
                )
        except DeviceDisconnected as exc:
            self.state = LinkState.CLOSED
            channel.put_event(
                LinkEvent(LinkState.CLOSED, now_s(), now_s() - t_down_s, reason=str(exc))
            )
            channel.close(exc)

    async def _reconnect(self, t_down_s: float) -> int:
        """Retry with back-off until connected; return the attempt number that succeeded."""
        failures = 0
        while True:
            await asyncio.sleep(self.backoff.delay_s(failures))
            try:
                await self._connect_once()
                return failures + 1
            except Exception as exc:  # any failure of one attempt: retry
                failures += 1
                if self.backoff.exhausted(failures):
                    raise DeviceDisconnected(
                        f"BLE device {self.address} did not come back after {failures} "
                        f"attempts over {now_s() - t_down_s:.1f} s (last error: "
                        f"{type(exc).__name__}: {exc}); check it is on and in range, "
                        "then open the transport again"
                    ) from exc
