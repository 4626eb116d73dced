// The task graph page: nodes (tasks) in layers by dependency depth, coloured by state, from /json/graph.
// The server sends the layout (nodes, edges) only when it changed, and a string of one-letter states on
// every poll; edges are drawn once per layout into an offscreen canvas, so a poll only repaints the nodes.
"use strict";

const STATES = [
  // [letter, name, colour]
  ["w", "waiting", "#a6a6a6"], ["q", "queued", "#737373"], ["n", "no-worker", "#fdae6b"],
  ["p", "processing", "#3182bd"], ["m", "memory", "#31a354"], ["r", "released", "#dcdcdc"],
  ["e", "erred", "#d62728"], ["f", "forgotten", "#ffffff"],
];
const COLOUR = new Map(STATES.map(([c, , colour]) => [c, colour]));

let layout = null;        // {token, nodes: [[key, prefix, depth, row]], edges: [[from, to]], depth}
let positions = null;     // Float32Array of x, y per node
let nodeSize = 4;
let edgeLayer = null;     // offscreen canvas with the edges of the current layout
let canvasSize = null;
let lastStates = "";
// Zoom and pan: wheel zooms around the pointer, dragging pans, a double click resets the view.
const view = { scale: 1, x: 0, y: 0 };

function legend(counts) {
  const box = document.getElementById("graph-legend");
  box.replaceChildren(...STATES.filter(([c]) => c !== "f").map(([c, name, colour]) =>
    el("span", {}, el("i", { style: `background:${colour};border:1px solid #ccc` }), `${name} `,
      el("b", { class: "count", "data-state": name }, String(counts[c] || 0)))));
}

// Place nodes: x by depth, y by row; a layer taller than the canvas wraps into sub-columns.
function place(width, height) {
  const n = layout.nodes.length;
  const depth = Math.max(1, layout.depth);
  const perLayer = new Map();
  for (const node of layout.nodes) perLayer.set(node[2], Math.max(perLayer.get(node[2]) || 0, node[3] + 1));
  const colWidth = (width - 20) / depth;
  const minGap = 5;
  const fit = Math.max(1, Math.floor((height - 20) / minGap));
  const pos = new Float32Array(2 * n);
  let smallest = 12;
  for (let i = 0; i < n; i++) {
    const [, , d, r] = layout.nodes[i];
    const rows = perLayer.get(d);
    const columns = Math.ceil(rows / fit);
    const perColumn = Math.ceil(rows / columns);
    const gapY = (height - 20) / perColumn;
    const gapX = columns > 1 ? (colWidth * 0.8) / columns : 0;
    smallest = Math.min(smallest, gapY * 0.7, columns > 1 ? gapX * 0.7 : 12);
    pos[2 * i] = 10 + d * colWidth + colWidth * 0.1 + Math.floor(r / perColumn) * gapX + (columns > 1 ? 0 : colWidth * 0.3);
    pos[2 * i + 1] = 10 + (r % perColumn) * gapY + gapY / 2;
  }
  nodeSize = Math.max(2, Math.min(12, smallest));
  return pos;
}

function drawEdges(width, height) {
  const ratio = window.devicePixelRatio || 1;
  const layer = document.createElement("canvas");
  layer.width = Math.round(width * ratio);
  layer.height = Math.round(height * ratio);
  const ctx = layer.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.strokeStyle = layout.edges.length > 3000 ? "rgba(0,0,0,0.08)" : "rgba(0,0,0,0.25)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const [a, b] of layout.edges) {
    ctx.moveTo(positions[2 * a], positions[2 * a + 1]);
    ctx.lineTo(positions[2 * b], positions[2 * b + 1]);
  }
  ctx.stroke();
  return layer;
}

