// Driving the demo page: sign in, type into the editor, read what it shows, flip the online switch.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect, type Page, type TestInfo } from '@playwright/test'

export const demoUrl = (): string => {
  const u = process.env.DEMO_URL
  if (u === undefined) throw new Error('DEMO_URL is not set: run through playwright.config.ts (its global setup starts the server)')
  return u
}

/** A name nobody else in this run uses (todos are per user; the server outlives one test). */
export const uniqueName = (base: string): string => `${base}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`

/** Opens the demo on note `notes/<note>` and signs in as `name`; waits until online. */
export async function open(page: Page, name: string, note: string): Promise<void> {
  await page.goto(`${demoUrl()}?note=${encodeURIComponent(note)}`)
  await page.getByTestId('name').fill(name)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByTestId('status')).toContainText('online')
}

/** What the CodeMirror editor holds. */
export const editorText = (page: Page): Promise<string> => page.evaluate(() => (window as unknown as { demoEditor: { text(): string } }).demoEditor.text())

/** Focuses the editor with the cursor at its start or end. */
export async function focusEditor(page: Page, at: 'start' | 'end'): Promise<void> {
  await page.locator('.cm-content').click()
  await page.keyboard.press(at === 'start' ? 'Control+Home' : 'Control+End')
}

export async function setOnline(page: Page, online: boolean): Promise<void> {
  const sw = page.getByTestId('online-switch')
  if ((await sw.isChecked()) !== online) await page.locator('label.switch').click()
  await expect(page.getByTestId('status')).toContainText(online ? 'online' : 'offline')
}

/** Both pages' editors end equal (and hold every string in `parts`). */
export async function expectConverged(a: Page, b: Page, parts: string[], timeout = 10_000): Promise<string> {
  await expect
    .poll(
      async () => {
        const [ta, tb] = await Promise.all([editorText(a), editorText(b)])
        return ta === tb && parts.every(p => ta.includes(p))
      },
      { timeout },
    )
    .toBe(true)
  return editorText(a)
}

/** Saves a screenshot under e2e/screenshots/ and attaches it to the test's report. */
export async function screenshot(page: Page, info: TestInfo, name: string): Promise<void> {
  const dir = join(import.meta.dirname, 'screenshots')
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${name}.png`)
  await page.screenshot({ path })
  await info.attach(name, { path, contentType: 'image/png' })
}
