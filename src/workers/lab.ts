import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createLabActivities, type LabActivityDependencies } from '../activities/lab-activities';
import { instrumentTimings, loadLabConfig, type LabConfig } from '../config/lab-config';
import { InstrumentGuard } from '../instruments/instrument-guard';
import { InventoryStore } from '../inventory/inventory-store';
import { createInventoryActivities } from '../activities/inventory-activities';
import { createVirtualLab, type VirtualLab } from '../lab/virtual-lab';
import { LabInstrumentsError, openLabInstruments } from '../instruments/lab-instruments';
import { ConfigError } from '../config/validation';
import { checkLabFile, describeUnhealthy, labFileInterceptor } from './lab-file-health';
import { compoundPricing, virtualLabCatalogue } from '../lab/catalogue';
import { builtinLabProfile, labProfileFromArgs, type LabProfile } from '../config/lab-profile';
import { stockForProfile } from '../inventory/default-stock';
import { temporalSettings } from '../temporal/connection';
import { startWorkerTelemetry, workerTelemetrySettings } from '../telemetry';
import {
  instrumentTaskQueue,
  inventoryTaskQueue,
  OPERATION_INSTRUMENTS,
  taskQueuesFromEnv,
  type OperationInstrument,
} from '../temporal/task-queues';

/**
 * The lab workers: one Worker per instrument, each polling its instrument's task queue with as
 * many slots as the instrument has capacity, so Temporal's task-queue priority decides which
 * campaign's operation runs next. All instruments in one process by default (the demo); on a lab
 * with one PC per instrument, run `npm run worker:lab -- --instrument plate-reader` on each.
 *
 * Which driver serves each instrument is lab configuration (CELLOS_LAB_CONFIG, `drivers:`): the
 * virtual lab by default, an Opentrons Flex or a SiLA 2 plate reader by address. The virtual lab's world is the lab profile this worker is started with
 * (`--profile FILE` or CELLOS_LAB_PROFILE; default the built-in one) and whose physical state (and
 * the instruments' leases) lives in a SQLite file (CELLOS_LAB_DB, default var/lab/lab.db) that
 * survives this process, as a real instrument's state would. The profile never leaves this
 * process: workflows see only the catalogue the stockroom publishes.
 */
export const DEFAULT_LAB_DB = resolve('var/lab/lab.db');

export interface LabWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  /** The virtual lab; it serves every instrument unless `drivers` says otherwise. */
  driver: VirtualLab;
  /** Which driver serves each instrument (openLabInstruments); default: the virtual lab for all. */
  drivers?: LabActivityDependencies['instruments'];
  guard: InstrumentGuard;
  inventory: InventoryStore;
  labConfig: LabConfig;
  labTaskQueue: string;
  /** The lab's world (default: the built-in profile): response models, faults, stock and prices. */
  profile?: LabProfile;
  instruments?: readonly OperationInstrument[];
  /** Serve the stockroom queue too (default true; one per process). */
  stockroom?: boolean;
  /** Added to every Worker.create (codec, interceptors, sinks: see src/telemetry). */
  workerOptions?: Partial<WorkerOptions>;
}

export async function createLabWorkers(options: LabWorkersOptions): Promise<Worker[]> {
  const profile = options.profile ?? builtinLabProfile();
  const activities = createLabActivities({
    ...options,
    instruments: options.drivers ?? allVirtual(options.driver),
    pricing: (compound) => compoundPricing(profile, compound),
  });
  const describe = () =>
    virtualLabCatalogue({
      profile,
      items: options.inventory.listItems(),
      labConfig: options.labConfig,
      drivers: Object.fromEntries(
        Object.entries(options.labConfig.drivers ?? {}).map(([instrument, choice]) => [instrument, choice?.driver]),
      ),
    });
  const instruments = options.instruments ?? OPERATION_INSTRUMENTS;
  // The stockroom (restock, inventory report) is served by every lab worker: it is the shared lab file.
  const stockroom =
    options.stockroom === false
      ? []
      : [
          Worker.create({
            ...options.workerOptions,
            connection: options.connection,
            namespace: options.namespace,
            taskQueue: inventoryTaskQueue(options.labTaskQueue),
            activities: createInventoryActivities(options.inventory, { describe }),
          }),
        ];
  return Promise.all([
    ...stockroom,
    ...instruments.map((instrument) =>
      Worker.create({
        ...options.workerOptions,
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: instrumentTaskQueue(options.labTaskQueue, instrument),
        activities,
        maxConcurrentActivityTaskExecutions: capacity(options.labConfig, instrument),
      }),
    ),
  ]);
}

/** Every instrument served by the virtual lab, its work taking (compressed) lab time. */
export function allVirtual(lab: VirtualLab): LabActivityDependencies['instruments'] {
  return {
    liquidHandler: lab,
    plateReader: lab,
    imager: lab,
    simulated: new Set(OPERATION_INSTRUMENTS),
    responsive: (attempt) => lab.responsive?.(attempt) ?? true,
  };
}

