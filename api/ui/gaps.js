// Ratification-gap view: a world choropleth of each state's status (world-atlas shapes, topojson-client; small
// states as dots, former states on their successors' shapes) and a
// parties-per-year chart, both from the REST API. No other library: the projection is equirectangular.
(function () {
  "use strict";
  const mapEl = document.getElementById("map");
  const select = document.getElementById("map-instrument");
  if (!mapEl || !select) return;
  const asOf = mapEl.dataset.asOf;
  const W = 960, H = 440, NS = "http://www.w3.org/2000/svg";
  let world = null;

  function project(lon, lat) { return [(lon + 180) / 360 * W, (84 - lat) / (84 + 58) * H]; }
  function ringPath(ring) {
    // rings across the antimeridian (Russia, Fiji): move their western points east; the SVG clips them
    let crosses = false;
    for (let i = 1; i < ring.length; i++) if (Math.abs(ring[i][0] - ring[i - 1][0]) > 180) { crosses = true; break; }
    if (crosses) ring = ring.map(p => [p[0] < 0 ? p[0] + 360 : p[0], p[1]]);
    return ring.map((p, i) => { const [x, y] = project(p[0], p[1]); return (i ? "L" : "M") + x.toFixed(1) + "," + y.toFixed(1); }).join("") + "Z";
  }
  function featurePath(g) {
    if (!g) return "";
    const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    return polys.map(poly => poly.map(ringPath).join("")).join("");
  }

  async function loadWorld() {
    if (world) return world;
    const topo = await (await fetch("/ui/vendor/countries-110m.json")).json();
    world = topojson.feature(topo, topo.objects.countries).features.filter(f => f.properties.name !== "Antarctica");
    return world;
  }

  async function drawMap(instrument) {
    mapEl.setAttribute("aria-busy", "true");
    const region = mapEl.dataset.region || "";
    const [features, res] = await Promise.all([loadWorld(),
      fetch(`/api/instruments/${encodeURIComponent(instrument)}/status?as_of=${asOf}`)]);
    if (!res.ok) {  // the detail may quote a parameter: text, never markup
      const p = document.createElement("p"); p.className = "error"; p.textContent = (await res.json()).detail;
      mapEl.replaceChildren(p); return;
    }
    const data = await res.json();
    const inRegion = s => !region || s.region_code === region || s.subregion_code === region;
    // A state's own shape first; a former state (Serbia and Montenegro, the USSR) on its successors' shapes
    // where no state of the date claims them.
    const byNum = new Map();
    const own = s => s.shapes.length === 1 && s.shapes[0] === s.numeric;
    for (const s of data.states) if (own(s)) byNum.set(s.shapes[0], s);
    for (const s of data.states) if (!own(s)) for (const n of s.shapes) if (!byNum.has(n)) byNum.set(n, s);
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `status of ${instrument} on ${asOf}`);
    const drawn = new Set();
    const describe = s => `${s.name} — ${s.status === "no-data" ? "no data (the record does not say)" : s.status}` +
      `${s.consent_date ? " since " + s.consent_date : ""}`;
    function decorate(el, s) {
      el.setAttribute("class", (el.getAttribute("class") || "") + " s-" + s.status + (inRegion(s) ? "" : " out"));
      el.dataset.iso3 = s.iso3; el.dataset.status = s.status;
      const title = document.createElementNS(NS, "title");
      title.textContent = describe(s);
      el.appendChild(title);
      el.addEventListener("click", () => { window.location.href = "/id/state/" + s.iso3; });
      drawn.add(s.iso3);
    }
    for (const f of features) {
      const s = f.id ? byNum.get(String(f.id).padStart(3, "0")) : null;
      const path = document.createElementNS(NS, "path");
      path.setAttribute("d", featurePath(f.geometry));
      if (s) decorate(path, s);
      else {
        path.setAttribute("class", "s-none" + (region ? " out" : ""));
        const title = document.createElementNS(NS, "title");
        title.textContent = `${f.properties.name} — not a state in the record on ${asOf}`;
        path.appendChild(title);
      }
      svg.appendChild(path);
    }
    let dots = 0;
    for (const s of data.states) {  // small states: a dot on top of the shapes
      if (!s.point) continue;
      const [x, y] = project(s.point[1], s.point[0]);
      const c = document.createElementNS(NS, "circle");
      c.setAttribute("cx", x.toFixed(1)); c.setAttribute("cy", y.toFixed(1)); c.setAttribute("r", "3.2");
      c.setAttribute("class", "small");
      decorate(c, s);
      svg.appendChild(c); dots++;
    }
    mapEl.replaceChildren(svg);
    mapEl.dataset.instrument = instrument;
    mapEl.dataset.states = String(drawn.size);
    mapEl.dataset.dots = String(dots);
    mapEl.dataset.missing = data.states.filter(s => !drawn.has(s.iso3)).map(s => s.iso3).join(" ");
    mapEl.removeAttribute("aria-busy");
    const shown = data.states.filter(inRegion);
    const c = {};
    for (const s of shown) c[s.status] = (c[s.status] || 0) + 1;
    const n = k => c[k] || 0;
    const where = region ? ` in ${document.querySelector("#region option:checked")?.textContent || region}` : "";
    document.getElementById("map-summary").textContent =
      `${data.instrument.title || instrument}${where}: ${shown.length} states on ${asOf}; ${n("party")} parties, ` +
      `${n("signatory")} signatories, ${n("no-action")} without action, ${n("denounced")} denounced` +
      (n("no-data") ? `, ${n("no-data")} no data (the record does not say)` : "") + ". " +
      (data.complete ? "" : data.warnings.join(" "));
  }

  const COLORS = ["#1f5fa8", "#d1495b", "#2b8a5a", "#e0a526", "#6b55b5", "#2a8c8c", "#d9734e", "#8aa329"];
  async function drawTimeline(instruments) {
    const el = document.getElementById("timeline");
    const series = [];
    for (const id of instruments) {
      const res = await fetch(`/api/instruments/${encodeURIComponent(id)}/timeline`);
      if (res.ok) { const t = await res.json(); if (t.years.length) series.push({ id, title: t.instrument.title || id, years: t.years }); }
    }
    if (!series.length) { el.innerHTML = '<p class="muted">No treaty actions recorded.</p>'; return; }
    const years = series.flatMap(s => s.years.map(y => y.year));
    const y0 = Math.min(...years), y1 = Math.max(...years, new Date(asOf).getFullYear());
    const max = Math.max(1, ...series.flatMap(s => s.years.map(y => y.state_parties)));
    const w = 460, h = 300, m = { l: 38, r: 10, t: 10, b: 46 };
    const x = yr => m.l + (yr - y0) / Math.max(1, y1 - y0) * (w - m.l - m.r);
    const y = v => h - m.b - v / max * (h - m.t - m.b);
    let out = `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="state parties per year">`;
    for (let i = 0; i <= 4; i++) { const v = Math.round(max * i / 4); out += `<line class="axis" x1="${m.l}" x2="${w - m.r}" y1="${y(v)}" y2="${y(v)}" stroke-opacity=".25"/><text x="${m.l - 4}" y="${y(v) + 3}" text-anchor="end">${v}</text>`; }
    const step = Math.max(1, Math.ceil((y1 - y0) / 8));
    for (let yr = y0; yr <= y1; yr += step) out += `<text x="${x(yr)}" y="${h - m.b + 14}" text-anchor="middle">${yr}</text>`;
    const asOfYear = new Date(asOf).getFullYear();
    out += `<line x1="${x(asOfYear)}" x2="${x(asOfYear)}" y1="${m.t}" y2="${h - m.b}" stroke="#999" stroke-dasharray="3 3"/>`;
    series.forEach((s, i) => {
      const pts = s.years.map(p => `${x(p.year).toFixed(1)},${y(p.state_parties).toFixed(1)}`).join(" ");
      out += `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts}" class="series" data-instrument="${s.id}"></polyline>`;
    });
    el.innerHTML = out + "</svg>";
    // the legend names the instruments by title, as HTML so that long titles wrap
    const legend = document.createElement("ul");
    legend.className = "serieslegend";
    series.forEach((s, i) => {
      const li = document.createElement("li"); const sw = document.createElement("i");
      sw.style.background = COLORS[i % COLORS.length];
      li.append(sw, document.createTextNode(s.title)); legend.appendChild(li);
    });
    el.appendChild(legend);
  }

  select.addEventListener("change", () => drawMap(select.value));
  if (select.value) { drawMap(select.value); drawTimeline([...select.options].map(o => o.value)); }
})();
