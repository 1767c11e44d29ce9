// imugait live dashboard: a websocket client drawing the server's updates with uPlot.
// The server (imugait/live/dashboard/server.py) sends a snapshot, then updates (state.py).
// window.imugait exposes counters and latency samples for the tests and the latency benchmark.
"use strict";

(function () {
  const TOKEN = new URLSearchParams(location.search).get("token") || "";
  const SIDES = ["left", "right"];
  const COLOURS = { left: "#1f77b4", right: "#d62728" };
  const ANGLES = [
    ["knee_flexion_deg", "Knee flexion"],
    ["knee_adduction_deg", "Knee adduction (varus +)"],
    ["knee_rotation_deg", "Knee rotation (internal +)"],
    ["hip_rotation_deg", "Hip rotation (internal +)"],
  ];
  const GAP_S = 0.1;          // a longer step between two samples of a leg is drawn as a gap
  const MAX_LATENCY_SAMPLES = 100000;

  const probe = {
    connected: false, snapshots: 0, updates: 0, finished: false,
    latency: { angleMs: [], strideMs: [], strideUpdate: [], strideEndS: [], strideSide: [] }, lastStatus: null,
    strideShown: {},  // per side, the highest stride index whose first version was timed
    calibratedAtS: {},  // per side, the session time of the first update showing it calibrated or reused
  };
  window.imugait = probe;

  let config = { window_s: 10, recording_enabled: false, t0_epoch_ms: null };
  let store = emptyStore();
  let outages = [];           // [{t_s, duration_s}]
  let marks = [];
  let recording = { active: false };
  let pendingStamps = [];
  let drawsLeft = 0;
  const $ = (id) => document.getElementById(id);

  function emptyStore() {
    const s = {};
    for (const side of SIDES) {
      s[side] = { t: [] };
      for (const [name] of ANGLES) s[side][name] = [];
    }
    return s;
  }

  function nowEpochMs() { return performance.timeOrigin + performance.now(); }

  function record(list, value) {
    if (list.length < MAX_LATENCY_SAMPLES && Number.isFinite(value)) list.push(value);
  }

  // ------------------------------------------------------------------ charts
  function shade(u) {
    const ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
    const rect = (t0, t1, colour) => {
      const x0 = u.valToPos(t0, "x", true), x1 = u.valToPos(t1, "x", true);
      if (x1 < u.bbox.left || x0 > u.bbox.left + u.bbox.width) return;
      ctx.fillStyle = colour;
      ctx.fillRect(Math.max(x0, u.bbox.left), top, Math.max(1, Math.min(x1, u.bbox.left + u.bbox.width) - Math.max(x0, u.bbox.left)), height);
    };
    ctx.save();
    for (const o of outages) rect(o.t_s, o.t_s + o.duration_s, "rgba(255,150,0,0.25)");
    const end = store.left.t.length ? store.left.t[store.left.t.length - 1] : 0;
    for (const m of marks) rect(m.t_begin_s, m.t_end_s === null ? end : m.t_end_s, "rgba(0,160,80,0.12)");
    ctx.restore();
  }

  function onDrawn() {
    drawsLeft -= 1;
    if (drawsLeft > 0 || !pendingStamps.length) return;
    const now = nowEpochMs();
    for (const stamp of pendingStamps) record(probe.latency.angleMs, now - stamp);
    pendingStamps = [];
  }

  const charts = ANGLES.map(([name, title]) => {
    const div = document.createElement("div");
    div.className = "chart";
    div.id = "chart-" + name;
    $("charts").appendChild(div);
    return new uPlot({
      title, width: 560, height: 170,
      scales: { x: { time: false } },
      axes: [{ label: "session time (s)", size: 34 }, { size: 44 }],
      legend: { show: false },
      series: [{}, ...SIDES.map((side) => ({ label: side, stroke: COLOURS[side], width: 1.5, spanGaps: false }))],
      hooks: { drawClear: [shade], draw: [onDrawn] },
    }, [[], [], []], div);
  });

  // Both legs on one x axis: merge the two sorted time arrays; a leg without a sample at an x
  // gets undefined (skipped), an explicit null stays a gap.
  function merged(name) {
    const a = store.left, b = store.right;
    const x = [], yl = [], yr = [];
    let i = 0, j = 0;
    while (i < a.t.length || j < b.t.length) {
      const ta = i < a.t.length ? a.t[i] : Infinity, tb = j < b.t.length ? b.t[j] : Infinity;
      if (ta === tb) { x.push(ta); yl.push(a[name][i++]); yr.push(b[name][j++]); }
      else if (ta < tb) { x.push(ta); yl.push(a[name][i++]); yr.push(undefined); }
      else { x.push(tb); yl.push(undefined); yr.push(b[name][j++]); }
    }
    return [x, yl, yr];
  }

  function redraw() {
    drawsLeft = charts.length;
    ANGLES.forEach(([name], k) => charts[k].setData(merged(name)));
  }

  function append(side, cols) {
    const s = store[side];
    const n = cols.t_s.length;
    for (let k = 0; k < n; k++) {
      const t = cols.t_s[k];
      if (s.t.length && t - s.t[s.t.length - 1] > GAP_S) {   // break the line over a gap
        s.t.push(s.t[s.t.length - 1] + GAP_S / 2);
        for (const [name] of ANGLES) s[name].push(null);
      }
      s.t.push(t);
      for (const [name] of ANGLES) s[name].push(cols[name][k]);
    }
  }

  function prune(tEnd) {
    const tMin = tEnd - config.window_s;
    for (const side of SIDES) {
      const s = store[side];
      let k = 0;
      while (k < s.t.length && s.t[k] < tMin) k++;
      if (k) { s.t.splice(0, k); for (const [name] of ANGLES) s[name].splice(0, k); }
    }
  }

  // ------------------------------------------------------------------ tables
  const fmt = (v, d = 1) => (v === null || v === undefined ? "—" : Number(v).toFixed(d));

  function showLatest(latest) {
    for (const side of SIDES) {
      const v = latest[side];
      if (!v) continue;
      for (const [name] of ANGLES) {
        const cell = $(`latest-${side}-${name}`);
        cell.textContent = fmt(v[name]);
        const at = v[name.replace(/_deg$/, "_t_s")];
        cell.title = at === null ? "" : `at ${fmt(at, 2)} s`;
        cell.className = at !== null && v.t_s !== null && v.t_s - at > 1 ? "stale" : "";
      }
      $(`latest-${side}-strides_completed`).textContent = String(v.strides_completed);
    }
  }

  function showCalibration(rows) {
    const body = $("calibration-table").tBodies[0];
    body.replaceChildren(...rows.map((c) => {
      const tr = document.createElement("tr");
      tr.id = "calibration-" + c.side;
      tr.dataset.phase = c.phase;
      tr.className = c.phase;
      const rating = [c.quality, c.reference === "mid-stance" ? "against mid-stance" : null].filter(Boolean).join(", ");
      // Once calibrated there is nothing to do: the cell states the errors to expect instead.
      for (const text of [c.side, c.phase_text + (rating ? ` (${rating})` : ""), c.message || c.calibration_method || ""]) {
        const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
      }
      return tr;
    }));
  }

  function showCalibrationFile(file) {
    if (!file) return;
    const parts = [];
    if (file.reused) parts.push(`reused ${file.reused}`);
    if (file.saved) parts.push(`saved to ${file.saved}`);
    if (file.error) parts.push(file.error);
    $("calibration-file").textContent = parts.join("; ");
  }

  function showSensors(sensors) {
    outages = [];
    const body = $("sensor-table").tBodies[0];
    body.replaceChildren(...sensors.map((s) => {
      for (const o of s.outages) outages.push(o);
      const tr = document.createElement("tr");
      tr.id = "sensor-" + s.placement;
      tr.className = "link-" + s.link_state;
      tr.dataset.outages = String(s.outages.length);
      tr.dataset.reconnects = String(s.reconnects);
      tr.dataset.lost = String(s.n_lost);
      const gaps = s.outages.map((o) => `${o.duration_s.toFixed(1)} s at ${o.t_s.toFixed(1)} s`).join(", ") || "none";
      const cells = [s.placement.replace("_", " "), s.link_state, s.rate_hz.toFixed(0), String(s.n_samples),
        `${s.n_lost} (${s.lost_pct.toFixed(1)} %)`, s.battery_percent === null ? "—" : `${s.battery_percent} %`,
        String(s.reconnects), gaps];
      for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
      return tr;
    }));
  }

  function bandText(r) {
    if (r.compare === "none") return r.note ? "no verified norm" : "";
    const lo = r.low === null ? "" : fmt(r.low), hi = r.high === null ? "" : fmt(r.high);
    const range = r.low === null ? `≤ ${hi}` : r.high === null ? `≥ ${lo}` : `${lo} to ${hi}`;
    return (r.compare === "symmetry_index" ? "symmetry index " : "") + range + " " + (r.unit || "");
  }

  function bandBar(r) {
    // A small bar: the band in grey, left and right means as dots.
    const bar = document.createElement("div");
    bar.className = "bandbar";
    const values = r.compare === "symmetry_index" ? [r.symmetry_index_pct] : SIDES.map((s) => r[s].mean);
    const known = [...values, r.low, r.high].filter((v) => v !== null && v !== undefined);
    if (!known.length || r.compare === "none") return bar;
    let lo = Math.min(...known), hi = Math.max(...known);
    const pad = 0.15 * (hi - lo || 1); lo -= pad; hi += pad;
    const pos = (v) => `${(100 * (v - lo)) / (hi - lo)}%`;
    const band = document.createElement("span");
    band.className = "band";
    band.style.left = r.low === null ? "0%" : pos(r.low);
    band.style.right = r.high === null ? "0%" : `calc(100% - ${pos(r.high)})`;
    bar.appendChild(band);
    const dots = r.compare === "symmetry_index" ? [["both", r.symmetry_index_pct]] : SIDES.map((s) => [s, r[s].mean]);
    for (const [side, v] of dots) {
      if (v === null) continue;
      const dot = document.createElement("span");
      dot.className = "dot " + side; dot.style.left = pos(v); bar.appendChild(dot);
    }
    return bar;
  }

  function showSummary(rows) {
    const body = $("stride-table").tBodies[0];
    if (!rows.length) return;
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      tr.id = "stride-" + r.metric;
      const name = document.createElement("th"); name.textContent = r.title; tr.appendChild(name);
      for (const side of SIDES) {
        const td = document.createElement("td");
        const v = r[side];
        td.id = `stride-${r.metric}-${side}`;
        td.textContent = `${fmt(v.mean)} (last ${fmt(v.last)}, n ${v.n})`;
        if (v.outside) td.className = "outside";
        tr.appendChild(td);
      }
      const bar = document.createElement("td"); bar.appendChild(bandBar(r)); tr.appendChild(bar);
      const ref = document.createElement("td");
      ref.textContent = bandText(r) + (r.compare === "symmetry_index" ? ` — now ${fmt(r.symmetry_index_pct)} %` : "");
      ref.title = r.source || r.note;
      if (r.outside) ref.className = "outside";
      tr.appendChild(ref);
      return tr;
    }));
  }

  function showRecording(rec) {
    recording = rec;
    const button = $("record-button");
    button.disabled = !config.recording_enabled || probe.finished;
    button.textContent = rec.active ? "Stop recording" : "Record";
    button.className = rec.active ? "recording" : "";
    $("record-state").textContent = !config.recording_enabled ? "recording off (start with --record DIR)"
      : rec.active ? `recording to ${rec.folder}` : rec.error ? `stopped: ${rec.error}` : "not recording";
    $("sessions").textContent = rec.sessions && rec.sessions.length ? "Recorded: " + rec.sessions.join(", ") : "";
  }

  function showMarks(list) {
    marks = list;
    $("marks").replaceChildren(...list.map((m) => {
      const li = document.createElement("li");
      li.textContent = `${m.name}: ${fmt(m.t_begin_s)} s – ${m.t_end_s === null ? "…" : fmt(m.t_end_s) + " s"}`;
      return li;
    }));
    const name = $("step-name").value.trim();
    const open = list.some((m) => m.name === name && m.t_end_s === null);
    $("step-button").textContent = open ? "End step" : "Begin step";
  }

  // ------------------------------------------------------------------ messages
  function onMessage(msg) {
    if (msg.type === "snapshot") {
      probe.snapshots += 1;
      config = Object.assign(config, msg.config);
      store = emptyStore();
    } else {
      probe.updates += 1;
    }
    for (const side of SIDES) if (msg.angles && msg.angles[side]) append(side, msg.angles[side]);
    if (msg.t_s !== null) { $("session-time").textContent = fmt(msg.t_s); prune(msg.t_s); }
    if (msg.sensors) showSensors(msg.sensors);
    if (msg.arrival_epoch_ms) for (const side of SIDES) if (side in msg.arrival_epoch_ms) pendingStamps.push(msg.arrival_epoch_ms[side]);
    showMarks(msg.marks);
    probe.finished = msg.finished;
    $("pipeline-error").textContent = msg.pipeline_error ? `angles stopped: ${msg.pipeline_error}` : "";
    showRecording(msg.recording);
    showLatest(msg.latest);
    showCalibration(msg.calibration);
    if (Number.isFinite(msg.t_s)) {
      for (const c of msg.calibration || []) {
        if ((c.phase === "calibrated" || c.phase === "reused") && !(c.side in probe.calibratedAtS)) probe.calibratedAtS[c.side] = msg.t_s;
      }
    }
    showCalibrationFile(msg.calibration_file);
    $("recalibrate-button").disabled = probe.finished || !!msg.pipeline_error;
    // Walk done: calibrates the legs still waiting, ends the calibrated legs' walk (its last strides).
    $("walk-done-button").disabled = probe.finished || !!msg.pipeline_error || !msg.calibration.length;
    $("save-calibration-button").disabled = !!msg.pipeline_error || !msg.calibration.length
      || !msg.calibration.every((c) => c.phase === "calibrated" || c.phase === "reused");
    if (msg.summary) showSummary(msg.summary);
    if (msg.strides && msg.type === "update" && config.t0_epoch_ms !== null) {
      const now = nowEpochMs();
      for (const s of msg.strides) {
        // Only a stride's first version: later ones (settled, timed, final) are on screen already.
        if (s.index <= (probe.strideShown[s.side] ?? -1)) continue;
        probe.strideShown[s.side] = s.index;
        const endS = s.t_next_initial_contact_s;
        if (!Number.isFinite(endS) || probe.latency.strideMs.length >= MAX_LATENCY_SAMPLES) continue;
        probe.latency.strideMs.push(now - (config.t0_epoch_ms + 1e3 * endS));
        probe.latency.strideUpdate.push(probe.updates);
        probe.latency.strideEndS.push(endS);
        probe.latency.strideSide.push(s.side);
      }
    }
    if (msg.type === "snapshot" || (msg.angles && Object.keys(msg.angles).length) || msg.sensors) redraw();
    probe.lastStatus = { t_s: msg.t_s, latest: msg.latest };
    if (msg.finished) $("connection").textContent = "run ended";
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(TOKEN)}`);
    ws.onopen = () => { probe.connected = true; $("connection").textContent = "live"; $("connection").className = "pill live"; };
    ws.onmessage = (event) => onMessage(JSON.parse(event.data));
    ws.onclose = () => {
      probe.connected = false;
      $("connection").className = "pill";
      if (!probe.finished) { $("connection").textContent = "reconnecting…"; setTimeout(connect, 1000); }
    };
  }

  async function post(path, body) {
    const response = await fetch(`${path}?token=${encodeURIComponent(TOKEN)}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) { alert(answer.error); return; }
    showRecording(answer.recording);
    showMarks(answer.marks);
    showCalibrationFile(answer.calibration_file);
  }

  $("record-button").addEventListener("click", () => post("api/record", { action: recording.active ? "stop" : "start" }));
  $("step-button").addEventListener("click", () => {
    const name = $("step-name").value.trim();
    const open = marks.some((m) => m.name === name && m.t_end_s === null);
    post("api/step", { action: open ? "end" : "begin", name });
  });
  $("step-name").addEventListener("input", () => showMarks(marks));
  $("recalibrate-button").addEventListener("click", () => post("api/calibration", { action: "recalibrate" }));
  $("walk-done-button").addEventListener("click", () => post("api/walk", { action: "done" }));
  $("save-calibration-button").addEventListener("click", async () => {
    const response = await fetch(`api/calibration?token=${encodeURIComponent(TOKEN)}`);
    if (!response.ok) { alert((await response.json()).error); return; }
    const name = (/filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "") || [])[1] || "calibration.json";
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });
  connect();
})();
