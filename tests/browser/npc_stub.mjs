// A stand-in for weft-npc's status endpoint in the browser test: serves GET /status on
// 127.0.0.1:6781 (weftd's default --npc-status-url) with a body of weft-npc's shape
// (policy/npc_report.cpp render_status) for node NODE: two policies, three local pods, and
// BLOCKS recent blocked connections whose ages grow. One line carries markup, which the page
// must show as text. Prints "ready" once listening; runs until killed.
import { createServer } from 'node:http';

const node = process.env.NODE ?? 'node';
const blocks = Number(process.env.BLOCKS ?? '3');
const started = Date.now();

function status() {
  const age = (Date.now() - started) / 1000;
  const recent = [];
  for (let i = 0; i < blocks; ++i) {
    const why = i === 0 ? 'policy namespace <img src=x onerror=alert(1)>' : 'policy namespace x';
    recent.push({ age_seconds: age + i,
                  line: `blocked ingress TCP 198.19.0.9:${40000 + i} -> 198.19.0.2:80 (${why})` });
  }
  const zero = { tcp: 0, udp: 0, sctp: 0, other: 0 };
  return {
    node, synced: true, policies: 2, local_pods: 3, isolated_pods: { ingress: 2, egress: 1 },
    rule_groups: 1, syncs: 1, write_failures: 0, heals: 0, last_sync_seconds: 0.01,
    pod_rules_seconds: { last: 0.1, count: 1, mean: 0.1 },
    blocked: { ingress: { ...zero, tcp: blocks }, egress: zero },
    recent_blocks: recent, rejected: {}, resources: [],
  };
}

createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/status') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(status()));
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
}).listen(6781, '127.0.0.1', () => console.log('ready'));
