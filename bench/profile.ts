/**
 * Profile one benchmark scenario (CPU self time, or allocation sites including short-lived
 * garbage), for the notes in BENCHMARKS.md on what limits a figure.
 *
 *   npx tsx bench/profile.ts <scenario> [--cpu | --alloc] [--mb N]
 *
 * Scenarios: parser-framing, parser-reassembly (ours), l2cap-65535, l2cap-672, rfcomm-667 (frames that
 * fit an L2CAP MTU of 672, as benchmark 2's small frames), rfcomm-max (the largest frames), le-cbm-2048
 * and le-cbm-65535 (LE credit-based channel, central -> peripheral), gatt-notify-23 and
 * gatt-notify-1017 (notifications at that ATT_MTU).
 */
import { cutChunks, generateH4Stream } from './lib/h4-stream.js';
import { createFeedHost } from './lib/feed-host.js';
import { allocationProfile, cpuProfile } from './lib/inspector-profile.js';
import { MB } from './lib/measure.js';
import { flag_mb, MB_FLAG } from './lib/harness.js';
import { flag_given, parse_flags, type FlagSpec } from '../ports/options.js';
import { H4Deframer } from '../src/hci/h4.js';

type Scenario = { setup: () => { warm: () => void; work: () => void } };

function parserScenario(level: 'framing' | 'reassembly', mb: number): Scenario {
  return {
    setup() {
      const s = generateH4Stream(Math.round(mb * MB), 1);
      const chunks = cutChunks(s.data, 2, 4096);
      let feed: (c: Uint8Array) => void;
      if (level === 'framing') {
        const d = new H4Deframer({ accept: [2, 3, 4, 5], on_packet: () => {} });
        d.feed(s.prologue);
        feed = (c) => d.feed(c);
      } else {
        const host = createFeedHost();
        host.stack.hci.hci_register_acl_packet_handler(() => {});
        host.feed(s.prologue);
        host.settle();
        feed = (c) => {
          host.feed(c);
        };
      }
      const pass = () => {
        for (const c of chunks) feed(c);
      };
      return {
        warm: pass,
        work: () => {
          for (let i = 0; i < 4; i++) pass();
        },
      };
    },
  };
}

async function l2capScenario(mtu: number, mb: number): Promise<Scenario> {
  const { bulkSetup } = await import('./l2cap-bulk.js');
  return {
    setup() {
      const p = bulkSetup(mtu);
      return { warm: () => p.send(8 * MB), work: () => p.send(Math.round(mb * MB)) };
    },
  };
}

async function rfcommScenario(mfs: number, mb: number): Promise<Scenario> {
  const { rfcommSetup } = await import('./rfcomm-bulk.js');
  return {
    setup() {
      const p = rfcommSetup(mfs);
      return { warm: () => p.send(8 * MB), work: () => p.send(Math.round(mb * MB)) };
    },
  };
}

async function leCbmScenario(mtu: number, mb: number): Promise<Scenario> {
  const { cbmSetup } = await import('./le-cbm.js');
  return {
    setup() {
      const p = cbmSetup(mtu);
      return { warm: () => p.send('c2p', 2 * MB), work: () => p.send('c2p', Math.round(mb * MB)) };
    },
  };
}

async function gattNotifyScenario(exchange: boolean, mb: number): Promise<Scenario> {
  const { notifySetup } = await import('./gatt-notify.js');
  return {
    setup() {
      const p = notifySetup(exchange);
      return { warm: () => p.run(0.5 * MB), work: () => p.run(Math.round(mb * MB)) };
    },
  };
}

/** bench/profile.ts's flags (ports/options.ts): a scenario name, --cpu or --alloc only, --mb N. */
const PROFILE_FLAGS: FlagSpec = {
  cpu: { type: 'boolean' },
  alloc: { type: 'boolean' },
  ...MB_FLAG,
  help: { type: 'boolean', short: 'h' },
};

async function main(): Promise<void> {
  const p = parse_flags(process.argv.slice(2), PROFILE_FLAGS);
  const name = p.positionals[0];
  const mb = flag_mb(p);
  if (p.positionals.length > 1) p.errors.push(`one scenario, got '${p.positionals.join(' ')}'`);
  const scenarios: Record<string, () => Promise<Scenario> | Scenario> = {
    'parser-framing': () => parserScenario('framing', mb ?? 8),
    'parser-reassembly': () => parserScenario('reassembly', mb ?? 8),
    'l2cap-65535': () => l2capScenario(65535, mb ?? 128),
    'l2cap-672': () => l2capScenario(672, mb ?? 64),
    'rfcomm-667': () => rfcommScenario(667, mb ?? 64),
    'rfcomm-max': () => rfcommScenario(0xffff, mb ?? 128),
    'le-cbm-2048': () => leCbmScenario(2048, mb ?? 8),
    'le-cbm-65535': () => leCbmScenario(65535, mb ?? 8),
    'gatt-notify-23': () => gattNotifyScenario(false, mb ?? 1),
    'gatt-notify-1017': () => gattNotifyScenario(true, mb ?? 4),
  };
  const make = name ? scenarios[name] : undefined;
  const usage = `usage: npx tsx bench/profile.ts <${Object.keys(scenarios).join('|')}> [--cpu|--alloc] [--mb N]`;
  if (flag_given(p, 'help')) {
    console.log(usage);
    return;
  }
  if (!make && p.errors.length === 0) p.errors.push(name ? `unknown scenario '${name}'` : 'which scenario?');
  if (p.errors.length > 0 || !make) {
    console.error(`profile: ${p.errors[0]} (${usage})`);
    process.exitCode = 2;
    return;
  }
  const sc = await make();
  const { warm, work } = sc.setup();
  warm();
  if (!flag_given(p, 'alloc')) console.log(await cpuProfile(work));
  if (!flag_given(p, 'cpu')) console.log(await allocationProfile(work));
}

await main();
