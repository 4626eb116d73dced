// The info page: the scheduler's task counts per prefix and state, and links to each worker's own page.
"use strict";

const STATE_ORDER = ["released", "waiting", "no-worker", "queued", "processing", "memory", "erred"];

function workerLink(address) {
  return "/info/worker/" + encodeURIComponent(address);
}

function row(values, attrs = {}) {
  return el("tr", attrs, ...values.map((v) => el("td", {}, v)));
}

function drawPrefixes(tasks) {
  const table = document.getElementById("prefixes");
  table.tHead.replaceChildren(el("tr", {}, el("th", {}, "prefix"), ...STATE_ORDER.map((s) => el("th", {}, s)),
    el("th", {}, "total")));
  const prefixes = Object.keys(tasks.by_prefix).sort();
  const rows = prefixes.map((prefix) => {
    const counts = tasks.by_prefix[prefix];
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    return row([prefix, ...STATE_ORDER.map((s) => String(counts[s] || 0)), String(total)],
      { class: "prefix", "data-prefix": prefix });
  });
  const total = row(["Total", ...STATE_ORDER.map((s) => String(tasks.by_state[s] || 0)), String(tasks.total)],
    { class: "total" });
  table.tBodies[0].replaceChildren(...rows, total);
  document.getElementById("info-total").textContent = String(tasks.total);
}

function drawWorkers(workers, now) {
  const body = document.querySelector("#info-workers tbody");
  body.replaceChildren(...workers.map((w) => {
    const link = el("a", { href: workerLink(w.address), class: "worker-link" }, w.name);
    return row([link, w.address, String(w.nthreads), String(w.processing), String(w.executing), String(w.keys),
      `${Math.max(0, now - w.last_seen).toFixed(1)} s ago`], { class: "worker", "data-address": w.address });
  }));
}

fetch("/json/identity", { cache: "no-store" }).then((r) => r.json()).then((id) => {
  document.getElementById("identity").textContent = `${id.address} (id ${id.id})`;
}).catch(() => {});

poll("/json/status?since=" + (Date.now() / 1000 + 3600), (data) => {
  drawPrefixes(data.tasks);
  drawWorkers(data.workers, data.now);
}, 1000);
