"""The dashboard's web server: a Starlette app served by uvicorn on the run's event loop.

Safe by default: it binds 127.0.0.1 on a free port, and every HTTP request and websocket must carry
the run's random token (``?token=…``, from :mod:`secrets`); without it HTTP answers 401 and a
websocket is refused (403) before it opens. Pages get ``Cache-Control: no-store``, a content
security policy that allows only the server's own origin, and ``Referrer-Policy: no-referrer``.

Routes (all with ``?token=``):

``GET /``                 the page (its asset links carry the token)
``GET /assets/…``         script, style, the vendored uPlot
``GET /api/status``       JSON: per leg the latest knee flexion and hip rotation (deg) and strides completed
``POST /api/record``      ``{"action": "start" | "stop"}``: a take (:mod:`imugait.live.takes`)
``POST /api/step``        ``{"action": "begin" | "end", "name": "walk"}``: a step mark
``POST /api/calibration`` ``{"action": "recalibrate"}``: drop the calibration, calibrate again
``POST /api/walk``        ``{"action": "done"}``: the walk has ended — a leg still waiting is
                          calibrated on the walk so far, every calibrated leg's walk ends (its
                          last strides, all final); the next walking is a new walk
``GET /api/calibration``  the run's calibration as a calibration file (a download; 409 until
                          every leg is calibrated), for ``imugait live --calibration FILE``
``WS /ws``                a snapshot, then an update every push (see :mod:`.state`)
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import secrets
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from imugait.errors import ImugaitError, ValidationError
from imugait.live.dashboard.state import DashboardState

ASSETS = Path(__file__).parent / "assets"
TOKEN_BYTES = 24
"""Bytes of randomness in a run's token (32 URL-safe characters)."""
CLIENT_QUEUE = 64
"""Updates a slow page may lag behind before it is dropped (it reconnects and gets a snapshot)."""
STEP_NAME_MAX = 40
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
}


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class Controls(Protocol):
    """What the page's buttons do (the run implements it)."""

    def start_recording(self) -> None: ...
    def stop_recording(self) -> Awaitable[None] | None: ...
    def begin_step(self, name: str) -> None: ...
    def end_step(self, name: str) -> None: ...
    def recalibrate(self) -> None: ...
    def walk_done(self) -> None: ...
    def calibration_download(self) -> tuple[str, str]: ...


class Hub:
    """The pages connected to the run: each gets a snapshot, then every broadcast update."""

    def __init__(self, state: DashboardState, config: dict[str, Any]) -> None:
        self.state = state
        self.config = config
        self._clients: set[asyncio.Queue] = set()

    @property
    def n_clients(self) -> int:
        return len(self._clients)

    def connect(self) -> tuple[asyncio.Queue, dict]:
        """A new page's queue and its snapshot (taken together, so no update falls between)."""
        queue: asyncio.Queue = asyncio.Queue(CLIENT_QUEUE)
        self._clients.add(queue)
        return queue, self.state.snapshot(self.config)

    def disconnect(self, queue: asyncio.Queue) -> None:
        self._clients.discard(queue)

    def close_all(self) -> None:
        """Close every page's websocket (the server is stopping)."""
        for queue in list(self._clients):
            self._end(queue)

    def _end(self, queue: asyncio.Queue) -> None:
        self._clients.discard(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)

    def broadcast(self, message: dict) -> None:
        """Queue ``message`` (encoded once) for every page; a page too far behind is dropped."""
        if not self._clients:
            return
        text = json.dumps(message, separators=(",", ":"), allow_nan=False)
        for queue in list(self._clients):
            try:
                queue.put_nowait(text)
            except asyncio.QueueFull:  # too far behind: close it (the page reconnects for a snapshot)
                self._end(queue)


