// The status page: task stream, progress per prefix, memory per worker, from /json/status every POLL_MS.
"use strict";

const WINDOW_S = 15;          // seconds of task stream shown
const KEEP = 10000;           // task-stream entries kept in the page
const SVG = "http://www.w3.org/2000/svg";

const stream = [];            // entries {key, prefix, worker, thread, start, stop, status, action}
let lastStop = null;
let serverNow = 0;
const names = new Map();      // worker address -> name

// Polls by cursor never repeat an entry, so entries are appended as they come.
function addEntries(entries) {
  for (const e of entries) {
    stream.push(e);
    if (lastStop === null || e.stop > lastStop) lastStop = e.stop;
  }
  if (stream.length > KEEP) stream.splice(0, stream.length - KEEP);
}

// Records other than computations (transfers, spilling) arrive only when the scheduler records them.
function isCompute(e) {
  return (e.action ?? "compute") === "compute";
}

// As Dask colours its task stream: computations by prefix (black when they failed), transfers red, disk orange.
const ACTION_COLOURS = { transfer: "#d62728", "disk-write": "#ff7f0e", "disk-read": "#ffbb78" };
function barColour(e) {
  if (!isCompute(e)) return ACTION_COLOURS[e.action] ?? "#999";
  return e.status === "OK" ? prefixColour(e.prefix) : "#000";
}

function drawStream() {
  const canvas = document.getElementById("task-stream");
  // Rows are labelled "worker name / thread n": thread ids are long and only their order within a worker matters.
  const threads = new Map();
  for (const e of stream) {
    if (!threads.has(e.worker)) threads.set(e.worker, new Map());
    const own = threads.get(e.worker);
    if (isCompute(e) && !own.has(e.thread)) own.set(e.thread, own.size);
  }
  // Transfers and spilling have no thread: they get one row per worker below its threads.
  const rowOf = (e) => `${names.get(e.worker) ?? e.worker} / ` +
    (isCompute(e) ? `thread ${threads.get(e.worker).get(e.thread)}` : "transfers & disk");
  const rows = [...new Set(stream.map(rowOf))].sort();
  const rowHeight = 14, top = 4, left = 170, bottom = 18;
  const { ctx, width, height } = fitCanvas(canvas, Math.max(60, top + rows.length * rowHeight + bottom));
  // While work runs the window ends now; once it stops, the last bars stay in view.
  let end = serverNow;
  if (lastStop !== null && serverNow - lastStop > WINDOW_S) end = lastStop + 0.5;
  const start = end - WINDOW_S;
  const scale = (width - left - 4) / WINDOW_S;
  ctx.font = "11px sans-serif";
  ctx.textBaseline = "middle";
  rows.forEach((row, i) => {
    ctx.fillStyle = "#555";
    ctx.fillText(row.length > 28 ? "…" + row.slice(-27) : row, 2, top + i * rowHeight + rowHeight / 2);
  });
  const index = new Map(rows.map((r, i) => [r, i]));
  let drawn = 0, moved = 0;
  for (const e of stream) {
    if (e.stop < start) continue;
    const i = index.get(rowOf(e));
    const x = left + Math.max(0, e.start - start) * scale;
    const w = Math.max(1, (e.stop - Math.max(e.start, start)) * scale);
    ctx.fillStyle = barColour(e);
    ctx.fillRect(x, top + i * rowHeight + 1, w, rowHeight - 2);
    if (isCompute(e)) drawn++; else moved++;
  }
  ctx.fillStyle = "#777";
  for (let s = 0; s <= WINDOW_S; s += 5) {
    const x = left + s * scale;
    ctx.fillText(`${s - WINDOW_S}s`, Math.min(x, width - 24), height - 8);
  }
  document.getElementById("stream-bars").textContent = String(drawn);
  document.getElementById("stream-moves").textContent = String(moved);
}

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// Stacked horizontal bars: one row per item, segments [{value, colour, name}] over `total`.
function drawBars(svg, items) {
  svg.replaceChildren();
  const rowHeight = 20, label = 150, width = svg.clientWidth || svg.parentNode.clientWidth || 500;
  svg.setAttribute("height", Math.max(20, items.length * rowHeight + 4));
  items.forEach((item, i) => {
    const y = i * rowHeight + 2;
    const g = svgEl("g", { "data-name": item.name, class: "bar-row" });
    g.appendChild(svgEl("text", { x: 2, y: y + 13, "font-size": 12 }, item.name.slice(0, 22)));
    const span = width - label - 110;
    let x = label;
    g.appendChild(svgEl("rect", { x, y, width: span, height: rowHeight - 4, fill: "#eee" }));
    for (const seg of item.segments) {
      const w = item.total > 0 ? (span * seg.value) / item.total : 0;
      if (w > 0) {
        const rect = svgEl("rect", { x, y, width: w, height: rowHeight - 4, fill: seg.colour, class: seg.name });
        rect.appendChild(svgEl("title", {}, `${seg.name}: ${seg.label ?? seg.value}`));
        g.appendChild(rect);
      }
      x += w;
    }
    g.appendChild(svgEl("text", { x: label + span + 6, y: y + 13, "font-size": 12 }, item.text));
    svg.appendChild(g);
  });
}

function drawProgress(tasks) {
  const items = Object.entries(tasks.by_prefix).sort(([a], [b]) => a.localeCompare(b)).map(([prefix, c]) => {
    const memory = c.memory || 0, processing = c.processing || 0, erred = c.erred || 0;
    const waiting = (c.waiting || 0) + (c["no-worker"] || 0) + (c.queued || 0);
    const total = memory + processing + erred + waiting + (c.released || 0);
    return {
      name: prefix, total, text: `${memory} / ${total}`,
      segments: [
        { name: "memory", value: memory, colour: prefixColour(prefix) },
        { name: "processing", value: processing, colour: "#9ecae1" },
        { name: "waiting", value: waiting, colour: "#ccc" },
        { name: "erred", value: erred, colour: "#d62728" },
      ],
    };
  });
  drawBars(document.getElementById("progress"), items);
}

function drawMemory(workers) {
  // Scaled to the largest worker rather than to memory limits, which usually dwarf what tasks store.
  const biggest = Math.max(1, ...workers.map((w) => w.stored + w.spilled));
  const items = workers.map((w) => ({
    name: w.name, total: biggest,
    text: `${formatBytes(w.stored)} · ${w.processing} proc`,
    segments: [
      { name: "stored", value: w.stored, colour: "#2a9d8f", label: formatBytes(w.stored) },
      { name: "spilled", value: w.spilled, colour: "#e9c46a", label: formatBytes(w.spilled) },
    ],
  }));
  drawBars(document.getElementById("memory"), items);
}

// The cursor numbers task-stream entries: each poll gets only those it has not seen (the newest 1000 at most).
let cursor = null;
poll(() => "/json/status" + (cursor === null ? "" : `?cursor=${cursor}`), (data) => {
  serverNow = data.now;
  cursor = data.cursor;
  for (const w of data.workers) names.set(w.address, w.name);
  addEntries(data.stream);
  drawStream();
  drawProgress(data.tasks);
  drawMemory(data.workers);
});
