// Browser tests of the dashboard: Playwright (playwright-core) driving Debian's Chromium.
// Started by scripts/test-browser.sh, which runs the service on a demo store and passes:
//   BASE_URL, SITE_ID, LOGIN_URL (a sign-in link), EMPTY_LOGIN_URL (a site with no data),
//   API_TOKEN (of the demo site), SCREENSHOTS (folder for the page images).
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import assert from "node:assert/strict";

const env = process.env;
const BASE = env.BASE_URL;
const SITE = env.SITE_ID;
const SHOTS = env.SCREENSHOTS || "artifacts/screenshots";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const PAGES = { overview: "/", customers: "/customers", products: "/products", flows: "/flows" };
mkdirSync(SHOTS, { recursive: true });

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// A sign-in link works once: the first test signs in with it, the others start from that session.
let session = null;

async function signedIn(browser, options = {}) {
  const context = await browser.newContext({ acceptDownloads: true, ...options, ...(session ? { storageState: session } : {}) });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  page.on("pageerror", (err) => errors.push(String(err)));
  if (session) {
    await page.goto(`${BASE}/dashboard/${SITE}/`);
  } else {
    await page.goto(env.LOGIN_URL);
    session = await context.storageState();
  }
  return { context, page, errors };
}

const url = (path, query = "") => `${BASE}/dashboard/${SITE}${path}${query}`;

async function chartsDrawn(page) {
  return page.evaluate(() => [...document.querySelectorAll("canvas[data-chart]")].map((canvas) => {
    const chart = window.Chart && window.Chart.getChart(canvas);
    const values = chart ? chart.data.datasets.flatMap((d) => d.data).filter((v) => typeof v === "number") : [];
    const { width, height } = canvas;
    const pixels = width && height ? canvas.getContext("2d").getImageData(0, 0, width, height).data : [];
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) inked += 1; }
    return { kind: canvas.dataset.chart, hasData: values.some((v) => v !== 0), inked };
  }));
}

const cardValue = (page, key) => page.locator(`[data-card="${key}"] [data-value]`).innerText();

test("every page loads on the demo store with no console errors, and is saved as a screenshot", async (browser) => {
  const { context, page, errors } = await signedIn(browser, { viewport: { width: 1366, height: 900 } });
  for (const [name, path] of Object.entries(PAGES)) {
    await page.goto(url(path, "?range=90d"));
    await page.waitForSelector("body[data-charts]");
    await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  }
  await page.goto(url("/customers"));
  await page.locator('[data-table="top_customers"] a').first().click();
  await page.waitForSelector(".timeline");
  await page.screenshot({ path: `${SHOTS}/contact.png`, fullPage: true });
  assert.ok(await page.locator('.timeline [data-kind="order"]').count() > 0, "the contact has orders in the timeline");
  assert.deepEqual(errors, []);
  await context.close();
});

test("charts render with data, not blank canvases", async (browser) => {
  const { context, page } = await signedIn(browser);
  for (const path of ["/", "/products"]) {
    await page.goto(url(path, "?range=90d"));
    await page.waitForSelector("body[data-charts]");
    const charts = await chartsDrawn(page);
    assert.ok(charts.length >= (path === "/" ? 10 : 1), `${path}: ${charts.length} charts`);
    for (const chart of charts.filter((c) => c.kind !== "spark")) {
      assert.ok(chart.hasData, `${path}: a ${chart.kind} chart has data`);
      assert.ok(chart.inked > 500, `${path}: a ${chart.kind} chart drew ${chart.inked} pixels`);
    }
    if (path === "/") { assert.ok(charts.filter((c) => c.kind === "spark" && c.inked > 20).length >= 6, "sparklines drawn"); }
  }
  await context.close();
});

test("the date picker changes the numbers and the comparison", async (browser) => {
  const { context, page } = await signedIn(browser);
  await page.goto(url("/", "?range=90d"));
  const quarter = await cardValue(page, "orders");
  await page.selectOption("#range", "7d");
  await page.waitForURL(/range=7d/);
  const week = await cardValue(page, "orders");
  assert.notEqual(week, quarter);
  assert.ok(Number(week.replace(/,/g, "")) < Number(quarter.replace(/,/g, "")), `${week} < ${quarter}`);
  await page.fill("#from", "2020-01-01");
  assert.equal(await page.inputValue("#range"), "custom", "typing a date switches the preset to custom");
  await page.selectOption("#compare", "none");
  await page.fill("#to", "2020-01-31");
  await Promise.all([page.waitForURL(/compare=none/), page.click("form.range button[type=submit]")]);
  assert.match(await page.locator(".range-label").innerText(), /01 Jan 2020/);
  assert.equal(await page.locator(".card .change").count(), 0, "no comparison shown");
  await context.close();
});

