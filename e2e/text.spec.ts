// The shared note in the built demo against the real server: concurrent typing converges, offline
// edits merge on return, and offline edits survive a reload and then reach the server.
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { editorText, expectConverged, focusEditor, open, screenshot, setOnline, uniqueName } from './demo-page.ts'

test('two pages type into the same text at once and converge, with each other’s cursor shown', async ({ browser }, info) => {
  const note = uniqueName('concurrent')
  const a = await (await browser.newContext()).newPage()
  const b = await (await browser.newContext()).newPage()
  await open(a, 'ann', note)
  await open(b, 'bob', note)
  await focusEditor(a, 'end')
  await a.keyboard.type('The quick brown fox. ')
  await expectConverged(a, b, ['The quick brown fox. '])
  await focusEditor(b, 'end')
  await focusEditor(a, 'start')
  await Promise.all([a.keyboard.type('ann was here; ', { delay: 15 }), b.keyboard.type('bob typed this.', { delay: 15 })])
  const text = await expectConverged(a, b, ['ann was here; ', 'bob typed this.', 'The quick brown fox. '])
  expect(text).toBe('ann was here; The quick brown fox. bob typed this.')
  // Presence: each sees the other's cursor in the editor and in the list of peers.
  await expect(a.locator('.remote-cursor-label', { hasText: 'bob' })).toBeVisible()
  await expect(b.getByTestId('peers')).toContainText('ann')
  // A fuller page for the README's picture (UPDATE_DEMO_PNG=1 copies it to docs/demo.png).
  for (const t of ['Write the release notes', 'Try the offline switch']) {
    await a.getByTestId('new-todo').fill(t)
    await a.getByTestId('new-todo').press('Enter')
  }
  await a.getByTestId('todo').first().getByRole('checkbox').check()
  await expect(a.getByTestId('pending')).toHaveCount(0)
  await screenshot(a, info, 'concurrent-typing')
  if (process.env.UPDATE_DEMO_PNG === '1') {
    mkdirSync(join(import.meta.dirname, '..', 'docs'), { recursive: true })
    copyFileSync(join(import.meta.dirname, 'screenshots', 'concurrent-typing.png'), join(import.meta.dirname, '..', 'docs', 'demo.png'))
  }
})

test('a page goes offline, edits, comes back, and both converge', async ({ browser }, info) => {
  const note = uniqueName('offline')
  const a = await (await browser.newContext()).newPage()
  const b = await (await browser.newContext()).newPage()
  await open(a, 'ann', note)
  await open(b, 'bob', note)
  await focusEditor(a, 'end')
  await a.keyboard.type('line one. ')
  await expectConverged(a, b, ['line one. '])

  await setOnline(a, false)
  await focusEditor(a, 'start')
  await a.keyboard.type('[offline ann] ')
  await expect(a.getByTestId('pending')).toBeVisible()
  await focusEditor(b, 'end')
  await b.keyboard.type('[online bob]')
  // B's edit does not reach A while it is offline, nor A's reach B.
  await b.waitForTimeout(300)
  expect(await editorText(a)).toBe('[offline ann] line one. ')
  expect(await editorText(b)).toBe('line one. [online bob]')
  await screenshot(a, info, 'offline-pending')

  await setOnline(a, true)
  const text = await expectConverged(a, b, ['[offline ann] ', '[online bob]'])
  expect(text).toBe('[offline ann] line one. [online bob]')
  await expect(a.getByTestId('pending')).toHaveCount(0)
})

test('offline edits with pending writes survive a reload, then reach the server', async ({ browser }, info) => {
  const note = uniqueName('reload')
  const ctx = await browser.newContext()
  const a = await ctx.newPage()
  await open(a, 'carol', note)
  await focusEditor(a, 'end')
  await a.keyboard.type('saved online. ')
  await expect(a.getByTestId('pending')).toHaveCount(0)

  await setOnline(a, false)
  await focusEditor(a, 'end')
  await a.keyboard.type('typed offline.')
  await expect(a.getByTestId('pending')).toBeVisible()
  // The outbox is in IndexedDB before the reload.
  await a.evaluate(() => (window as unknown as { demo: { db: { whenPersisted(): Promise<void> } } }).demo.db.whenPersisted())
  await a.reload()

  // Still offline (the switch is kept for the tab), and the edit is still there, still pending.
  await expect(a.getByTestId('status')).toContainText('offline')
  await expect.poll(() => editorText(a)).toBe('saved online. typed offline.')
  await expect(a.getByTestId('pending')).toBeVisible()
  await screenshot(a, info, 'reload-offline')

  // Another user's page does not have it yet; once A is back online it does.
  const b = await (await browser.newContext()).newPage()
  await open(b, 'dave', note)
  await expect.poll(() => editorText(b)).toBe('saved online. ')
  await setOnline(a, true)
  await expect(a.getByTestId('pending')).toHaveCount(0)
  await expect.poll(() => editorText(b)).toBe('saved online. typed offline.')
})
