// The cluster map: the scheduler in the centre, workers on a circle, and moving dots for the tasks the
// scheduler sends to workers and the data workers send each other (from /json/map every POLL_MS).
"use strict";

const FRAME_MS = 40;
const FLIGHT_MS = 700;        // how long a dot takes from one end to the other
const MAX_DOTS = 400;         // busy clusters send thousands of tasks a second: a sample of them is enough

let scheduler = "";
let workers = [];             // [{address, name, nthreads, processing, executing, memory, stored}]
let since = null;
let sentTotal = 0, transferTotal = 0;
const dots = [];              // {from, to, born, colour}: from/to are "scheduler" or a worker address

function layout(width, height) {
  const cx = width / 2, cy = height / 2;
  const radius = Math.min(width, height) / 2 - 50;
  const where = new Map([["scheduler", [cx, cy]]]);
  workers.forEach((w, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, workers.length);
    where.set(w.address, [cx + radius * Math.cos(angle), cy + radius * Math.sin(angle)]);
  });
  return where;
}

function addDots(from, to, count, colour, now) {
  // Spread a poll's dots over its interval so a burst reads as a stream rather than one blob.
  for (let k = 0; k < Math.min(count, 8) && dots.length < MAX_DOTS; k++) {
    dots.push({ from, to, born: now + (k * POLL_MS) / Math.min(count, 8), colour });
  }
}

function frame() {
  const canvas = document.getElementById("map");
  const { ctx, width, height } = fitCanvas(canvas, 520);
  const where = layout(width, height);
  const now = performance.now();
  const [cx, cy] = where.get("scheduler");
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#ddd";
  for (const w of workers) {
    const [x, y] = where.get(w.address);
    ctx.beginPath();
    ctx.moveTo(cx, cy);
    ctx.lineTo(x, y);
    ctx.stroke();
  }
  for (let i = dots.length - 1; i >= 0; i--) {
    const dot = dots[i];
    const t = (now - dot.born) / FLIGHT_MS;
    const a = where.get(dot.from), b = where.get(dot.to);
    if (t > 1 || !a || !b) { dots.splice(i, 1); continue; }
    if (t < 0) continue;
    // Transfers bend away from the straight spoke (a quadratic curve), so they never hide behind task dots.
    const bend = dot.from === "scheduler" ? 0 : 0.3;
    const control = [(a[0] + b[0]) / 2 - (b[1] - a[1]) * bend, (a[1] + b[1]) / 2 + (b[0] - a[0]) * bend];
    const at = (u) => [(1 - u) * (1 - u) * a[0] + 2 * (1 - u) * u * control[0] + u * u * b[0],
      (1 - u) * (1 - u) * a[1] + 2 * (1 - u) * u * control[1] + u * u * b[1]];
    ctx.strokeStyle = dot.colour;
    ctx.globalAlpha = 0.35;
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    for (let k = 1; k <= 12; k++) ctx.lineTo(...at((t * k) / 12));
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.fillStyle = dot.colour;
    ctx.beginPath();
    ctx.arc(...at(t), 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.font = "12px sans-serif";
  ctx.textAlign = "center";
  for (const w of workers) {
    const [x, y] = where.get(w.address);
    const r = 10 + 3 * Math.min(w.nthreads, 8);
    ctx.fillStyle = "#2ca02c";
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
    if (w.processing > 0) {  // the ring grows with the work queued there
      ctx.strokeStyle = "#3182bd";
      ctx.lineWidth = Math.min(10, 2 + Math.log2(1 + w.processing));
      ctx.beginPath();
      ctx.arc(x, y, r + 4, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.lineWidth = 1;
    }
    ctx.fillStyle = "#222";
    ctx.fillText(`${w.name} (${w.processing} processing)`, x, y + r + 18);
  }
  ctx.fillStyle = "#1d3557";
  ctx.beginPath();
  ctx.arc(cx, cy, 16, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = "#222";
  ctx.fillText(`scheduler ${scheduler}`, cx, cy + 32);
}

poll(() => "/json/map" + (since === null ? "" : `?since=${since}`), (data) => {
  scheduler = data.scheduler;
  workers = data.workers;
  since = data.now;
  const now = performance.now();
  for (const [address, count] of Object.entries(data.started)) {
    sentTotal += count;
    addDots("scheduler", address, count, "#3182bd", now);
  }
  for (const t of data.transfers) {
    transferTotal += 1;
    if (t.source) addDots(t.source, t.target, 1, "#d62728", now);
  }
  document.getElementById("map-workers").textContent = String(workers.length);
  document.getElementById("map-sent").textContent = String(sentTotal);
  document.getElementById("map-transfers").textContent = String(transferTotal);
});

setInterval(frame, FRAME_MS);
