import { defineConfig } from 'vite';

// The build is embedded in the porttrack binary (rust-embed over web/dist)
// and committed, so it must be deterministic: content-hashed names, no
// source maps, no build timestamps. Relative base so the page also works
// behind a reverse proxy under a path prefix.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/api': { target: process.env.PORTTRACK_API ?? 'http://127.0.0.1:8787', changeOrigin: false },
      '/config.json': { target: process.env.PORTTRACK_API ?? 'http://127.0.0.1:8787' },
    },
  },
});
