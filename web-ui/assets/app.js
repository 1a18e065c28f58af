// weftd's status page: follows /events (server-sent events with the /report JSON) and
// renders the header, the mesh graph (graph.js), the peer, connection and IPAM tables, and
// the NetworkPolicy card (policy.js).
// Text from the report only ever goes into textContent (nicknames are untrusted).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  let last = null;        // the last report
  let receivedAt = 0;     // when it arrived (ms), to count the uptime on between events
  let updates = 0;

  function formatDuration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const d = Math.floor(seconds / 86400);
    const h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    if (d) return `${d}d ${h}h ${m}m`;
    if (h) return `${h}h ${m}m ${s}s`;
    if (m) return `${m}m ${s}s`;
    return `${s}s`;
  }

  function formatCount(text) {
    // IPAM counts are decimal strings (IPv6 rings exceed 2^53): group digits, keep exact.
    const s = String(text);
    if (s.length > 15) return s.slice(0, 3) + '\u2026e' + (s.length - 1);
    return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  function cell(row, text, cls) {
    const td = document.createElement('td');
    td.textContent = text === undefined || text === null ? '' : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function badge(row, text, kind) {
    const td = cell(row, '');
    const span = document.createElement('span');
    span.className = 'badge badge-' + kind;
    span.textContent = text;
    td.appendChild(span);
    return td;
  }

  function stateKind(state) {
    if (state === 'established' || state === 'reachable' || state === 'self') return 'ok';
    if (state === 'retrying' || state === 'failed' || state === 'unreachable') return 'bad';
    return 'warn';
  }

  function fillTable(id, rows, emptyText, columns) {
    const body = $(id).tBodies[0];
    const out = [];
    for (const r of rows) out.push(r);
    if (!out.length) {
      const tr = document.createElement('tr');
      const td = cell(tr, emptyText, 'empty');
      td.colSpan = columns;
      out.push(tr);
    }
    body.replaceChildren(...out);
  }

  // Share of each IPAM ring per peer name: {name: {ipv4: 0.5, ipv6: 0.33}}.
  function ipamShares(report) {
    const shares = {};
    for (const ring of (report.ipam && report.ipam.rings) || []) {
      for (const p of ring.peers || []) {
        (shares[p.name] = shares[p.name] || {})[ring.family] = p.share;
      }
    }
    return shares;
  }

  function renderPeers(report, model) {
    const shares = ipamShares(report);
    const rows = [];
    for (const n of model.nodes) {
      if (n.kind === 'target') continue;
      const tr = document.createElement('tr');
      tr.dataset.peer = n.name;
      tr.dataset.state = n.state;
      cell(tr, n.nickname || '\u2013', 'strong');
      cell(tr, n.name, 'mono');
      badge(tr, n.state === 'self' ? 'this peer' : n.state, stateKind(n.state));
      const edges = model.edges.filter((e) => e.from === n.id || e.to === n.id);
      const up = edges.filter((e) => e.state === 'established').length;
      cell(tr, `${up} established` + (edges.length > up ? ` / ${edges.length}` : ''));
      const s = shares[n.name] || {};
      const parts = Object.keys(s).sort().map((f) => `${f} ${(s[f] * 100).toFixed(1)}%`);
      cell(tr, parts.join(', ') || '\u2013');
      rows.push(tr);
    }
    fillTable('peers-table', rows, 'no peers', 5);
  }

  function renderConnections(report, model) {
    const nick = new Map(model.nodes.map((n) => [n.name, n.nickname]));
    const rows = [];
    for (const c of report.router.connections || []) {
      const tr = document.createElement('tr');
      tr.dataset.address = c.address;
      tr.dataset.state = c.state;
      const who = c.peer ? (c.peer.nickname || nick.get(c.peer.name) || c.peer.name) : '\u2013';
      cell(tr, who, 'strong').title = c.peer ? c.peer.name : '';
      cell(tr, c.address, 'mono');
      cell(tr, c.outbound ? 'outbound \u2192' : '\u2190 inbound');
      badge(tr, c.state, stateKind(c.state));
      cell(tr, c.datapath || 'none');
      badge(tr, c.encrypted ? 'encrypted' : 'plain', c.encrypted ? 'ok' : 'plain');
      cell(tr, window.WeftGraph.formatRtt(c.rtt_us) || '\u2013', 'num');
      let info = c.info || '';
      if (c.retry_in_ms !== undefined) info += ` (retry in ${(c.retry_in_ms / 1000).toFixed(0)} s)`;
      cell(tr, info, 'info');
      rows.push(tr);
    }
    fillTable('connections-table', rows, 'no connections', 8);
  }

  function renderIpam(report, model) {
    const box = $('ipam');
    const ipam = report.ipam;
    if (!ipam) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = 'IPAM is off on this peer (--no-ipam).';
      box.replaceChildren(p);
      return;
    }
    const nick = new Map(model.nodes.map((n) => [n.name, n.nickname]));
    const parts = [];
    for (const ring of ipam.rings || []) {
      const section = document.createElement('div');
      section.className = 'ring';
      section.dataset.family = ring.family;
      const h = document.createElement('h3');
      h.textContent = `${ring.family} ${ring.range}`;
      const sub = document.createElement('span');
      sub.className = 'hint';
      sub.textContent = ` ${ring.entries} ring entries \u00b7 ${formatCount(ring.free_here)} free here`;
      h.appendChild(sub);
      section.appendChild(h);
      const peers = [...(ring.peers || [])].sort((a, b) => b.share - a.share);
      for (const p of peers) section.appendChild(ipamRow(p, nick.get(p.name)));
      if (!peers.length) {
        const empty = document.createElement('p');
        empty.className = 'empty';
        empty.textContent = ipam.ready ? 'no owners' : 'waiting for the ring to be initialised';
        section.appendChild(empty);
      }
      parts.push(section);
    }
    if (!parts.length) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = 'no IPAM ring yet';
      parts.push(p);
    }
    box.replaceChildren(...parts);
  }

  function ipamRow(p, nickname) {
    const row = document.createElement('div');
    row.className = 'ipam-row' + (p.reachable === false ? ' unreachable' : '');
    row.dataset.peer = p.name;
    const name = document.createElement('span');
    name.className = 'ipam-name';
    name.textContent = nickname || p.name;
    name.title = p.name;
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.className = 'bar-fill';
    fill.style.width = Math.max(0, Math.min(100, p.share * 100)).toFixed(2) + '%';
    bar.appendChild(fill);
    const text = document.createElement('span');
    text.className = 'ipam-text';
    text.textContent = `${(p.share * 100).toFixed(1)}% \u00b7 ${formatCount(p.owned)} owned \u00b7 ` +
      `${formatCount(p.free)} free`;
    row.append(name, bar, text);
    return row;
  }

  function renderHeader(report, model) {
    const r = report.router;
    $('host-nickname').textContent = r.nickname || '';
    $('host-name').textContent = r.name || '';
    $('version').textContent = report.version || '\u2013';
    $('encryption').textContent = r.encryption || '\u2013';
    const dp = r.dataplane;
    $('dataplane').textContent = dp ? `${dp.mode} \u00b7 MTU ${dp.mtu}` : 'off';
    document.title = `weft \u00b7 ${r.nickname || r.name}`;
    const conns = r.connections || [];
    const peers = model.nodes.filter((n) => n.kind !== 'target');
    $('stat-peers').textContent = peers.length;
    $('stat-reachable').textContent = peers.filter((n) => n.state === 'reachable').length;
    $('stat-established').textContent = conns.filter((c) => c.state === 'established').length;
    const failing = conns.filter((c) => c.state !== 'established').length;
    $('stat-failing').textContent = failing;
    $('stat-failing').parentElement.classList.toggle('alert', failing > 0);
    tickUptime();
  }

  function tickUptime() {
    if (!last || last.uptime_seconds === undefined) return;
    const elapsed = (Date.now() - receivedAt) / 1000;
    $('uptime').textContent = formatDuration(last.uptime_seconds + elapsed);
  }

  function render(report) {
    if (!report || !report.router) return;
    last = report;
    receivedAt = Date.now();
    updates += 1;
    const model = window.WeftGraph.buildModel(report);
    window.WeftGraph.render($('mesh'), model);
    renderHeader(report, model);
    renderPeers(report, model);
    renderConnections(report, model);
    renderIpam(report, model);
    window.WeftPolicy.render($('policy-card'), $('policy'), report, model);
    $('updated').textContent = 'updated ' + new Date(receivedAt).toLocaleTimeString();
    document.body.dataset.updates = String(updates);
  }

  function setLive(state, text) {
    document.body.dataset.live = state;
    $('live-text').textContent = text;
  }

  function connect() {
    const events = new EventSource('/events');
    events.addEventListener('open', () => setLive('live', 'live'));
    events.addEventListener('report', (e) => {
      setLive('live', 'live');
      try {
        render(JSON.parse(e.data));
      } catch (err) {
        console.error('bad report event', err);
      }
    });
    // EventSource reconnects by itself (weftd sends a 2 s retry hint).
    events.addEventListener('error', () => setLive('down', 'reconnecting\u2026'));
  }

  setInterval(tickUptime, 1000);
  connect();
})();
