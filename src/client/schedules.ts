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

async function withSchedule<T>(scheduleId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new CliError(`no schedule with id "${scheduleId}"; "cellos schedule list" shows them`);
    throw err;
  }
}

export async function pauseCampaignSchedule(
  opts: CampaignClientOptions,
  scheduleId: string,
  note?: string,
): Promise<void> {
  await withSchedule(scheduleId, () => opts.client.schedule.getHandle(scheduleId).pause(note ?? 'paused from cellos'));
}

export async function unpauseCampaignSchedule(opts: CampaignClientOptions, scheduleId: string): Promise<void> {
  await withSchedule(scheduleId, () => opts.client.schedule.getHandle(scheduleId).unpause('resumed from cellos'));
}

export async function deleteCampaignSchedule(opts: CampaignClientOptions, scheduleId: string): Promise<void> {
  await withSchedule(scheduleId, () => opts.client.schedule.getHandle(scheduleId).delete());
}
