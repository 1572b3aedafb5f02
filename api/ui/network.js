// Network explorer: the stakeholder network from /api/network drawn with sigma.js (graphology model). Positions
// come from the server (ForceAtlas2 per component); size = the chosen centrality; colour = community or kind, with
// a legend for whichever is shown; hover highlights the neighbours; click opens the entity page.
// Labels are ours, not sigma's: after every frame, nodes are taken in order of importance (the found/hovered node
// and its neighbours first, then by score) and each gets a label box to its right, left, below or above, the first
// that overlaps no label already placed; a node with no free place stays unlabelled until one zooms in.
(function () {
  "use strict";
  const GraphCls = typeof graphology === "function" ? graphology : (graphology.Graph || graphology.default);
  const SigmaCls = typeof Sigma === "function" ? Sigma : (Sigma.Sigma || Sigma.default);
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2",
    "#bcbd22", "#7f7f7f", "#393b79", "#ad494a", "#637939", "#843c39", "#5254a3", "#6b6ecf"];
  // The stakeholder kinds are the page's: a checkbox for each (the server lists them from the ontology), named by
  // its label and coloured by its dot (app.css .k-{kind}).
  const KIND_COLORS = {}, KIND_NAMES = {};
  document.querySelectorAll("input[name=kind]").forEach(input => {
    const dot = input.parentElement.querySelector("i.dot");
    const rgb = (dot ? getComputedStyle(dot).backgroundColor : "").match(/\d+/g);
    if (rgb) KIND_COLORS[input.value] = "#" + rgb.slice(0, 3).map(x => Number(x).toString(16).padStart(2, "0")).join("");
    KIND_NAMES[input.value] = input.parentElement.textContent.trim();
  });
  const container = document.getElementById("sigma");
  const labels = document.getElementById("net-labels");
  const status = document.getElementById("net-status");
  const weighting = document.getElementById("net-weighting");
  const legend = document.getElementById("net-legend");
  const controls = document.getElementById("net-controls");
  const results = document.getElementById("net-results");
  const tip = document.getElementById("net-tip");
  const colour = document.getElementById("colour");
  const focus = new URLSearchParams(location.search).get("focus");
  let renderer = null, graph = null, hovered = null, found = null, requests = 0, pending = false;

  function params() {
    const p = new URLSearchParams();
    p.set("layer", document.getElementById("layer").value);
    p.set("measure", document.getElementById("measure").value);
    const kinds = [...document.querySelectorAll("input[name=kind]")];
    if (kinds.some(k => !k.checked)) kinds.filter(k => k.checked).forEach(k => p.append("kind", k.value));
    const rels = [...document.querySelectorAll("input[name=relation]")];
    if (rels.some(r => r.checked !== (r.dataset.default === "on"))) rels.filter(r => r.checked).forEach(r => p.append("relation", r.value));
    return p;
  }

  function humanise(kind) { return KIND_NAMES[kind] || kind.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase().replace(/^./, c => c.toUpperCase()); }
  function communityColour(c) { return PALETTE[((c % PALETTE.length) + PALETTE.length) % PALETTE.length]; }
  function colourOf(attrs) { return colour.value === "kind" ? (KIND_COLORS[attrs.kind] || "#7f7f7f") : communityColour(attrs.community); }
  function shortLabel(a) {
    if (a.short && a.label.length > 24) return a.short;
    return a.label.length > 30 ? a.label.slice(0, 28) + "…" : a.label;
  }

  async function load() {
    const p = params();
    if ([...document.querySelectorAll("input[name=kind]")].every(k => !k.checked)) { status.textContent = "choose a kind"; return; }
    status.textContent = "loading…";
    const mine = ++requests;  // a later change of the controls supersedes this answer
    const res = await fetch("/api/network?" + p.toString());
    const data = await res.json();
    if (mine !== requests) return;
    if (!res.ok) { status.textContent = data.detail; return; }
    graph = new GraphCls();
    const scores = data.nodes.map(n => n.score);
    const lo = Math.min(...scores, 0), hi = Math.max(...scores, 1e-9);
    for (const n of data.nodes) {
      graph.addNode(n.id, { x: n.x, y: n.y, label: n.label, short: n.short, kind: n.kind, score: n.score,
        community: n.community, size: 3 + 10 * Math.sqrt((n.score - lo) / (hi - lo || 1)), color: communityColour(n.community) });
    }
    for (const e of data.edges) {
      if (!graph.hasEdge(e.source, e.target))
        graph.addEdge(e.source, e.target, { size: Math.min(4, 0.5 + 2 * Math.log1p(e.weight)), color: "#c9d1da", kinds: e.kinds, weight: e.weight });
    }
    if (renderer) renderer.kill();
    if (found && !graph.hasNode(found)) found = null;
    if (hovered && !graph.hasNode(hovered)) hovered = null;
    try {
      renderer = new SigmaCls(graph, container, { renderLabels: false, nodeReducer, edgeReducer, zIndex: true,
        defaultDrawNodeHover: drawHover });
    } catch (err) {
      status.textContent = "cannot draw the network here (WebGL unavailable): " + err.message; return;
    }
    renderer.on("enterNode", ({ node }) => { hovered = node; showTip(node); renderer.refresh({ skipIndexation: true }); });
    renderer.on("leaveNode", () => { hovered = null; tip.hidden = true; renderer.refresh({ skipIndexation: true }); });
    renderer.on("clickNode", ({ node }) => { window.location.href = "/id/" + node; });
    renderer.on("afterRender", scheduleLabels);
    status.textContent = `${data.nodes.length} stakeholders, ${data.edges.length} ties, ${data.communities} communities. ${data.note}`;
    weighting.textContent = `Tie weight: ${data.weighting}. Relations: ${data.relations.join(", ")}.`;
    drawLegend();
    container.dataset.nodes = String(data.nodes.length);
    window.mdkgNetwork = { graph, renderer, data, highlight, matches, placeLabels };
    if (focus && graph.hasNode(focus)) highlight(focus);
    placeLabels();
    container.dataset.ready = "true";
  }

  function drawHover(ctx, data) {  // a ring, no label box: the label is ours
    ctx.beginPath(); ctx.arc(data.x, data.y, data.size + 3, 0, 2 * Math.PI);
    ctx.strokeStyle = "#1d2733"; ctx.lineWidth = 2; ctx.stroke();
  }

  // -- legend: says what the colours mean, for the colouring that is shown -------------------------------------
  function drawLegend() {
    controls.classList.toggle("by-community", colour.value !== "kind");
    legend.textContent = "";
    if (!graph) return;
    const ul = document.createElement("ul");
    const item = (c, text, key) => {
      const li = document.createElement("li");
      const sw = document.createElement("i"); sw.className = "sw"; sw.style.background = c; li.appendChild(sw);
      li.appendChild(document.createTextNode(text)); li.dataset.key = key; ul.appendChild(li);
    };
    if (colour.value === "kind") {
      const counts = {};
      graph.forEachNode((n, a) => { counts[a.kind] = (counts[a.kind] || 0) + 1; });
      Object.keys(KIND_COLORS).filter(k => counts[k]).forEach(k => item(KIND_COLORS[k], `${humanise(k)} (${counts[k]})`, k));
    } else {
      const groups = {};
      graph.forEachNode((n, a) => { (groups[a.community] = groups[a.community] || []).push(a); });
      const ordered = Object.entries(groups).sort((x, y) => y[1].length - x[1].length);
      ordered.slice(0, 8).forEach(([c, members]) => {
        const lead = members.slice().sort((x, y) => y.score - x.score)[0];
        item(communityColour(Number(c)), `${shortLabel(lead)}${members.length > 1 ? ` + ${members.length - 1}` : ""}`, c);
      });
      if (ordered.length > 8) {
        const li = document.createElement("li"); li.className = "muted";
        li.textContent = `… ${ordered.length - 8} smaller communities` + (ordered.length > PALETTE.length ? " (colours repeat)" : "");
        ul.appendChild(li);
      }
    }
    const title = document.createElement("div"); title.className = "muted";
    title.textContent = colour.value === "kind" ? "Colour = stakeholder kind:" : "Colour = community (largest member + others):";
    legend.append(title, ul);
  }

  // -- labels without overlap -------------------------------------------------------------------------------
  function scheduleLabels() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; placeLabels(); });
  }

  function overlaps(a, b) { return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h; }
  function hitsCircle(box, c) {
    const nx = Math.max(box.x, Math.min(c.x, box.x + box.w)), ny = Math.max(box.y, Math.min(c.y, box.y + box.h));
    return (nx - c.x) ** 2 + (ny - c.y) ** 2 < c.r * c.r;
  }

  function placeLabels() {
    labels.textContent = "";
    if (!renderer || !graph) return;
    const W = container.clientWidth, H = container.clientHeight;
    const active = hovered || found;
    const shown = [];
    graph.forEachNode(n => {
      const d = renderer.getNodeDisplayData(n);
      if (!d || d.hidden) return;
      const p = renderer.framedGraphToViewport(d);
      shown.push({ n, x: p.x, y: p.y, r: renderer.scaleSize(d.size), score: graph.getNodeAttribute(n, "score") });
    });
    const rank = s => (s.n === active ? 2 : active && graph.areNeighbors(s.n, active) ? 1 : 0);
    const order = shown.filter(s => !active || rank(s) > 0)
      .sort((a, b) => rank(b) - rank(a) || b.score - a.score || (a.n < b.n ? -1 : 1));
    const placed = [];
    for (const s of order) {
      if (s.x < 0 || s.x > W || s.y < 0 || s.y > H) continue;
      const span = document.createElement("span");
      span.className = "nlabel" + (s.n === active ? " active" : "");
      span.textContent = shortLabel(graph.getNodeAttributes(s.n));
      span.dataset.node = s.n;
      span.style.visibility = "hidden";
      labels.appendChild(span);
      const size = span.getBoundingClientRect(), w = Math.ceil(size.width) + 1, h = Math.ceil(size.height) + 1, g = 2;
      const spots = [
        { x: s.x + s.r + g, y: s.y - h / 2 }, { x: s.x - s.r - g - w, y: s.y - h / 2 },
        { x: s.x - w / 2, y: s.y + s.r + g }, { x: s.x - w / 2, y: s.y - s.r - g - h },
      ].map(b => ({ ...b, w, h }));
      const inside = b => b.x >= 0 && b.y >= 0 && b.x + b.w <= W && b.y + b.h <= H;
      const free = b => inside(b) && !placed.some(o => overlaps(b, o));
      const clear = b => free(b) && !shown.some(c => c.n !== s.n && hitsCircle(b, c));
      const box = spots.find(clear) || spots.find(free);
      if (!box) { span.remove(); continue; }
      placed.push(box);
      span.style.left = box.x + "px"; span.style.top = box.y + "px"; span.style.visibility = "";
    }
    labels.dataset.count = String(placed.length);
  }

  function showTip(node) {
    const a = graph.getNodeAttributes(node);
    tip.hidden = false;
    tip.innerHTML = "";
    const b = document.createElement("b"); b.textContent = a.label; tip.appendChild(b);
    tip.appendChild(document.createTextNode(` — ${humanise(a.kind)}, ${graph.degree(node)} ties, score ${a.score.toPrecision(3)}`));
  }

  function highlight(node) {
    found = node; hovered = null; showTip(node);
    const pos = renderer.getNodeDisplayData(node);
    if (pos) renderer.getCamera().animate({ x: pos.x, y: pos.y, ratio: 0.6 }, { duration: 300 });
    renderer.refresh({ skipIndexation: true });
    [...results.children].forEach(li => li.classList.toggle("sel", li.dataset.node === node));
  }

  function nodeReducer(node, attrs) {
    const res = { ...attrs, color: colourOf(attrs) };
    const active = hovered || found;
    if (active) {
      if (node === active) { res.highlighted = true; res.zIndex = 2; }
      else if (graph.areNeighbors(node, active)) { res.zIndex = 1; }
      else { res.color = "#e4e7eb"; res.zIndex = 0; }
    }
    return res;
  }
  function edgeReducer(edge, attrs) {
    const res = { ...attrs };
    const active = hovered || found;
    if (active) {
      if (graph.hasExtremity(edge, active)) { res.color = "#5b6b7f"; res.zIndex = 1; }
      else res.hidden = true;
    }
    return res;
  }

  // -- find: exact matches of a name, acronym or id first, then prefixes, then word prefixes, then the rest ---
  function matches(q) {
    q = q.trim().toLowerCase();
    if (!q || !graph) return [];
    const out = [];
    graph.forEachNode((n, a) => {
      const id = n.toLowerCase(), bare = id.replace(/^state\//, ""), label = a.label.toLowerCase();
      const short = (a.short || "").toLowerCase();
      let rank;
      if (label === q || bare === q || id === q || short === q) rank = 0;
      else if (label.startsWith(q) || bare.startsWith(q) || (short && short.startsWith(q))) rank = 1;
      else if (label.split(/[^\p{L}\p{N}]+/u).some(w => w.startsWith(q))) rank = 2;
      else if (label.includes(q) || id.includes(q)) rank = 3;
      else return;
      out.push({ node: n, label: a.label, rank, score: a.score });
    });
    return out.sort((x, y) => x.rank - y.rank || x.label.length - y.label.length || y.score - x.score || (x.label < y.label ? -1 : 1));
  }

  function showResults(hits) {
    results.textContent = "";
    hits.slice(0, 8).forEach(h => {
      const li = document.createElement("li"); li.dataset.node = h.node;
      const b = document.createElement("button"); b.type = "button"; b.textContent = h.label;
      b.addEventListener("click", () => highlight(h.node));
      li.appendChild(b); results.appendChild(li);
    });
  }

  controls.addEventListener("change", e => {
    if (e.target.id === "colour") { drawLegend(); if (renderer) renderer.refresh({ skipIndexation: true }); }
    else if (e.target.id !== "net-find") load();
  });
  document.getElementById("net-find").addEventListener("input", e => {
    if (!graph) return;
    const hits = matches(e.target.value);
    showResults(hits);
    if (!hits.length) { found = null; hovered = null; tip.hidden = true; renderer.refresh({ skipIndexation: true }); return; }
    highlight(hits[0].node);
  });
  window.addEventListener("resize", scheduleLabels);
  document.querySelectorAll(".exports a").forEach(a => a.addEventListener("click", e => {
    e.preventDefault();
    const p = params(); p.set("format", a.dataset.fmt);
    window.location.href = "/api/network/export?" + p.toString();
  }));
  load();
})();