test("CSV export downloads what the table shows", async (browser) => {
  const { context, page } = await signedIn(browser);
  for (const [path, key] of [["/products", "top_revenue"], ["/", "channels"], ["/customers", "top_customers"]]) {
    await page.goto(url(path, "?range=30d"));
    const shown = await page.locator(`table[data-table="${key}"] tbody tr`).evaluateAll((rows) =>
      rows.map((row) => [...row.children].map((cell) => cell.innerText.trim())));
    const [download] = await Promise.all([page.waitForEvent("download"),
      page.click(`a[data-export="${key}"]`)]);
    const lines = readFileSync(await download.path(), "utf8").trim().split("\n").slice(1);
    assert.equal(lines.length, shown.length, `${key}: same number of rows`);
    lines.forEach((line, i) => {
      const first = line.match(/^("([^"]|"")*"|[^,]*)/)[0].replace(/^"|"$/g, "").replace(/""/g, '"');
      assert.equal(first, shown[i][0], `${key} row ${i}: same name`);
      const numbers = line.slice(line.indexOf(first) + first.length).split(",").filter(Boolean);
      const cells = shown[i].slice(1).filter((c) => /^-?[\d,]+(\.\d+)?%?$/.test(c));
      cells.forEach((cell, k) => {
        const csvNumber = Number(numbers[k]);
        const cellNumber = Number(cell.replace(/[,%]/g, "")) / (cell.endsWith("%") ? 100 : 1);
        assert.ok(Math.abs(csvNumber - cellNumber) < 0.0006, `${key} row ${i}: ${numbers[k]} vs ${cell}`);
      });
    });
  }
  await context.close();
});

test("usable on a phone: no sideways scrolling, screenshots saved", async (browser) => {
  const { context, page, errors } = await signedIn(browser, { viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2 });
  for (const [name, path] of Object.entries(PAGES)) {
    await page.goto(url(path));
    await page.waitForSelector("body[data-charts]");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${name} overflows by ${overflow}px`);
    await page.screenshot({ path: `${SHOTS}/phone-${name}.png`, fullPage: name === "overview" });
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test("keyboard and screen readers: skip link, labelled fields, definitions on focus", async (browser) => {
  const { context, page } = await signedIn(browser);
  await page.goto(url("/"));
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.className), "skip");
  for (const id of ["range", "from", "to", "compare"]) {
    assert.equal(await page.locator(`label[for="${id}"]`).count(), 1, `#${id} has a label`);
  }
  const tip = page.locator('[data-card="net_revenue"] .tip');
  await tip.focus();
  assert.match(await tip.getAttribute("aria-label"), /minus refunds/);
  const shown = await tip.evaluate((el) => getComputedStyle(el, "::after").content);
  assert.match(shown, /minus refunds/, "the definition shows on keyboard focus");
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll("canvas")].filter((c) => !c.getAttribute("aria-label")).length);
  assert.equal(unlabeled, 0);
  await context.close();
});

test("signing in with the site id and API token works; a wrong token does not", async (browser) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url("/products"));
  assert.match(page.url(), /\/dashboard\/login/);
  await page.fill("#site_id", SITE);
  await page.fill("#api_token", "sc_wrong");
  await page.click("button[type=submit]");
  assert.match(await page.locator("[role=alert]").innerText(), /do not match/);
  await page.fill("#site_id", SITE);
  await page.fill("#api_token", env.API_TOKEN);
  await Promise.all([page.waitForURL(/\/products/), page.click("button[type=submit]")]);
  await page.screenshot({ path: `${SHOTS}/products-after-sign-in.png` });
  await context.close();
});

