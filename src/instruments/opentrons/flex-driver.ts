import type {
  DosedWell,
  DosePlateRequest,
  LiquidHandlerDriver,
  PlateStepReport,
  SeededWell,
  SeedPlateRequest,
} from '../plate-driver';
import { PROTOCOL } from '../../domain/prices';
import { OpentronsAnalyzer, type AnalysisAnswer } from './analyzer';
import { planDosing } from './dose-plan';
import { DEFAULT_LABWARE, DEFAULT_PIPETTES, type FlexLabwareChoice, type MountedPipette } from './equipment';
import { ProtocolRejectedError } from './errors';
import { plateOutcomes, runSeconds } from './outcomes';
import type { PlannerConfig, ProtocolPlan } from './plan';
import { protocolSource } from './protocol-source';
import { OpentronsRobotClient, type RobotRun } from './robot-client';
import { runOnce, type FinishedRun, type RunPath } from './run-once';
import { RunLedger } from './run-ledger';
import { planSeeding } from './seed-plan';

/**
 * The liquid handler as an Opentrons Flex: each plate step becomes one generated Python protocol,
 * checked by the vendor's analyzer on this machine before anything touches the robot, then
 * uploaded under the step's operation key, run once, and read back well by well.
 */

export interface OpentronsFlexDriverOptions {
  /** The robot server, e.g. http://192.168.1.20:31950. */
  url: string;
  /** What is mounted (default: 1-channel 1000 µL left, 1-channel 50 µL right). */
  pipettes?: readonly MountedPipette[];
  labware?: Partial<FlexLabwareChoice>;
  /** Python API level (default 2.21: the newest robot software 8.2.0 runs; opentrons 10.1.0 analyses up to 2.31). */
  apiLevel?: string;
  /** Final DMSO fraction in every dosed well (default the lab protocol's, 0.5 %). */
  dmsoFinalFraction?: number;
  /** Smallest volume the planner moves itself (default 1 µL). */
  minimumPipettingMicrolitres?: number;
  /**
   * SQLite file where the driver records, per key, the protocol and run it made and the finished
   * report (run-ledger.ts). Without it the robot's own lists are the only record, and the robot
   * prunes old runs: set it for real use.
   */
  ledgerPath?: string;
  /** A shared analyzer; without one the driver starts its own and closes it in close(). */
  analyzer?: OpentronsAnalyzer;
  pollIntervalMs?: number;
  analysisTimeoutMs?: number;
  runTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Each poll of a running run (heartbeat here). */
  onPoll?: (event: { operationKey: string; run: RobotRun }) => void;
  /** Each local analysis (timings for logs and tests). */
  onAnalysed?: (event: { operationKey: string; answer: AnalysisAnswer }) => void;
  /** How each step reached its run (for logs and tests). */
  onRun?: (event: { operationKey: string; path: RunPath; runId: string }) => void;
}

export interface OpentronsFlexDriver extends LiquidHandlerDriver {
  /** The plan and protocol a request becomes, without running anything. */
  protocolFor(request: SeedPlateRequest | DosePlateRequest): { plan: ProtocolPlan; source: string };
}

export const DEFAULT_API_LEVEL = '2.21';

export function plannerConfig(options: Omit<OpentronsFlexDriverOptions, 'url'> = {}): PlannerConfig {
  return {
    apiLevel: options.apiLevel ?? DEFAULT_API_LEVEL,
    pipettes: options.pipettes ?? DEFAULT_PIPETTES,
    labware: {
      ...DEFAULT_LABWARE,
      ...options.labware,
      plate: { ...DEFAULT_LABWARE.plate, ...options.labware?.plate },
    },
    dmsoFinalFraction: options.dmsoFinalFraction ?? PROTOCOL.dmsoFractionOfFinal,
    minimumPipettingMicrolitres: options.minimumPipettingMicrolitres ?? 1,
  };
}

