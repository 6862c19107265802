import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChromium } from '../../scripts/ensure-chromium.mjs';
import { MARKS, writeReport } from '../../src/report/index';
import { FIXED_TIME, campaignFixture } from './fixture';

/**
 * The report as a person sees it: rendered from the recorded campaign with the settings the CLI
 * would infer, opened from disk in headless Chromium (Debian's package, driven by playwright-core)
 * with the network unused. The page and a full-page screenshot stay in test-artifacts/.
 */
const ARTIFACTS = resolve('test-artifacts');
const HTML = resolve(ARTIFACTS, 'report.html');
const SCREENSHOT = resolve(ARTIFACTS, 'report.png');

const results = campaignFixture();
const pairKeys = results.status.estimates.map((e) => `${e.cellLine}|${e.compound}`);

let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
  const executablePath = ensureChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  await writeReport(results, HTML, { generatedAt: FIXED_TIME });
  // Root cannot use Chromium's sandbox; the page is our own file.
  browser = await chromium.launch({ executablePath, headless: true, chromiumSandbox: false });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(HTML).href, { waitUntil: 'load' });
}, 600_000);

afterAll(async () => {
  await browser?.close();
});

describe('the campaign report in a real browser', () => {
  it('loads from the file alone, with no console errors and no other request', () => {
    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(HTML).href]);
    expect(readFileSync(HTML, 'utf8')).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org|vega\.github\.io)/);
  });

  it('has a plot for every pair, with the curve, its band, the vehicle band, the wells and the IC50 marks', async () => {
    await expect(page.locator('figure[data-pair]').count()).resolves.toBe(pairKeys.length);
    for (const key of pairKeys) {
      const fig = page.locator(`figure[data-pair="${key}"]`);
      await expect(fig.count()).resolves.toBe(1);
      for (const mark of [MARKS.curve, MARKS.curveBand, MARKS.vehicleBand, MARKS.ic50])
        await expect(fig.locator(`g.${mark} > path`).count(), `${key} ${mark}`).resolves.toBe(1);
      await expect(fig.locator(`g.${MARKS.ic50Interval} > line`).count()).resolves.toBe(1);
      const [line, cellLine, compound] = [key, ...key.split('|')];
      const wells = results.outcomes.filter(
        (o) =>
          !o.proposal.isControl &&
          o.proposal.cellLine === cellLine &&
          o.proposal.compound === compound &&
          o.normalisedResponse !== undefined,
      ).length;
      await expect(fig.locator(`g.${MARKS.wells} > path`).count(), line).resolves.toBe(wells);
      // Drawn, not just present: the curve spans most of the plot's width.
      const box = await fig.locator(`g.${MARKS.curve} > path`).boundingBox();
      expect(box!.width).toBeGreaterThan(250);
      const band = await fig.locator(`g.${MARKS.curveBand} > path`).getAttribute('d');
      expect(band!.length).toBeGreaterThan(100);
    }
  });

  it('has an IC50 table row per pair', async () => {
    const rows = page.locator('#ic50-table tbody tr[data-pair]');
    await expect(rows.count()).resolves.toBe(pairKeys.length);
    for (const key of pairKeys) {
      const cells = await page.locator(`#ic50-table tr[data-pair="${key}"] td`).allTextContents();
      expect(cells.slice(0, 2)).toEqual(key.split('|'));
      expect(cells[4]).toMatch(/^\d/);
      expect(cells[6]).toBe('n/a');
    }
  });

  it('shows the narrowing chart, spend, failed wells and plate QC', async () => {
    await expect(page.locator(`#narrowing g.${MARKS.narrowingPoints} > path`).count()).resolves.toBeGreaterThan(
      pairKeys.length,
    );
    await expect(page.locator('.spend-table tbody tr').count()).resolves.toBe(7);
    const failed = results.outcomes.filter((o) => o.status === 'failed').length;
    await expect(page.locator('.failures-table tbody tr').count()).resolves.toBe(failed);
    const plates = new Set(results.outcomes.map((o) => o.location.plateId)).size;
    await expect(page.locator('.plates-table tbody tr').count()).resolves.toBe(plates);
    const ids = await page.locator('[id]').evaluateAll((els) => els.map((el) => el.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('saves a full-page screenshot', async () => {
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG');
  });
});
