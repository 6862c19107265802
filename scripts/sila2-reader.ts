import { execFile } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { servePlateSource } from '../src/instruments/sila2/plate-source';
import { ensureSila2Venv, SILA2_READER_DIR } from '../src/instruments/sila2/python-env';
import { PLATE_READER_PROTO, SILA_FRAMEWORK_PROTO } from '../src/instruments/sila2/protos';
import { startSila2ReaderServer } from '../src/instruments/sila2/reader-server';
import { createSila2PlateReader } from '../src/instruments/sila2/sila2-plate-reader';

/**
 * `npm run sila2 -- <command>`, the virtual SiLA 2 plate reader by hand:
 *   venv                              build .tools/sila2-venv (idempotent)
 *   serve --plate-source URL [--port N] [--journal FILE] [--read-seconds S]
 *                                     run the reader in the foreground until Ctrl-C
 *   codegen                           regenerate the package's `generated/` from PlateReader.sila.xml
 *                                     and refresh the committed protos under src/instruments/sila2/proto
 *   latency [--calls N]               time a server start and N plate reads against a stub plate source
 */
const run = promisify(execFile);
const [command, ...rest] = process.argv.slice(2);
const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  switch (command) {
    case 'venv': {
      const venv = await ensureSila2Venv({ log });
      log(`${venv.dir} ${venv.created ? 'created' : 'ready'} (${venv.elapsedMs} ms)`);
      return;
    }
    case 'serve': {
      const { values } = parseArgs({
        args: rest,
        options: {
          'plate-source': { type: 'string' },
          port: { type: 'string' },
          journal: { type: 'string' },
          'read-seconds': { type: 'string' },
        },
      });
      if (!values['plate-source'])
        throw new Error('serve needs --plate-source URL (the lab’s POST /emission endpoint)');
      const server = await startSila2ReaderServer({
        plateSource: values['plate-source'],
        port: values.port === undefined ? undefined : Number(values.port),
        journal: values.journal,
        readSeconds: values['read-seconds'] === undefined ? undefined : Number(values['read-seconds']),
        venv: { log },
      });
      log(`SiLA 2 plate reader serving on ${server.address} (pid ${server.pid}, started in ${server.startMs} ms)`);
      const stop = () => void server.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    case 'codegen': {
      const venv = await ensureSila2Venv({ log });
      const codegen = join(venv.dir, 'bin', 'sila2-codegen');
      await run(codegen, ['update', '-d', '.', 'PlateReader.sila.xml'], { cwd: SILA2_READER_DIR });
      // `update` leaves a fresh implementation template beside ours; ours is kept, the template dropped.
      rmSync(join(SILA2_READER_DIR, 'cellos_plate_reader/feature_implementations/updated_platereader_impl.py'), {
        force: true,
      });
      const generated = join(SILA2_READER_DIR, 'cellos_plate_reader', 'generated', 'platereader');
      copyFileSync(join(generated, 'PlateReader.proto'), PLATE_READER_PROTO);
      const framework = await run(join(venv.dir, 'bin', 'python'), [
        '-c',
        'import sila2.resources.proto as p, os; print(os.path.join(os.path.dirname(p.__file__), "SiLAFramework.proto"))',
      ]);
      copyFileSync(framework.stdout.trim(), SILA_FRAMEWORK_PROTO);
      log('regenerated; review `git diff` (the implementation in feature_implementations/ is yours to update)');
      return;
    }
    case 'latency': {
      const { values } = parseArgs({ args: rest, options: { calls: { type: 'string', default: '50' } } });
      const calls = Number(values.calls);
      const source = await servePlateSource((r) => ({ wells: r.wells.map((well) => ({ well, signal: 1 })) }));
      const server = await startSila2ReaderServer({ plateSource: source.url, venv: { log } });
      log(`venv ${server.venv.created ? 'built' : 'ready'} in ${server.venv.elapsedMs} ms`);
      log(`server serving in ${server.startMs} ms`);
      const reader = createSila2PlateReader({ address: server.address });
      const wells = Array.from({ length: 96 }, (_, i) => `${'ABCDEFGH'[Math.floor(i / 12)]}${(i % 12) + 1}`);
      const read = (key: string) =>
        reader.readPlate({
          operationKey: key,
          plateId: 'P',
          attempt: 1,
          assay: 'viability',
          wells,
          treatmentHours: 48,
        });
      const time = async (f: () => Promise<unknown>) => {
        const t = performance.now();
        await f();
        return performance.now() - t;
      };
      log(`first call (ReaderIdentity, new channel) ${(await time(() => reader.identity())).toFixed(1)} ms`);
      const ms = (xs: number[]) => {
        const s = [...xs].sort((a, b) => a - b);
        return `median ${s[Math.floor(s.length / 2)]!.toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`;
      };
      const identity: number[] = [];
      const reads: number[] = [];
      const repeats: number[] = [];
      for (let i = 0; i < calls; i++) {
        identity.push(await time(() => reader.identity()));
        reads.push(await time(() => read(`latency/${i}`)));
        repeats.push(await time(() => read(`latency/${i}`)));
      }
      log(`ReaderIdentity × ${calls}: ${ms(identity)}`);
      log(`ReadPlate, 96 wells, new run key (plate source asked) × ${calls}: ${ms(reads)}`);
      log(`ReadPlate, 96 wells, repeated run key × ${calls}: ${ms(repeats)}`);
      await reader.close();
      await server.stop();
      await source.close();
      return;
    }
    default:
      throw new Error(`usage: npm run sila2 -- venv | serve --plate-source URL [--port N] | codegen | latency`);
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
});