export function createOpentronsFlexDriver(options: OpentronsFlexDriverOptions): OpentronsFlexDriver {
  const config = plannerConfig(options);
  const client = new OpentronsRobotClient({ url: options.url, requestTimeoutMs: options.requestTimeoutMs });
  const ownsAnalyzer = options.analyzer === undefined;
  let analyzer = options.analyzer;
  const ledger = options.ledgerPath ? RunLedger.open(options.ledgerPath) : undefined;

  const plan = (request: SeedPlateRequest | DosePlateRequest): ProtocolPlan =>
    'stocks' in request ? planDosing(request, config) : planSeeding(request, config);

  async function run(planned: ProtocolPlan): Promise<FinishedRun> {
    const source = protocolSource(planned);
    const key = planned.operationKey;
    const known = ledger?.get(key);
    const finished = await runOnce(
      client,
      {
        operationKey: planned.operationKey,
        ...(known ? { known } : {}),
        onProtocol: (protocolId) => ledger?.noteProtocol(key, protocolId),
        onRunCreated: (protocolId, runId) => ledger?.noteRun(key, protocolId, runId),
        fileName: `cellos-${planned.kind}-${planned.plateId.replace(/[^A-Za-z0-9._-]+/g, '_')}.py`,
        // Only when the robot has nothing for this key: the vendor's analyzer checks it first.
        source: async () => {
          analyzer ??= new OpentronsAnalyzer();
          const answer = await analyzer.analyse(source, `cellos-${planned.kind}.py`);
          options.onAnalysed?.({ operationKey: planned.operationKey, answer });
          if (answer.analysis.result !== 'ok')
            throw new ProtocolRejectedError(planned.operationKey, 'local analyzer', answer.analysis.errors);
          return source;
        },
      },
      {
        pollIntervalMs: options.pollIntervalMs,
        analysisTimeoutMs: options.analysisTimeoutMs,
        runTimeoutMs: options.runTimeoutMs,
        onPoll: (r) => options.onPoll?.({ operationKey: planned.operationKey, run: r }),
      },
    );
    options.onRun?.({ operationKey: planned.operationKey, path: finished.path, runId: finished.run.id });
    return finished;
  }

  function record<T extends PlateStepReport<unknown>>(report: T): T {
    ledger?.saveReport(report.operationKey, report);
    return report;
  }

  return {
    protocolFor(request) {
      const planned = plan(request);
      return { plan: planned, source: protocolSource(planned) };
    },

    async seedPlate(request: SeedPlateRequest): Promise<PlateStepReport<SeededWell>> {
      const recorded = ledger?.get(request.operationKey)?.report;
      if (recorded) return recorded as PlateStepReport<SeededWell>;
      const planned = planSeeding(request, config);
      const finished = await run(planned);
      const byWell = new Map(request.wells.map((w) => [w.well, w]));
      return record({
        operationKey: request.operationKey,
        wells: plateOutcomes(
          planned,
          finished.run,
          finished.commands,
          (well) => ({
            cellsSeeded: byWell.get(well)!.cellsPerWell,
            volumeMicrolitres: byWell.get(well)!.volumeMicrolitres,
          }),
          request.wells.map((w) => w.well),
        ),
        instrumentSeconds: runSeconds(finished.run, finished.commands),
      });
    },

    async dosePlate(request: DosePlateRequest): Promise<PlateStepReport<DosedWell>> {
      const recorded = ledger?.get(request.operationKey)?.report;
      if (recorded) return recorded as PlateStepReport<DosedWell>;
      const planned = planDosing(request, config);
      const finished = await run(planned);
      const byWell = new Map(request.wells.map((w) => [w.well, w]));
      return record({
        operationKey: request.operationKey,
        wells: plateOutcomes(
          planned,
          finished.run,
          finished.commands,
          (well) => ({
            doseMicromolar: byWell.get(well)!.doseMicromolar,
            volumeMicrolitres: byWell.get(well)!.volumeMicrolitres,
          }),
          request.wells.map((w) => w.well),
        ),
        instrumentSeconds: runSeconds(finished.run, finished.commands),
      });
    },

    async close(): Promise<void> {
      ledger?.close();
      if (ownsAnalyzer) await analyzer?.close();
    },
  };
}
