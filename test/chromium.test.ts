import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../local/chromium.ts';

describe('launchChromium', () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let url: string;

  beforeAll(async () => {
    const page =
      '<!doctype html><title>probe</title><p id="p">static</p><script>document.getElementById("p").textContent = "ran " + navigator.userAgent</script>';
    const listening = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
    });
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const address = listening.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('runs the system Chromium headless, with scripts', async () => {
    if (browser === undefined) throw new Error('Chromium did not start');
    const page = await browser.newPage();
    await page.goto(url);
    const text = await page.locator('#p').textContent();
    expect(text).toMatch(/^ran .*HeadlessChrome/);
    expect(browser.version()).toMatch(/^\d+\./);
    await page.close();
  });
});
