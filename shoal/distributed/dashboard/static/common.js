// Helpers shared by the dashboard pages. Plain browser JavaScript: no libraries, no network beyond this server.
"use strict";

const POLL_MS = 500;

// A distinct colour per task prefix, kept for the page's lifetime so a prefix never changes colour between polls.
// Red and orange are left out: the task stream draws transfers red and spilling orange, as Dask does.
const PALETTE = ["#1f77b4", "#393b79", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
  "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a"];
const prefixColours = new Map();
function prefixColour(prefix) {
  if (!prefixColours.has(prefix)) prefixColours.set(prefix, PALETTE[prefixColours.size % PALETTE.length]);
  return prefixColours.get(prefix);
}

function formatBytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "kiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(2)) + " " + units[i];
}

// Size a canvas's backing store to its displayed size (sharp on high-DPI screens); returns a 2D context.
function fitCanvas(canvas, height) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  canvas.style.height = height + "px";
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

// Call `render(json)` with `url`'s JSON now and every `interval` ms; `url` may be a function (for ?since=...).
// Polls never overlap: the next starts after the previous answer (or failure). A poll that took long (a big
// answer, a busy scheduler) stretches the pause after it, up to 1 s, so a page never loads a busy cluster much.
function poll(url, render, interval = POLL_MS) {
  const status = document.getElementById("poll-status");
  async function once() {
    const started = performance.now();
    try {
      const response = await fetch(typeof url === "function" ? url() : url, { cache: "no-store" });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      render(await response.json());
      if (status) { status.textContent = "live " + new Date().toLocaleTimeString(); status.className = ""; }
    } catch (err) {
      if (status) { status.textContent = "scheduler unreachable: " + err.message; status.className = "error"; }
    }
    const took = performance.now() - started;
    setTimeout(once, Math.max(interval, Math.min(1000, 10 * took)));
  }
  once();
}

// Create an element with attributes and text (or child nodes).
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

// Stable colours for worker series (charts, map), by the worker's position in the sorted address list.
const WORKER_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79"];
function workerColour(i) {
  return WORKER_COLOURS[i % WORKER_COLOURS.length];
}
