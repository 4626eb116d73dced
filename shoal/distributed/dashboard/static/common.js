// Helpers shared by the dashboard pages. Plain browser JavaScript: no libraries, no network beyond this server.
"use strict";

const POLL_MS = 500;

// A distinct colour per task prefix, kept for the page's lifetime so a prefix never changes colour between polls.
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
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

// Call `render(json)` with `url`'s JSON now and every POLL_MS; `url` may be a function (for ?since=...).
// Polls never overlap: the next starts after the previous answer (or failure).
function poll(url, render) {
  const status = document.getElementById("poll-status");
  async function once() {
    try {
      const response = await fetch(typeof url === "function" ? url() : url, { cache: "no-store" });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      render(await response.json());
      if (status) { status.textContent = "live " + new Date().toLocaleTimeString(); status.className = ""; }
    } catch (err) {
      if (status) { status.textContent = "scheduler unreachable: " + err.message; status.className = "error"; }
    }
    setTimeout(once, POLL_MS);
  }
  once();
}