test("a brand-new site shows how to connect the plugin, not zeros", async (browser) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  await page.goto(env.EMPTY_LOGIN_URL);
  await page.waitForSelector("[data-empty-site]");
  assert.match(await page.locator("h1").innerText(), /Connect .* to start/);
  assert.equal(await page.locator("[data-card]").count(), 0);
  await page.screenshot({ path: `${SHOTS}/empty-site.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test("a flow is edited in a form with its mail previewed beside it, live, and a bad template is named on its field", async (browser) => {
  const { context, page, errors } = await signedIn(browser, { viewport: { width: 1440, height: 1000 } });
  await page.goto(url("/flows"));
  await page.locator('[data-flow="abandoned_cart"] a.edit').click();
  await page.waitForSelector("body[data-charts]");
  // the iframe's frame exists once its element does (page.frame() by name can run before it is attached)
  const frame = await (await page.waitForSelector("#preview-frame")).contentFrame();
  await frame.waitForSelector("#subject");
  assert.equal(await frame.locator("#subject").innerText(), "You left something in your cart");
  await page.fill('[name="steps.0.subject"]', "{{ shop.name }} kept your cart");
  await page.waitForFunction(() => {
    const doc = document.getElementById("preview-frame").contentDocument;
    const subject = doc && doc.getElementById("subject");
    return subject && subject.textContent.endsWith("kept your cart");
  }, null, { timeout: 10000 });
  await page.screenshot({ path: `${SHOTS}/flow-editor.png`, fullPage: true });
  await page.fill('[name="steps.1.intro"]', "Hi {{ contact.frist_name }}");
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]:has-text("Save")')]);
  assert.equal(await page.locator('[name="steps.1.intro"]').getAttribute("aria-invalid"), "true");
  assert.match(await page.locator("#err-steps-1-intro").innerText(), /frist_name/);
  assert.match(await page.locator(".notice.bad[role=alert]").innerText(), /Nothing was saved/);
  await page.screenshot({ path: `${SHOTS}/flow-editor-error.png`, fullPage: true });
  assert.deepEqual(errors.filter((e) => !/422/.test(e)), []);
  await context.close();
});

test("a flow page shows its subject A/B test and starts its backlog over the days chosen", async (browser) => {
  const { context, page, errors } = await signedIn(browser, { viewport: { width: 1440, height: 1000 } });
  await page.goto(url("/flows/win_back/edit"));
  await page.waitForSelector("body[data-charts]");
  // the demo's win-back mail tests two subjects: both rows carry numbers, and a verdict is given
  for (const variant of ["A", "B"]) {
    const sent = await page.locator(`[data-ab-step="1"] tr[data-variant="${variant}"] td`).first().innerText();
    assert.ok(Number(sent.replace(/,/g, "")) > 0, `variant ${variant} sent ${sent}`);
  }
  assert.ok((await page.locator('[data-ab-step="1"] [data-verdict]').innerText()).length > 10);
  assert.equal(await page.locator('[name="steps.0.subject_b"]').inputValue(), "It has been a while - here is what is brewing");
  // the preview shows subject B when asked
  await page.selectOption("#preview-variant", "B");
  await page.waitForFunction(() => {
    const doc = document.getElementById("preview-frame").contentDocument;
    const subject = doc && doc.getElementById("subject");
    return subject && subject.textContent.startsWith("It has been a while");
  }, null, { timeout: 10000 });
  // who qualified before the flow started waits, and is started over the days chosen
  const waiting = Number(await page.locator("[data-panel=backlog] strong[data-waiting]").getAttribute("data-waiting"));
  assert.ok(waiting > 0, `waiting ${waiting}`);
  await page.locator("[data-panel=ab-tests]").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SHOTS}/flow-ab-test-and-backlog.png`, fullPage: true });
  await page.fill("#f-backlog-days", "0");  // the browser refuses it before the server would (422)
  assert.equal(await page.$eval("#f-backlog-days", (input) => input.checkValidity()), false);
  await page.fill("#f-backlog-days", "7");
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Also send to these")')]);
  assert.equal(await page.locator("[data-released]").getAttribute("data-released"), String(waiting));
  assert.match(await page.locator("[data-released]").innerText(), /over 7 days/);
  assert.equal(await page.locator("[data-panel=backlog] [data-waiting]").getAttribute("data-waiting"), "0");
  await page.screenshot({ path: `${SHOTS}/flow-backlog-started.png`, fullPage: true });
  assert.deepEqual(errors.filter((e) => !/422/.test(e)), []);
  await context.close();
});

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ARGS });
let passed = 0;
let failed = 0;
for (const { name, fn } of tests) {
  const started = Date.now();
  try {
    await fn(browser);
    passed += 1;
    console.log(`  ok    ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed += 1;
    console.log(`  FAIL  ${name}\n        ${String(error && error.stack || error).split("\n").slice(0, 6).join("\n        ")}`);
  }
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