function draw(states) {
  const canvas = document.getElementById("graph");
  const width = canvas.clientWidth || 1000;
  const height = Math.max(300, Math.min(window.innerHeight - 150, 900));
  const { ctx } = fitCanvas(canvas, height);
  const size = `${width}x${height}`;
  if (layout && (positions === null || canvasSize !== size)) {
    positions = place(width, height);
    edgeLayer = drawEdges(width, height);
    canvasSize = size;
  }
  if (!layout || layout.nodes.length === 0) return;
  ctx.save();
  ctx.translate(view.x, view.y);
  ctx.scale(view.scale, view.scale);
  ctx.drawImage(edgeLayer, 0, 0, width, height);
  // One fill per colour: thousands of fillRect calls batched by state are far cheaper than per-node styles.
  const byColour = new Map();
  for (let i = 0; i < states.length; i++) {
    const colour = COLOUR.get(states[i]) || "#000";
    if (!byColour.has(colour)) byColour.set(colour, []);
    byColour.get(colour).push(i);
  }
  const half = nodeSize / 2;
  for (const [colour, members] of byColour) {
    ctx.fillStyle = colour;
    ctx.beginPath();
    for (const i of members) ctx.rect(positions[2 * i] - half, positions[2 * i + 1] - half, nodeSize, nodeSize);
    ctx.fill();
  }
  if (nodeSize >= 5) {
    ctx.strokeStyle = "rgba(0,0,0,0.35)";
    ctx.lineWidth = 0.5;
    ctx.beginPath();
    for (let i = 0; i < states.length; i++) ctx.rect(positions[2 * i] - half, positions[2 * i + 1] - half, nodeSize, nodeSize);
    ctx.stroke();
  }
  ctx.restore();
}

// The node under a point of the canvas (CSS pixels), or -1.
function nodeAt(px, py) {
  if (!positions) return -1;
  const x = (px - view.x) / view.scale;
  const y = (py - view.y) / view.scale;
  const reach = Math.max(nodeSize / 2 + 1, 4 / view.scale);
  let best = -1;
  let bestDistance = reach * reach;
  for (let i = 0; i < positions.length / 2; i++) {
    const dx = positions[2 * i] - x;
    const dy = positions[2 * i + 1] - y;
    const d = dx * dx + dy * dy;
    if (d <= bestDistance) { best = i; bestDistance = d; }
  }
  return best;
}

function setupInteraction() {
  const canvas = document.getElementById("graph");
  let drag = null;
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const factor = Math.exp(-event.deltaY * 0.0015);
    const scale = Math.min(200, Math.max(1, view.scale * factor));
    const rect = canvas.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    // Keep the point under the pointer where it is.
    view.x = px - ((px - view.x) * scale) / view.scale;
    view.y = py - ((py - view.y) * scale) / view.scale;
    view.scale = scale;
    draw(lastStates);
  }, { passive: false });
  canvas.addEventListener("mousedown", (event) => { drag = { x: event.clientX, y: event.clientY }; });
  window.addEventListener("mouseup", () => { drag = null; });
  canvas.addEventListener("mousemove", (event) => {
    if (drag) {
      view.x += event.clientX - drag.x;
      view.y += event.clientY - drag.y;
      drag = { x: event.clientX, y: event.clientY };
      draw(lastStates);
      return;
    }
    const rect = canvas.getBoundingClientRect();
    const i = nodeAt(event.clientX - rect.left, event.clientY - rect.top);
    const state = i >= 0 ? (STATES.find(([c]) => c === lastStates[i]) || ["", "?"])[1] : "";
    document.getElementById("graph-hover").textContent = i >= 0 ? `${layout.nodes[i][0]} (${state})` : "";
  });
  canvas.addEventListener("dblclick", () => {
    view.scale = 1;
    view.x = 0;
    view.y = 0;
    draw(lastStates);
  });
}

poll(() => "/json/graph" + (layout ? `?token=${layout.token}` : ""), (data) => {
  if (data.nodes) {
    layout = { token: data.token, nodes: data.nodes, edges: data.edges, depth: data.depth };
    positions = null;
    document.getElementById("graph-edges").textContent = String(data.edges.length);
  }
  const counts = {};
  for (const c of data.states) counts[c] = (counts[c] || 0) + 1;
  legend(counts);
  document.getElementById("graph-nodes").textContent = String(data.shown);
  document.getElementById("graph-total").textContent = String(data.total);
  document.getElementById("graph-note").textContent = data.truncated
    ? `Showing the ${data.shown} oldest of ${data.total} tasks (at most ${data.max_nodes}); the window moves on as tasks finish.`
    : (data.total === 0 ? "The scheduler holds no tasks: submit some work." : "");
  lastStates = data.states;
  draw(data.states);
});

setupInteraction();

window.addEventListener("resize", () => { canvasSize = null; });
