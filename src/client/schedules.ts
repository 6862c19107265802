import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import type { CampaignConfig } from '../config/campaign-config';
import { CliError, campaignStartOptions, type CampaignClientOptions } from './campaign-client';

/**
 * Recurring campaigns (a nightly control plate, say) are Temporal Schedules: the server starts
 * each run on time whether or not any client is up, and they are listed, paused and resumed here.
 * Each run's workflow id is the schedule's campaign id plus the scheduled time.
 */
export interface ScheduleListing {
  scheduleId: string;
  paused: boolean;
  spec: string;
  nextRuns: Date[];
  note?: string;
}

export async function createCampaignSchedule(
  opts: CampaignClientOptions,
  config: CampaignConfig,
  scheduleId: string,
  cron: string,
): Promise<void> {
  try {
    await opts.client.schedule.create({
      scheduleId,
      spec: { cronExpressions: [cron] },
      action: {
        type: 'startWorkflow',
        workflowType: 'campaignWorkflow',
        workflowId: `campaign-${config.name}`,
        ...campaignStartOptions(opts, config, `campaign-${config.name}`),
      },
      memo: { cron },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new CliError(`a schedule with id "${scheduleId}" already exists`);
    const message = (err as Error).message;
    if (/cron|spec|invalid/i.test(message))
      throw new CliError(`--cron: "${cron}" is not a valid cron expression (${message})`, 2);
    throw err;
  }
}

export async function listCampaignSchedules(opts: CampaignClientOptions): Promise<ScheduleListing[]> {
  const out: ScheduleListing[] = [];
  for await (const s of opts.client.schedule.list()) {
    if (s.action?.type !== 'startWorkflow' || s.action.workflowType !== 'campaignWorkflow') continue;
    out.push({
      scheduleId: s.scheduleId,
      paused: s.state.paused,
      spec: String((s.memo as { cron?: string } | undefined)?.cron ?? JSON.stringify(s.spec)),
      nextRuns: s.info.nextActionTimes.slice(0, 3),
      note: s.state.note,
    });
  }
  return out;
}

/**
 * Accepts the schedule's id or its short name, as for campaigns: "schedule-nightly" or "nightly"
 * (the default id of a schedule is `schedule-<config name>`). Returns the id that exists.
 */
export async function findSchedule(opts: CampaignClientOptions, id: string): Promise<string> {
  const candidates = id.startsWith('schedule-') ? [id] : [id, `schedule-${id}`];
  for (const candidate of candidates) {
    try {
      await opts.client.schedule.getHandle(candidate).describe();
      return candidate;
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  throw new CliError(`no schedule with id "${id}"; "cellos schedule list" shows them`);
}

async function withSchedule<T>(
  opts: CampaignClientOptions,
  id: string,
  run: (handle: ReturnType<CampaignClientOptions['client']['schedule']['getHandle']>) => Promise<T>,
): Promise<string> {
  const scheduleId = await findSchedule(opts, id);
  try {
    await run(opts.client.schedule.getHandle(scheduleId));
    return scheduleId;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new CliError(`no schedule with id "${id}"; "cellos schedule list" shows them`);
    throw err;
  }
}

/** Each returns the schedule's full id. */
export async function pauseCampaignSchedule(opts: CampaignClientOptions, id: string, note?: string): Promise<string> {
  return withSchedule(opts, id, (h) => h.pause(note ?? 'paused from cellos'));
}

export async function unpauseCampaignSchedule(opts: CampaignClientOptions, id: string): Promise<string> {
  return withSchedule(opts, id, (h) => h.unpause('resumed from cellos'));
}

export async function deleteCampaignSchedule(opts: CampaignClientOptions, id: string): Promise<string> {
  return withSchedule(opts, id, (h) => h.delete());
}
