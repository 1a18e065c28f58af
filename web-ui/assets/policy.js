// The NetworkPolicy card of the status page: one panel per node with what its weft-npc
// reports (router.peers[].policy, gossiped by every weftd; this node's also at
// report.policy): policies, local pods selected per direction, blocked connections and the
// most recent blocked ones. A node whose weft-npc does not answer says so (keeping its last
// data, marked with its age); the card is hidden until some node's weft-npc has answered.
// Text from the report only ever goes into textContent (log lines are untrusted).
'use strict';

window.WeftPolicy = (function () {
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function formatAge(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return `${seconds}s ago`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
    return `${Math.floor(seconds / 3600)}h ago`;
  }

  // [badge text, badge kind] for a node's policy state.
  function stateBadge(policy) {
    if (!policy) return ['no report', 'plain'];
    if (policy.state === 'running') return policy.synced ? ['enforcing', 'ok'] : ['syncing', 'warn'];
    if (policy.state === 'not running') return ['weft-npc not running', 'bad'];
    return ['bad answer', 'bad'];
  }

  function fact(value, label) {
    const d = el('div', 'npc-fact');
    d.append(el('span', 'npc-value', value), el('span', 'npc-label', label));
    return d;
  }

  function facts(policy) {
    const iso = policy.isolated_pods || {};
    const total = policy.blocked_total || {};
    const box = el('div', 'npc-facts');
    box.append(
      fact(policy.policies, 'policies'),
      fact(`${iso.ingress} / ${iso.egress}`, `selected pods in / out of ${policy.local_pods}`),
      fact(`${total.ingress} / ${total.egress}`, 'blocked in / out'));
    return box;
  }

  function blocks(policy) {
    const list = el('ul', 'npc-blocks');
    for (const b of policy.recent_blocks || []) {
      const li = el('li', 'npc-block');
      li.append(el('span', 'npc-age', formatAge(b.age_seconds)), el('span', 'mono', b.line));
      list.appendChild(li);
    }
    if (!list.children.length) list.appendChild(el('li', 'empty', 'no blocked connections lately'));
    return list;
  }

  function panel(node, policy) {
    const box = el('div', 'npc-node');
    box.dataset.peer = node.name;
    box.dataset.nickname = node.nickname || '';
    box.dataset.state = policy ? policy.state : 'none';
    const head = el('div', 'npc-head');
    const name = el('span', 'npc-name', node.nickname || node.name);
    name.title = node.name;
    const [text, kind] = stateBadge(policy);
    head.append(name, el('span', 'badge badge-' + kind, text));
    if (node.state === 'self') head.appendChild(el('span', 'hint', 'this peer'));
    box.appendChild(head);
    if (!policy) {
      box.appendChild(el('p', 'empty', 'this node does not report weft-npc'));
      return box;
    }
    if (policy.state !== 'running') {
      const why = policy.data_age_seconds !== undefined
        ? `${policy.error} \u00b7 last data ${formatAge(policy.data_age_seconds)}` : policy.error;
      box.appendChild(el('p', 'npc-error', why));
    }
    if (policy.policies === undefined) return box;  // never answered: nothing to show
    box.dataset.policies = policy.policies;
    box.dataset.isolatedIngress = (policy.isolated_pods || {}).ingress;
    box.dataset.blockedIngress = (policy.blocked_total || {}).ingress;
    box.dataset.blocks = (policy.recent_blocks || []).length;
    if (policy.state !== 'running') box.classList.add('stale');
    if (policy.last_error) box.appendChild(el('p', 'npc-error', `weft-npc: ${policy.last_error}`));
    box.append(facts(policy), blocks(policy));
    return box;
  }

  // Fills `card` (hidden when nothing reports) and its `box` from the report and the graph
  // model (graph.js: the peers, in their order, with their state).
  function render(card, box, report, model) {
    const policies = new Map();
    for (const p of report.router.peers || []) {
      if (p.policy) policies.set(p.name, p.policy);
    }
    // This node's own entry may not be gossiped yet: the local one stands in.
    if (report.policy && !policies.has(report.router.name)) policies.set(report.router.name, report.policy);
    // Hosts without Kubernetes have no weft-npc: the card shows once one node's answered.
    card.hidden = ![...policies.values()].some((p) => p.policies !== undefined);
    const panels = model.nodes.filter((n) => n.kind === 'peer')
      .map((n) => panel(n, policies.get(n.name)));
    box.replaceChildren(...panels);
  }

  return { render, formatAge };
})();