class _TokenGuard:
    """ASGI middleware: refuse every HTTP request (401) and websocket (403) without the token."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def _has_token(self, scope) -> bool:
        from urllib.parse import parse_qs

        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[-1]
        return secrets.compare_digest(given.encode(), self.token)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and not self._has_token(scope):
            from starlette.responses import PlainTextResponse

            response = PlainTextResponse("401: this dashboard needs the token from the URL imugait printed",
                                         status_code=401, headers=SECURITY_HEADERS)
            await response(scope, receive, send)
            return
        if scope["type"] == "websocket" and not self._has_token(scope):
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        await self.app(scope, receive, send)


def build_app(hub: Hub, token: str, controls: Controls | None):
    """The Starlette app of one run (``controls`` None: the record and step buttons answer 409)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketDisconnect

    page = (ASSETS / "index.html").read_text(encoding="utf-8").replace("__TOKEN__", token)

    async def index(_request: Request):
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    async def status(_request: Request):
        return JSONResponse(hub.state.status(), headers=SECURITY_HEADERS)

    async def _command(request: Request, actions: dict[str, Callable[[dict], None]]):
        try:
            body = await request.json()
            action = actions[body.get("action")]
        except (ValueError, KeyError, TypeError, AttributeError):
            return JSONResponse({"error": f"expected {{\"action\": one of {sorted(actions)}}}"}, status_code=400,
                                headers=SECURITY_HEADERS)
        if controls is None:
            return JSONResponse({"error": "this run has no controls"}, status_code=409, headers=SECURITY_HEADERS)
        try:
            done = action(body)
            if inspect.isawaitable(done):  # (work kept off the loop, as a take's finalising)
                await done
        except ImugaitError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409, headers=SECURITY_HEADERS)
        return JSONResponse({"recording": hub.state.recording, "marks": [m.as_json() for m in hub.state.marks],
                             "calibration_file": hub.state.calibration_file}, headers=SECURITY_HEADERS)

    def _step_name(body: dict) -> str:
        name = str(body.get("name") or "step").strip()
        if not name or len(name) > STEP_NAME_MAX or not name.replace("_", "").replace("-", "").isalnum():
            raise ValidationError(f"a step name is 1-{STEP_NAME_MAX} letters, digits, '-' or '_', got {name!r}")
        return name

    async def record(request: Request):
        return await _command(request, {"start": lambda _b: controls.start_recording(),
                                        "stop": lambda _b: controls.stop_recording()})

    async def step(request: Request):
        return await _command(request, {"begin": lambda b: controls.begin_step(_step_name(b)),
                                        "end": lambda b: controls.end_step(_step_name(b))})

    async def calibration(request: Request):
        if request.method == "GET":
            return _calibration_download()
        return await _command(request, {"recalibrate": lambda _b: controls.recalibrate()})

    async def walk(request: Request):
        return await _command(request, {"done": lambda _b: controls.walk_done()})

    def _calibration_download():
        if controls is None:
            return JSONResponse({"error": "this run has no controls"}, status_code=409, headers=SECURITY_HEADERS)
        try:
            name, text = controls.calibration_download()
        except ImugaitError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409, headers=SECURITY_HEADERS)
        return Response(text, media_type="application/json", headers={
            **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})

    async def updates(websocket: WebSocket):
        await websocket.accept()
        queue, snapshot = hub.connect()
        try:
            await websocket.send_text(json.dumps(snapshot, separators=(",", ":"), allow_nan=False))
            while True:
                text = await queue.get()
                if text is None:  # dropped as too slow, or the server stops
                    await websocket.close(1001)
                    break
                await websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            hub.disconnect(queue)

    app = Starlette(routes=[
        Route("/", index),
        Route("/api/status", status),
        Route("/api/record", record, methods=["POST"]),
        Route("/api/step", step, methods=["POST"]),
        Route("/api/calibration", calibration, methods=["GET", "POST"]),
        Route("/api/walk", walk, methods=["POST"]),
        WebSocketRoute("/ws", updates),
        Mount("/assets", StaticFiles(directory=ASSETS), name="assets"),
    ])
    return _TokenGuard(app, token)


def bind(host: str, port: int = 0) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: a free port chosen by the system)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ImugaitError(f"cannot serve the dashboard on {host!r}: {exc.strerror}") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ImugaitError(f"cannot serve the dashboard on {host}:{port}: {exc.strerror}") from None
    sock.listen(64)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket, host: str, token: str) -> str:
    """The page's URL (an unspecified host, 0.0.0.0 or ::, is shown as this machine's name)."""
    port = sock.getsockname()[1]
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/?token={token}"


class DashboardServer:
    """uvicorn serving :func:`build_app` on an open socket, on the running event loop; an async
    context manager. uvicorn's own signal handling is off: the live run owns Ctrl-C."""

    def __init__(self, app, sock: socket.socket, hub: Hub) -> None:
        import uvicorn

        class _Server(uvicorn.Server):
            def capture_signals(self):  # the live run handles SIGINT (live.run.stop_on_sigint)
                return contextlib.nullcontext()

        # No permessage-deflate (uvicorn's default is on): compressing each push cost CPU on every
        # one (docs/live-history.md, "Ninth round") to save bytes nobody is short of — about
        # 70 kB/s uncompressed to one page, on the loopback or a local network.
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio",
                                access_log=False, ws_ping_interval=None, ws_per_message_deflate=False)
        self._server = _Server(config)
        self._sock = sock
        self._hub = hub
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> DashboardServer:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]), name="dashboard-server")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise ImugaitError("the dashboard server stopped while starting")
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._hub.close_all()
        await asyncio.sleep(0.05)  # let the websocket handlers send their close frames
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 10.0)
        self._sock.close()
