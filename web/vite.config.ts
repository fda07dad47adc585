import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Pushpin's default HTTP port: in development the API (and its SSE streams) go through it,
// exactly as they do in production through Fanout.
const gripProxy = 'http://127.0.0.1:7999';

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
