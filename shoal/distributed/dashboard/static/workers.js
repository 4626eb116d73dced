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
