// The demo app's rules: users sign in by name (a demo: no password); each user's todos live under
// todos/{uid}/… and only they can see or change them; notes/… are text every signed-in user shares.
import { z } from 'zod'
import { anonymous, defineRules, tokenAuthenticator, type TokenSecret } from '@statecraft/rules'

export interface Claims {
  uid: string
}

export const Todo = z.object({ title: z.string().max(500), done: z.boolean() })

export const rules = defineRules<Claims>({
  'todos/{uid}/**': {
    read: ({ auth, params }) => auth?.uid === params.uid,
    write: ({ auth, params }) => auth?.uid === params.uid,
    schema: Todo,
  },
  'notes/**': {
    read: ({ auth }) => auth !== null,
    write: ({ auth }) => auth !== null,
    schema: z.string().max(100_000),
  },
})

/** The token is the user's name. A capability token works too; no token is a visitor who sees nothing. */
export const authenticate = (secret: TokenSecret) =>
  tokenAuthenticator<Claims>(secret, name => {
    if (name === undefined) return anonymous
    return /^[a-z0-9_-]{1,32}$/i.test(name) ? { uid: name } : null
  })

// On the server:
//   createServer({ store, rules, authenticate: authenticate(process.env.TOKEN_SECRET) })
