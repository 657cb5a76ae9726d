// The demo's build: `vite build` writes dist/, which `statecraft serve --static` serves next to /sync.
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1500 },
  // `vite` (dev) talks to a `statecraft serve --port 4000` running beside it.
  server: { proxy: { '/sync': { target: 'ws://127.0.0.1:4000', ws: true } } },
})
