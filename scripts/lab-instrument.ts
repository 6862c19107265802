import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { INSTRUMENTS } from '../src/config/lab-config';
import { instrumentId, instrumentName } from '../src/lab/faults';
import { LabStore } from '../src/lab/lab-store';

/**
 * Switch a virtual-lab instrument off and on, as a technician would for maintenance:
 *
 *   npx tsx scripts/lab-instrument.ts offline "plate reader" [--for 60] [--reason "lamp change"]
 *   npx tsx scripts/lab-instrument.ts online plate-reader
 *   npx tsx scripts/lab-instrument.ts status
 *
 * The flag lives in the lab's SQLite file (--db, else CELLOS_LAB_DB, else var/lab/lab.db), so every
 * lab worker sharing the file sees it at once. Experiments that need an offline instrument wait
 * for it on durable timers and `cellos status` names it; they carry on when it is back.
 */
const USAGE = `usage: lab-instrument <offline|online> <instrument> [--for SECONDS] [--reason TEXT] [--db PATH]
       lab-instrument status [--db PATH]
instruments: ${INSTRUMENTS.join(', ')}`;

function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { for: { type: 'string' }, reason: { type: 'string' }, db: { type: 'string' } },
  });
  const [command, name, ...extra] = positionals;
  const dbPath = resolve(values.db ?? process.env.CELLOS_LAB_DB ?? 'var/lab/lab.db');
  if (command === 'status' && name === undefined) {
    const store = LabStore.open(dbPath);
    try {
      const outages = store.outages();
      if (outages.length === 0) console.log('all instruments online');
      for (const o of outages)
        console.log(
          `${instrumentName(o.instrument)}: offline since ${o.since} (${o.reason})${o.untilMs ? ` until ${new Date(o.untilMs).toISOString()}` : ''}`,
        );
      return 0;
    } finally {
      store.close();
    }
  }
  if ((command !== 'offline' && command !== 'online') || name === undefined || extra.length > 0) {
    console.error(USAGE);
    return 2;
  }
  const instrument = instrumentId(name);
  if (!(INSTRUMENTS as readonly string[]).includes(instrument)) {
    console.error(`unknown instrument "${name}"; allowed: ${INSTRUMENTS.join(', ')}`);
    return 2;
  }
  const seconds = values.for === undefined ? undefined : Number(values.for);
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) {
    console.error(`--for: "${values.for}" is not a positive number of seconds`);
    return 2;
  }
  const store = LabStore.open(dbPath);
  try {
    if (command === 'online') {
      console.log(
        store.setOnline(instrument)
          ? `${instrumentName(instrument)} is back online`
          : `${instrumentName(instrument)} was online already`,
      );
    } else {
      store.setOffline(instrument, {
        reason: values.reason ?? 'switched off by a person',
        untilMs: seconds === undefined ? undefined : Date.now() + seconds * 1000,
      });
      console.log(
        `${instrumentName(instrument)} is offline${seconds === undefined ? ' until switched on' : ` for ${seconds} s`}`,
      );
    }
    return 0;
  } finally {
    store.close();
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 2;
}