function capacity(config: LabConfig, instrument: OperationInstrument): number {
  if (instrument === 'liquid-handler') return config.liquidHandler.capacity;
  if (instrument === 'imager') return config.imager.capacity;
  return config.plateReader.capacity;
}

/** Runs several workers until one stops (SIGINT/SIGTERM stop them all), or until `until` settles. */
export async function runWorkers<T>(workers: Worker[], until?: Promise<T>): Promise<T | undefined> {
  if (until) {
    let wrapped: Promise<T> = until;
    for (const worker of workers) wrapped = worker.runUntil(wrapped);
    return wrapped;
  }
  await Promise.all(workers.map((w) => w.run()));
  return undefined;
}

export function parseInstruments(argv: string[]): OperationInstrument[] {
  const chosen: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--instrument' && argv[i + 1]) chosen.push(...argv[++i]!.split(','));
    else if (argv[i] === '--profile' || argv[i] === '--metrics-port') i++;
    else
      throw new Error(
        `unknown option "${argv[i]}"; allowed: --instrument NAME[,NAME…], --profile FILE, --metrics-port PORT`,
      );
  }
  const fromEnv = process.env.CELLOS_INSTRUMENTS?.split(',').filter(Boolean) ?? [];
  const all = [...chosen, ...fromEnv];
  if (all.length === 0) return [...OPERATION_INSTRUMENTS];
  for (const name of all) {
    if (!(OPERATION_INSTRUMENTS as readonly string[]).includes(name)) {
      throw new Error(`--instrument: "${name}" is not an instrument; allowed: ${OPERATION_INSTRUMENTS.join(', ')}`);
    }
  }
  return [...new Set(all)] as OperationInstrument[];
}

async function main(): Promise<void> {
  const dbPath = process.env.CELLOS_LAB_DB ?? DEFAULT_LAB_DB;
  // A damaged lab file is refused before anything opens it (see lab-file-health.ts).
  const health = checkLabFile(dbPath, process.env.CELLOS_LAB_INTEGRITY === 'full' ? 'full' : 'quick');
  if (!health.ok) {
    console.error(`error: ${describeUnhealthy(dbPath, health.problem)}`);
    process.exitCode = 1;
    return;
  }
  const { profile, source } = labProfileFromArgs(process.argv.slice(2));
  // Codec, metrics and tracing; first, because the Temporal runtime is installed before any connection.
  const telemetry = await startWorkerTelemetry({
    ...workerTelemetrySettings('lab', process.argv.slice(2)),
    pricing: (compound) => compoundPricing(profile, compound),
  });
  const settings = temporalSettings();
  const instruments = parseInstruments(process.argv.slice(2));
  const labConfig = loadLabConfig();
  const connection = await NativeConnection.connect(settings.connectionOptions);
  const driver = createVirtualLab({ dbPath, profile, labConfig });
  const drivers = await openLabInstruments({ labConfig, virtualLab: driver, labDbPath: dbPath, serving: instruments });
  const guard = InstrumentGuard.open(dbPath);
  // A profile's compounds arrive with their stock; levels already in the file are never touched.
  const inventory = InventoryStore.open(dbPath, {
    initialStock: stockForProfile(profile),
    instrumentTimings: instrumentTimings(labConfig),
  });
  const labTaskQueue = taskQueuesFromEnv().lab;
  let workers: Worker[] = [];
  let unhealthy = false;
  const fileGuard = labFileInterceptor({
    path: dbPath,
    onUnhealthy: (message) => {
      unhealthy = true;
      console.error(`error: ${message}`);
      for (const worker of workers) worker.shutdown();
    },
  });
  const interceptors = telemetry.workerOptions.interceptors;
  workers = await createLabWorkers({
    connection,
    namespace: settings.namespace,
    driver,
    guard,
    inventory,
    drivers,
    labConfig,
    labTaskQueue,
    profile,
    instruments,
    workerOptions: {
      ...telemetry.workerOptions,
      interceptors: { ...interceptors, activity: [fileGuard, ...(interceptors?.activity ?? [])] },
    },
  });
  if (telemetry.metrics) console.log(`metrics on http://${telemetry.metrics.address}/metrics`);
  console.log(
    `lab worker polling ${instruments.map((i) => `"${instrumentTaskQueue(labTaskQueue, i)}"`).join(', ')} on ${settings.address}; virtual lab "${profile.name}" (${source}), state in ${dbPath}`,
  );
  for (const line of drivers.describe()) console.log(`  ${line}`);
  try {
    await runWorkers(workers);
    if (unhealthy) process.exitCode = 1;
  } finally {
    await drivers.close();
    await driver.close();
    guard.close();
    inventory.close();
    await connection.close();
    await telemetry.shutdown();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    // A bad lab config or driver choice is the operator's to fix: say what, without a stack trace.
    if (err instanceof ConfigError || err instanceof LabInstrumentsError) console.error(`lab worker: ${err.message}`);
    else console.error(err);
    process.exit(1);
  });
}
