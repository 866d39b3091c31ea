// The stack's live dashboard: the server pushes a snapshot of its metrics over the
// bridge (geetrio.call("dashboard_watch", draw)) twice a second; uPlot draws the last
// two minutes of them, and an SVG shows the hash ring.
(function () {
  "use strict";
  const KEEP = 240; // points per series: two minutes at two a second
  const COLORS = ["#2563eb", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0891b2"];
  const charts = {}; // id -> {plot, names, data}

  function chart(id, names, unit) {
    const element = document.getElementById(id);
    const series = [{}].concat(names.map((name, i) => ({
      label: name, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true,
      value: (u, v) => (v == null ? "–" : v.toFixed(unit === "%" ? 0 : 2) + unit),
    })));
    const options = {
      width: element.clientWidth || 420, height: 200, series,
      scales: { x: { time: true } }, axes: [{}, { size: 50 }], legend: { live: false },
    };
    const data = [[]].concat(names.map(() => []));
    const plot = new uPlot(options, data, element);
    charts[id] = { plot, names, data, unit };
  }

  function push(id, names, t, values, unit) {
    let entry = charts[id];
    if (!entry || entry.names.join("\n") !== names.join("\n")) { // new series: start over
      if (entry) entry.plot.destroy();
      chart(id, names, unit);
      entry = charts[id];
    }
    entry.data[0].push(t);
    values.forEach((v, i) => entry.data[i + 1].push(v));
    if (entry.data[0].length > KEEP) entry.data.forEach((column) => column.shift());
    entry.plot.setData(entry.data);
  }

  function short(url) { return url.replace(/^https?:\/\//, ""); }

  function ring(snapshot) {
    const svg = document.getElementById("ring");
    const { nodes, points, key } = snapshot.ring;
    const full = 4294967296; // 2^32: crc32's range, as Go's GeeCache
    const angle = (p) => (p / full) * 2 * Math.PI - Math.PI / 2;
    const at = (p, r) => [r * Math.cos(angle(p)), r * Math.sin(angle(p))];
    const parts = [];
    points.forEach(([point, owner], i) => { // the arc ending at a point belongs to its owner
      const start = i === 0 ? points[points.length - 1][0] - full : points[i - 1][0];
      const [x1, y1] = at(start, 100), [x2, y2] = at(point, 100);
      const large = point - start > full / 2 ? 1 : 0;
      parts.push(`<path d="M ${x1} ${y1} A 100 100 0 ${large} 1 ${x2} ${y2}" ` +
        `stroke="${COLORS[owner % COLORS.length]}" stroke-width="14" fill="none" ` +
        `data-node="${owner}"/>`);
    });
    if (key) {
      const [x, y] = at(key.position, 100), [tx, ty] = at(key.position, 72);
      parts.push(`<circle cx="${x}" cy="${y}" r="6" fill="#111" id="key-mark"/>`);
      const label = document.createElementNS("http://www.w3.org/2000/svg", "text");
      label.textContent = key.name;
      parts.push(`<text x="${tx}" y="${ty}" font-size="10" text-anchor="middle">` +
        `${label.innerHTML}</text>`);
    }
    svg.innerHTML = parts.join("");
    const legend = document.getElementById("ring-legend");
    legend.innerHTML = "";
    nodes.forEach((node, i) => {
      const item = document.createElement("li");
      item.style.setProperty("--c", COLORS[i % COLORS.length]);
      item.textContent = short(node) + (key && key.owner === node ? " — owns " + key.name : "");
      legend.appendChild(item);
    });
  }

  function draw(snapshot) {
    const t = snapshot.t;
    document.getElementById("live").textContent = "live";
    document.getElementById("live").className = "live on";
    const web = snapshot.web;
    push("web-rps", ["requests/s"], t, [web.rps], "/s");
    push("web-latency", ["p50", "p95", "p99"], t, [web.p50, web.p95, web.p99], " ms");
    const nodes = Object.keys(snapshot.cache).sort();
    const ratios = nodes.map((n) => {
      const r = snapshot.cache[n].hit_ratio;
      return r == null ? null : r * 100;
    });
    push("cache-hits", nodes.map(short), t, ratios, "%");
    push("cache-loads", nodes.map(short), t, nodes.map((n) => snapshot.cache[n].loads), "/s");
    const methods = Object.keys(snapshot.rpc).sort();
    push("rpc-cps", methods, t, methods.map((m) => snapshot.rpc[m].cps), "/s");
    push("rpc-latency", methods, t, methods.map((m) => snapshot.rpc[m].p95), " ms");
    push("sql-sps", ["statements/s"], t, [snapshot.sql.sps], "/s");
    ring(snapshot);
    document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots || 0) + 1);
  }

  document.getElementById("lookup").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = document.getElementById("key").value;
    const found = await geetrio.call("dashboard_locate", key);
    document.getElementById("answer").textContent = found ? "→ " + short(found.owner) : "";
  });

  window.dashboard = { // for tests and the curious: what each chart holds
    charts,
    total: (id) => (charts[id] ? charts[id].data.slice(1).flat().reduce((a, v) => a + (v || 0), 0) : 0),
  };

  geetrio.call("dashboard_watch", draw).catch((error) => {
    document.getElementById("live").textContent = "disconnected: " + error.message;
    document.getElementById("live").className = "live";
  });
})();
