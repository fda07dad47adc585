import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development the API (and its SSE streams) go through Pushpin, as they go through Fanout in
// production. `npm run dev` says which port it started Pushpin on; 7999 is Pushpin's default.
const gripProxy = `http://127.0.0.1:${process.env.PUSHPIN_PORT ?? '7999'}`;

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/boards': gripProxy,
      '/healthz': gripProxy,
    },
  },
  preview: {
    host: '127.0.0.1',
  },
});
