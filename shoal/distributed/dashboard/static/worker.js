// One worker's info page (/info/worker/<address>): summary, call stacks of running tasks, and its logs.
"use strict";

const address = decodeURIComponent(location.pathname.slice("/info/worker/".length));
document.getElementById("worker-address").textContent = address;

poll(() => "/json/worker-info?address=" + encodeURIComponent(address), (info) => {
  document.getElementById("worker-name").textContent = info.name;
  const m = info.metrics || {};
  document.getElementById("worker-summary").textContent =
    `${info.nthreads} threads · CPU ${(m.cpu ?? 0).toFixed(1)} % · memory ${formatBytes(m.memory ?? 0)} · ` +
    `${info.n_processing} tasks processing · ${m.executing ?? 0} executing · ${m.ready ?? 0} ready`;
  const stacks = document.getElementById("stacks");
  stacks.replaceChildren(...info.stacks.map((st) => el("div", { class: "stack", "data-key": st.key },
    el("h3", {}, st.key), el("pre", {}, st.frames.join("")))));
  document.getElementById("stack-count").textContent = String(info.stacks.length);
  const body = document.querySelector("#logs tbody");
  body.replaceChildren(...info.logs.map(([level, message]) =>
    el("tr", { class: "log " + level.toLowerCase() }, el("td", {}, level), el("td", {}, el("pre", {}, message)))));
  document.getElementById("log-count").textContent = String(info.logs.length);
}, 1000);
