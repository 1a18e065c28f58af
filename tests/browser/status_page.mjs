// Drives Debian's chromium (playwright-core, never a downloaded browser) against weftd's
// status page of a running mesh; run by status_page_test.cpp inside the first host's
// network namespace. Two phases, coordinated with the C++ test through files:
//   1. the page shows every peer (reachable) and the mesh's connections (established);
//      screenshot; write READY_FILE;
//   2. once KILLED_FILE exists (the test has kill -9'd the victim's weftd): within
//      FAIL_WITHIN_MS the page shows the victim failed or gone, with no established edge
//      to it; screenshot.
// Exits 0 on success, 1 with a reason on stderr (and an error screenshot) otherwise.
// Any console error or uncaught exception of the page is a failure too.
//
// Phase 1 also waits for the NetworkPolicy card: a running weft-npc panel (2 policies, 2
// selected pods, NPC_BLOCKS blocked lines shown as text) for each node of NPC_PEERS, and
// "weft-npc not running" for each of NPC_ABSENT — the other nodes' by gossip.
//
// Environment: URL, PEERS (comma-separated nicknames, the first is this host), EDGES (the
// number of peer-to-peer connections of the whole mesh), VICTIM (a nickname),
// VICTIM_ADDRESS (the target address this host dials), ARTIFACT_DIR, READY_FILE,
// KILLED_FILE, FAIL_WITHIN_MS (default 10000), NPC_PEERS, NPC_ABSENT (comma-separated
// nicknames; default none), NPC_BLOCKS (default 3).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`missing environment variable ${name}`);
  return v;
};
const url = env('URL');
const peers = env('PEERS').split(',');
const edges = Number(env('EDGES'));
const victim = env('VICTIM');
const victimAddress = env('VICTIM_ADDRESS');
const artifacts = env('ARTIFACT_DIR');
const readyFile = env('READY_FILE');
const killedFile = env('KILLED_FILE');
const failWithin = Number(env('FAIL_WITHIN_MS', '10000'));
const list = (text) => text.split(',').filter((x) => x);
const npcPeers = list(env('NPC_PEERS', ''));
const npcAbsent = list(env('NPC_ABSENT', ''));
const npcBlocks = env('NPC_BLOCKS', '3');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (...a) => console.log(`[${new Date().toISOString()}]`, ...a);

// Polls `check` (returns '' when satisfied, else why not) until it passes or `ms` elapse.
async function eventually(what, ms, check) {
  const deadline = Date.now() + ms;
  let why = 'never checked';
  while (Date.now() < deadline) {
    why = await check();
    if (!why) return;
    await sleep(100);
  }
  throw new Error(`${what} not seen within ${ms} ms: ${why}`);
}

// What the page shows, read from its DOM (the data-* attributes of the graph and tables).
function snapshot(page) {
  return page.evaluate(() => {
    const attrs = (sel) => [...document.querySelectorAll(sel)].map((e) => ({ ...e.dataset }));
    return {
      live: document.body.dataset.live,
      nodes: attrs('#mesh g.node'),
      edges: attrs('#mesh g.edge'),
      peerRows: attrs('#peers-table tbody tr[data-peer]'),
      connRows: attrs('#connections-table tbody tr[data-address]'),
      ipamRows: attrs('#ipam .ipam-row'),
      policyHidden: document.getElementById('policy-card').hidden,
      npcNodes: attrs('#policy .npc-node'),
      npcLines: [...document.querySelectorAll('#policy .npc-block .mono')].map((e) => e.textContent),
      npcInjected: document.querySelectorAll('#policy img').length,
      version: document.getElementById('version').textContent,
      uptime: document.getElementById('uptime').textContent,
      host: document.getElementById('host-nickname').textContent,
    };
  });
}

function meshGap(s) {
  if (s.live !== 'live') return `page not live (${s.live})`;
  if (s.host !== peers[0]) return `header shows host "${s.host}"`;
  if (!s.version || s.version === '\u2013' || !/\d+s/.test(s.uptime)) {
    return `version/uptime missing: "${s.version}" "${s.uptime}"`;
  }
  const shown = s.nodes.filter((n) => n.peer).map((n) => n.nickname).sort();
  if (shown.join(',') !== [...peers].sort().join(',')) return `graph peers ${JSON.stringify(shown)}`;
  const bad = s.nodes.filter((n) => n.state !== 'self' && n.state !== 'reachable');
  if (bad.length) return `nodes not reachable: ${JSON.stringify(bad)}`;
  const up = s.edges.filter((e) => e.state === 'established');
  if (up.length !== edges || up.length !== s.edges.length) return `edges ${JSON.stringify(s.edges)}`;
  const own = s.edges.filter((e) => e.datapath !== undefined);
  if (own.length !== peers.length - 1) return `own edges ${JSON.stringify(own)}`;
  if (own.some((e) => e.encrypted !== 'true')) return `unencrypted edge ${JSON.stringify(own)}`;
  if (s.peerRows.length !== peers.length) return `peer table rows ${s.peerRows.length}`;
  const target = s.connRows.find((r) => r.address === victimAddress);
  if (!target || target.state !== 'established') return `connection rows ${JSON.stringify(s.connRows)}`;
  if (!s.ipamRows.length) return 'no IPAM rows';
  return '';
}

