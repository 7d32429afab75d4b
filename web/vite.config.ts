// The GUI's build: web/ in, dist/web/ out, with relative paths so the build works from any
// path the server (or a file copy) puts it at.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // ECharts is one large chunk by nature; it is served locally, so its size only costs a parse.
    chunkSizeWarningLimit: 2000,
  },
});
