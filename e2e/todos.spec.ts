// The todo list in the built demo against the real server with the demo rules: live across two
// pages of one user, and writes the rules or the schema refuse are shown and rolled back.
import { expect, test } from '@playwright/test'
import { open, screenshot, uniqueName } from './demo-page.ts'

test('a todo added in one page appears in the other page of the same user in under a second', async ({ browser }, info) => {
  const name = uniqueName('erin')
  const note = uniqueName('todos')
  const ctx = await browser.newContext()
  const a = await ctx.newPage()
  await open(a, name, note)
  // A second tab: the name is remembered, it opens signed in.
  const b = await ctx.newPage()
  await b.goto(a.url())
  await expect(b.getByTestId('status')).toContainText('online')

  await a.getByTestId('new-todo').fill('Buy oat milk')
  const started = Date.now()
  await a.getByTestId('new-todo').press('Enter')
  await expect(b.getByTestId('todo').filter({ hasText: 'Buy oat milk' })).toBeVisible({ timeout: 1000 })
  const ms = Date.now() - started
  expect(ms).toBeLessThan(1000)
  info.annotations.push({ type: 'latency', description: `${ms} ms from Enter in one page to the row in the other` })

  // Ticking it off in the second page shows in the first.
  await b.getByTestId('todo').filter({ hasText: 'Buy oat milk' }).getByRole('checkbox').check()
  await expect(a.getByTestId('todo').filter({ hasText: 'Buy oat milk' })).toHaveClass(/done/)

  await screenshot(a, info, 'todos-live')
})

test('a denied write shows an error and is rolled back', async ({ browser }, info) => {
  const name = uniqueName('frank')
  const a = await (await browser.newContext()).newPage()
  await open(a, name, uniqueName('denied'))
  await a.getByTestId('new-todo').fill('a fine title')
  await a.getByTestId('new-todo').press('Enter')
  await expect(a.getByTestId('todo')).toHaveCount(1)

  // Over the schema's 500 characters: shown at once, refused by the server, undone.
  const long = `too long ${'x'.repeat(600)}`
  await a.getByTestId('new-todo').fill(long)
  await a.getByTestId('new-todo').press('Enter')
  await expect(a.getByTestId('errors')).toContainText('Rejected')
  await expect(a.getByTestId('todo')).toHaveCount(1)
  await expect(a.getByTestId('todo')).toContainText('a fine title')

  // Someone else's todos: forbidden by the rules.
  await a.getByTestId('write-other').click()
  await expect(a.getByTestId('errors')).toContainText('Not allowed')
  await expect(a.getByTestId('errors')).toContainText('todos/someone-else/')
  await screenshot(a, info, 'denied-write')

  // Nothing of either reached the server: a fresh page of the same user shows only the fine one.
  await expect(a.getByTestId('pending')).toHaveCount(0)
  const b = await (await browser.newContext()).newPage()
  await open(b, name, uniqueName('denied'))
  await expect(b.getByTestId('todo')).toHaveCount(1)
  await expect(b.getByTestId('todo')).toContainText('a fine title')
})