function policyGap(s) {
  if (!npcPeers.length && !npcAbsent.length) return '';
  if (s.policyHidden) return 'NetworkPolicy card hidden';
  if (s.npcInjected) return 'markup from a block line became an element';
  for (const nick of npcPeers) {
    const n = s.npcNodes.find((x) => x.nickname === nick);
    if (!n || n.state !== 'running' || n.policies !== '2' || n.isolatedIngress !== '2' ||
        n.blockedIngress !== npcBlocks || n.blocks !== npcBlocks) {
      return `policy panel of ${nick}: ${JSON.stringify(n)}`;
    }
  }
  for (const nick of npcAbsent) {
    const n = s.npcNodes.find((x) => x.nickname === nick);
    if (!n || n.state !== 'not running') return `policy panel of ${nick}: ${JSON.stringify(n)}`;
  }
  if (!s.npcLines.some((l) => l.includes('<img src=x onerror=alert(1)>'))) {
    return `block lines ${JSON.stringify(s.npcLines)}`;
  }
  return '';
}

function failedGap(s, victimName) {
  const node = s.nodes.find((n) => n.peer === victimName || n.nickname === victim);
  if (node && !['failed', 'unreachable', 'pending'].includes(node.state)) {
    return `victim node ${JSON.stringify(node)}`;
  }
  const up = s.edges.filter((e) => e.state === 'established' &&
                                   (e.from === victimName || e.to === victimName));
  if (up.length) return `established edges to the victim: ${JSON.stringify(up)}`;
  const row = s.connRows.find((r) => r.address === victimAddress);
  if (row && row.state === 'established') return `connection row ${JSON.stringify(row)}`;
  const others = s.nodes.filter((n) => n.peer && n.peer !== victimName);
  if (others.some((n) => n.state !== 'self' && n.state !== 'reachable')) {
    return `other peers affected: ${JSON.stringify(others)}`;
  }
  return '';
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage'],
  });
  const problems = [];
  let page;
  try {
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const response = await page.goto(url, { waitUntil: 'load', timeout: 20000 });
    if (!response || response.status() !== 200) throw new Error(`GET ${url}: ${response && response.status()}`);
    log('page loaded', url);

    let s;
    await eventually('the whole mesh', 20000, async () => meshGap(s = await snapshot(page)));
    if (problems.length) throw new Error(problems.join('; '));
    await eventually('the NetworkPolicy panels', 20000, async () => policyGap(s = await snapshot(page)));
    log(`policy panels shown: ${JSON.stringify(s.npcNodes)}`);
    const victimNode = s.nodes.find((n) => n.nickname === victim);
    log(`mesh shown: ${s.nodes.length} peers, ${s.edges.length} connections, victim ${victimNode.peer}`);
    await sleep(300);  // let the layout settle for the picture
    const healthy = join(artifacts, 'status_page.png');
    await page.screenshot({ path: healthy, fullPage: true });
    log(`screenshot: ${healthy}`);

    writeFileSync(readyFile, 'ready\n');
    await eventually('the kill', 90000, async () => (existsSync(killedFile) ? '' : 'waiting'));
    const t0 = Date.now();
    await eventually(`${victim} failed`, failWithin,
                     async () => failedGap(await snapshot(page), victimNode.peer));
    log(`victim shown failed after ${Date.now() - t0} ms`);
    await sleep(300);
    const failed = join(artifacts, 'status_page_failed.png');
    await page.screenshot({ path: failed, fullPage: true });
    log(`screenshot: ${failed}`);
    if (problems.length) throw new Error(problems.join('; '));
  } catch (e) {
    if (page) {
      const shot = join(artifacts, 'status_page_error.png');
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      console.error(`screenshot of the failure: ${shot}`);
      console.error('page state:', JSON.stringify(await snapshot(page).catch(() => null)));
    }
    throw e;
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`FAIL: ${e.message}`);
  process.exit(1);
});
