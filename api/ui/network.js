// Network explorer: the stakeholder network from /api/network drawn with sigma.js (graphology model). Positions
// come from the server (ForceAtlas2 per component); size = the chosen centrality; colour = community; hover highlights the
// neighbours; click opens the entity page.
(function () {
  "use strict";
  const GraphCls = typeof graphology === "function" ? graphology : (graphology.Graph || graphology.default);
  const SigmaCls = typeof Sigma === "function" ? Sigma : (Sigma.Sigma || Sigma.default);
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2",
    "#bcbd22", "#7f7f7f", "#393b79", "#ad494a", "#637939", "#843c39", "#5254a3", "#6b6ecf"];
  const KIND_COLORS = { State: "#3d7cc9", InternationalOrganisation: "#2b8a5a", RegionalOrganisation: "#8aa329",
    DiasporaOrganisation: "#d9734e", CivilSocietyOrganisation: "#b04a8a", PrivateSectorActor: "#c9a227",
    AcademicInstitution: "#6b55b5", GovernmentAgency: "#2a8c8c" };
  const container = document.getElementById("sigma");
  const status = document.getElementById("net-status");
  const tip = document.getElementById("net-tip");
  const focus = new URLSearchParams(location.search).get("focus");
  let renderer = null, graph = null, hovered = null, found = null, requests = 0;

  function params() {
    const p = new URLSearchParams();
    p.set("layer", document.getElementById("layer").value);
    p.set("measure", document.getElementById("measure").value);
    const kinds = [...document.querySelectorAll("input[name=kind]")];
    if (kinds.some(k => !k.checked)) kinds.filter(k => k.checked).forEach(k => p.append("kind", k.value));
    const rels = [...document.querySelectorAll("input[name=relation]")];
    if (rels.some(r => !r.checked)) rels.filter(r => r.checked).forEach(r => p.append("relation", r.value));
    return p;
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
      graph.addNode(n.id, { x: n.x, y: n.y, label: n.label, kind: n.kind, score: n.score, community: n.community,
        size: 2.5 + 10 * Math.sqrt((n.score - lo) / (hi - lo || 1)), color: PALETTE[((n.community % PALETTE.length) + PALETTE.length) % PALETTE.length] });
    }
    for (const e of data.edges) {
      if (!graph.hasEdge(e.source, e.target))
        graph.addEdge(e.source, e.target, { size: Math.min(4, 0.5 + Math.log1p(e.weight)), color: "#c9d1da", kinds: e.kinds });
    }
    if (renderer) renderer.kill();
    if (found && !graph.hasNode(found)) found = null;
    if (hovered && !graph.hasNode(hovered)) hovered = null;
    try {
      renderer = new SigmaCls(graph, container, { labelRenderedSizeThreshold: 9, labelFont: "DejaVu Sans, sans-serif",
        nodeReducer, edgeReducer, zIndex: true });
    } catch (err) {
      status.textContent = "cannot draw the network here (WebGL unavailable): " + err.message; return;
    }
    renderer.on("enterNode", ({ node }) => { hovered = node; showTip(node); renderer.refresh({ skipIndexation: true }); });
    renderer.on("leaveNode", () => { hovered = null; tip.hidden = true; renderer.refresh({ skipIndexation: true }); });
    renderer.on("clickNode", ({ node }) => { window.location.href = "/id/" + node; });
    status.textContent = `${data.nodes.length} stakeholders, ${data.edges.length} ties, ${data.communities} communities. ${data.note}`;
    container.dataset.nodes = String(data.nodes.length);
    container.dataset.ready = "true";
    window.mdkgNetwork = { graph, renderer, data, highlight };
    if (focus && graph.hasNode(focus)) highlight(focus);
  }

  function showTip(node) {
    const a = graph.getNodeAttributes(node);
    tip.hidden = false;
    tip.innerHTML = "";
    const b = document.createElement("b"); b.textContent = a.label; tip.appendChild(b);
    tip.appendChild(document.createTextNode(` — ${a.kind}, ${graph.degree(node)} ties, score ${a.score.toPrecision(3)}`));
  }

  function highlight(node) {
    found = node; hovered = node; showTip(node);
    const pos = renderer.getNodeDisplayData(node);
    if (pos) renderer.getCamera().animate({ x: pos.x, y: pos.y, ratio: 0.5 }, { duration: 300 });
    renderer.refresh({ skipIndexation: true });
  }

  function nodeReducer(node, attrs) {
    const res = { ...attrs };
    if (document.getElementById("colour").value === "kind") res.color = KIND_COLORS[attrs.kind] || "#7f7f7f";
    const active = hovered || found;
    if (active) {
      if (node === active) { res.highlighted = true; res.forceLabel = true; }
      else if (graph.areNeighbors(node, active)) { res.forceLabel = true; }
      else { res.color = "#e4e7eb"; res.label = ""; res.zIndex = 0; }
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

  document.getElementById("net-controls").addEventListener("change", e => {
    if (e.target.id === "colour") { if (renderer) renderer.refresh({ skipIndexation: true }); }
    else if (e.target.id !== "net-find") load();
  });
  document.getElementById("net-find").addEventListener("input", e => {
    const q = e.target.value.trim().toLowerCase();
    if (!graph) return;
    if (!q) { found = null; hovered = null; tip.hidden = true; renderer.refresh({ skipIndexation: true }); return; }
    const hit = graph.findNode((n, a) => a.label.toLowerCase().includes(q));
    if (hit) highlight(hit);
  });
  document.querySelectorAll(".exports a").forEach(a => a.addEventListener("click", e => {
    e.preventDefault();
    const p = params(); p.set("format", a.dataset.fmt);
    window.location.href = "/api/network/export?" + p.toString();
  }));
  load();
})();
