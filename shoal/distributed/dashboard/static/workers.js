// The workers page: one row per worker and a total row, from /json/workers every POLL_MS.
"use strict";

function cells(values) {
  const tr = document.createElement("tr");
  for (const v of values) {
    const td = document.createElement("td");
    td.textContent = v;
    tr.appendChild(td);
  }
  return tr;
}

function percent(x) {
  return x === null || x === undefined ? "" : x.toFixed(1);
}

poll("/json/workers", (data) => {
  const body = document.querySelector("#workers tbody");
  const rows = data.workers.map((w) => {
    const tr = cells([w.name, w.address, w.nthreads, percent(w.cpu), formatBytes(w.memory), formatBytes(w.memory_limit),
      percent(w.memory_percent), formatBytes(w.spilled), w.num_fds, w.processing, formatBytes(w.stored)]);
    tr.className = "worker";
    tr.dataset.address = w.address;
    tr.dataset.memory = String(w.memory);
    return tr;
  });
  const sum = (f) => data.workers.reduce((acc, w) => acc + (w[f] || 0), 0);
  const memory = sum("memory"), limit = sum("memory_limit");
  const total = cells([`Total (${data.workers.length})`, "", sum("nthreads"), percent(sum("cpu")), formatBytes(memory),
    formatBytes(limit), limit ? percent((100 * memory) / limit) : "", formatBytes(sum("spilled")), sum("num_fds"),
    sum("processing"), formatBytes(sum("stored"))]);
  total.className = "total";
  body.replaceChildren(...rows, total);
});

// Line charts of each worker's CPU % and memory from the dashboard's bounded history (/json/workers-history).
function lineChart(canvas, times, series, format) {
  const { ctx, width, height } = fitCanvas(canvas, 180);
  const left = 64, right = 6, top = 6, bottom = 18;
  const values = series.flatMap((s) => s.values);
  const high = Math.max(1, ...values);
  const t1 = times.length ? times[times.length - 1] : 0, t0 = times.length ? Math.min(times[0], t1 - 10) : -10;
  const x = (t) => left + ((t - t0) / Math.max(1e-9, t1 - t0)) * (width - left - right);
  const y = (v) => top + (1 - v / high) * (height - top - bottom);
  ctx.strokeStyle = "#ddd";
  ctx.fillStyle = "#777";
  ctx.font = "11px sans-serif";
  for (const f of [0, 0.5, 1]) {
    ctx.beginPath();
    ctx.moveTo(left, y(high * f));
    ctx.lineTo(width - right, y(high * f));
    ctx.stroke();
    ctx.fillText(format(high * f), 2, y(high * f) + 4);
  }
  ctx.fillText(`${Math.round(t0 - t1)} s`, left, height - 4);
  ctx.fillText("now", width - right - 22, height - 4);
  let drawn = 0;
  for (const s of series) {
    // A worker that joined late has fewer samples: they line up with the newest times.
    const offset = times.length - s.values.length;
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    s.values.forEach((v, i) => (i === 0 ? ctx.moveTo : ctx.lineTo).call(ctx, x(times[offset + i]), y(v)));
    ctx.stroke();
    if (s.values.length) drawn++;
  }
  canvas.dataset.lines = String(drawn);
}

poll("/json/workers-history", (data) => {
  const addresses = Object.keys(data.workers).sort();
  const named = new Map([...document.querySelectorAll("#workers tr.worker")].map((tr) =>
    [tr.dataset.address, tr.firstChild.textContent]));
  const series = (field) => addresses.map((a, i) => ({ values: data.workers[a][field], colour: workerColour(i) }));
  lineChart(document.getElementById("cpu-chart"), data.times, series("cpu"), (v) => (v < 10 ? v.toFixed(1) : v.toFixed(0)) + " %");
  lineChart(document.getElementById("memory-chart"), data.times, series("memory"), formatBytes);
  document.getElementById("history-samples").textContent = String(data.times.length);
  const span = data.times.length ? data.times[data.times.length - 1] - data.times[0] : 0;
  document.getElementById("history-span").textContent = span.toFixed(0);
  for (const box of document.querySelectorAll(".legend")) {
    box.replaceChildren(...addresses.map((a, i) =>
      el("span", {}, el("i", { style: `background:${workerColour(i)}` }), named.get(a) ?? a)));
  }
}, 1000);
