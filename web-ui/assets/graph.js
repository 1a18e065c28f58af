// The mesh graph of weftd's status page: a model built from one /report, drawn as SVG.
//
// Nodes are the peers of the gossiped topology, plus this peer's dial targets that have no
// peer (yet or any more). Edges are the topology's connections between peers, overridden by
// this peer's own connections, which carry a state, a datapath, encryption and an RTT.
// Layout: deterministic, on a circle, this peer at the top and the others by name.
// The DOM carries data-* attributes (data-peer, data-nickname, data-state on nodes;
// data-from, data-to, data-state, data-datapath, data-encrypted on edges) for tests.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  // Remembered across reports: which peer an address belonged to, so that a dead target
  // still shows its nickname when its peer has left the topology.
  const knownAddresses = new Map();
  const knownNicknames = new Map();  // peer name -> nickname, for peers that left

  function nicknameOf(name, nickname) {
    if (nickname) knownNicknames.set(name, nickname);
    return nickname || knownNicknames.get(name) || '';
  }

  function edgeKey(a, b) { return a < b ? a + '|' + b : b + '|' + a; }

  function nodeStateFromConnection(c) {
    if (c.state === 'established') return 'reachable';
    if (c.state === 'retrying' || c.state === 'failed') return 'failed';
    // A target being redialled after errors is a failed peer, not a new one.
    return c.info && c.attempts > 1 ? 'failed' : 'pending';
  }

  function addPeerNodes(router, nodes) {
    for (const p of router.peers || []) {
      nodes.set(p.name, { id: p.name, name: p.name, nickname: nicknameOf(p.name, p.nickname), kind: 'peer' });
    }
    if (!nodes.has(router.name)) {
      nodes.set(router.name, { id: router.name, name: router.name, nickname: router.nickname, kind: 'peer' });
    }
  }

  function addTopologyEdges(router, nodes, edges) {
    for (const p of router.peers || []) {
      for (const c of p.connections || []) {
        if (!nodes.has(c.name) || c.name === p.name) continue;
        const key = edgeKey(p.name, c.name);
        const old = edges.get(key);
        const established = c.established || (old && old.state === 'established');
        edges.set(key, { from: p.name, to: c.name, state: established ? 'established' : 'pending',
                         own: false });
      }
    }
  }

  // This peer's connections: they replace the topology's view of the same pair.
  function addOwnConnections(router, nodes, edges) {
    for (const c of router.connections || []) {
      let id;
      if (c.peer && c.peer.name) {
        id = c.peer.name;
        if (c.state === 'established' && c.outbound) {
          knownAddresses.set(c.address, { name: c.peer.name, nickname: c.peer.nickname });
        }
        if (!nodes.has(id)) {
          nodes.set(id, { id, name: id, nickname: nicknameOf(id, c.peer.nickname), kind: 'gone' });
        }
      } else {
        const known = knownAddresses.get(c.address);
        id = known && nodes.has(known.name) ? known.name : 'addr:' + c.address;
        if (!nodes.has(id)) {
          nodes.set(id, { id, name: '', nickname: known ? known.nickname : '', kind: 'target',
                          address: c.address });
        }
      }
      if (id === router.name) continue;
      const node = nodes.get(id);
      node.connection = c;
      if (!node.address) node.address = c.address;
      edges.set(edgeKey(router.name, id), {
        from: router.name, to: id, state: c.state, own: true, datapath: c.datapath,
        encrypted: !!c.encrypted, rtt_us: c.rtt_us, info: c.info || '',
      });
    }
  }

  // Reachable: joined to this peer by established edges.
  function markNodeStates(router, nodes, edges) {
    const adjacent = new Map();
    for (const e of edges.values()) {
      if (e.state !== 'established') continue;
      for (const [a, b] of [[e.from, e.to], [e.to, e.from]]) {
        if (!adjacent.has(a)) adjacent.set(a, []);
        adjacent.get(a).push(b);
      }
    }
    const seen = new Set([router.name]);
    const queue = [router.name];
    while (queue.length) {
      for (const next of adjacent.get(queue.shift()) || []) {
        if (!seen.has(next)) { seen.add(next); queue.push(next); }
      }
    }
    for (const n of nodes.values()) {
      if (n.id === router.name) n.state = 'self';
      else if (seen.has(n.id)) n.state = 'reachable';
      else if (n.connection) n.state = nodeStateFromConnection(n.connection);
      else n.state = 'unreachable';
    }
  }

  function buildModel(report) {
    const router = (report && report.router) || {};
    const nodes = new Map();
    const edges = new Map();
    if (!router.name) return { self: '', nodes: [], edges: [] };
    addPeerNodes(router, nodes);
    addTopologyEdges(router, nodes, edges);
    addOwnConnections(router, nodes, edges);
    markNodeStates(router, nodes, edges);
    const others = [...nodes.values()].filter((n) => n.id !== router.name)
      .sort((a, b) => (a.nickname || a.id).localeCompare(b.nickname || b.id) || a.id.localeCompare(b.id));
    return { self: router.name, nodes: [nodes.get(router.name), ...others], edges: [...edges.values()] };
  }

  function el(name, attrs, text) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    }
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function layout(model, width, height) {
    const cx = width / 2;
    const n = model.nodes.length;
    const radius = n <= 1 ? 0 : Math.min(width * 0.36, height * 0.34);
    const points = model.nodes.map((node, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1);
      return [node.id, radius * Math.cos(angle), radius * Math.sin(angle)];
    });
    // Centre the drawing vertically (a triangle's circle is mostly empty at the bottom).
    const ys = points.map((p) => p[2]);
    const cy = height / 2 - (Math.min(...ys, 0) + Math.max(...ys, 0)) / 2;
    const pos = new Map(points.map(([id, x, y]) => [id, { x: cx + x, y: cy + y }]));
    return { pos, cx, cy };
  }

  function formatRtt(us) {
    if (us === undefined || us === null) return '';
    return us < 1000 ? us + ' \u00b5s' : (us / 1000).toFixed(us < 10000 ? 2 : 1) + ' ms';
  }

  function edgeClass(state) {
    if (state === 'established') return 'established';
    if (state === 'retrying' || state === 'failed') return 'failed';
    return 'pending';
  }

  function edgeLabel(e) {
    if (!e.own) return '';
    if (e.state !== 'established') return e.state;
    const parts = [e.datapath && e.datapath !== 'none' ? e.datapath : 'control only',
                   e.encrypted ? 'encrypted' : 'plain'];
    const rtt = formatRtt(e.rtt_us);
    if (rtt) parts.push(rtt);
    return parts.join(' \u00b7 ');
  }

  function drawEdge(group, e, pos) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    const g = el('g', {
      class: 'edge edge-' + edgeClass(e.state) + (e.own ? ' own' : ' topology'),
      'data-from': e.from, 'data-to': e.to, 'data-state': e.state,
      'data-datapath': e.own ? e.datapath : undefined,
      'data-encrypted': e.own ? String(e.encrypted) : undefined,
      'data-rtt-us': e.rtt_us,
    });
    g.appendChild(el('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y }));
    g.appendChild(el('title', {}, e.own ? e.state + (e.info ? ': ' + e.info : '') : 'topology: ' + e.state));
    const label = edgeLabel(e);
    if (label) {
      // Toward the far end: the edges of this peer meet at its node, their labels must not.
      const t = e.own ? 0.58 : 0.5;
      const mx = a.x + (b.x - a.x) * t;
      const my = a.y + (b.y - a.y) * t;
      const w = label.length * 6.4 + 14;
      g.appendChild(el('rect', { class: 'edge-label-bg', x: mx - w / 2, y: my - 10, width: w, height: 20, rx: 10 }));
      g.appendChild(el('text', { class: 'edge-label', x: mx, y: my + 4, 'text-anchor': 'middle' }, label));
    }
    group.appendChild(g);
  }

  function drawNode(group, n, layout) {
    const p = layout.pos.get(n.id);
    const above = p.y < layout.cy - 40;  // labels point away from the middle
    const g = el('g', {
      class: 'node node-' + n.state + ' kind-' + n.kind, transform: `translate(${p.x},${p.y})`,
      'data-peer': n.kind === 'target' ? undefined : n.name,
      'data-target': n.kind === 'target' ? n.address : undefined,
      'data-nickname': n.nickname, 'data-state': n.state,
    });
    g.appendChild(el('circle', { r: n.state === 'self' ? 26 : 22 }));
    const short = n.nickname ? [...n.nickname].slice(0, 3).join('') : '?';
    g.appendChild(el('text', { class: 'node-initial', y: 5, 'text-anchor': 'middle' }, short));
    const title = n.nickname || n.address || n.name;
    const state = n.state === 'self' ? 'this peer' : n.state;
    const sub = n.kind === 'target' && !n.nickname ? state : `${n.name || n.address} \u00b7 ${state}`;
    g.appendChild(el('text', { class: 'node-label', y: above ? -53 : 44, 'text-anchor': 'middle' }, title));
    g.appendChild(el('text', { class: 'node-sub', y: above ? -38 : 59, 'text-anchor': 'middle' }, sub));
    g.appendChild(el('title', {}, `${title} ${n.name || ''} (${n.state})`));
    group.appendChild(g);
  }

  function render(svg, model) {
    const box = svg.viewBox.baseVal;
    const placed = layout(model, box.width, box.height);
    const pos = placed.pos;
    const edges = el('g', { class: 'edges' });
    const nodes = el('g', { class: 'nodes' });
    // Topology edges first, so that this peer's own (labelled) edges are drawn on top.
    const ordered = [...model.edges].sort((a, b) => Number(a.own) - Number(b.own));
    for (const e of ordered) {
      if (pos.has(e.from) && pos.has(e.to)) drawEdge(edges, e, pos);
    }
    for (const n of model.nodes) drawNode(nodes, n, placed);
    const parts = [edges, nodes];
    if (!model.nodes.length) {
      parts.push(el('text', { class: 'empty', x: box.width / 2, y: box.height / 2, 'text-anchor': 'middle' },
                    'waiting for the first report\u2026'));
    }
    svg.replaceChildren(...parts);
  }

  window.WeftGraph = { buildModel, render, formatRtt };
})();
