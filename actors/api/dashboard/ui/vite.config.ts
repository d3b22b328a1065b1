/**
 * The dashboard's build: Vite 8 (Rolldown, Oxc) with Preact through Oxc's automatic JSX runtime (no
 * Babel preset). Served by the API under /dashboard (actors/api/dashboard/bundle.ts) from ./dist.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/dashboard/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Everything a browser needs comes from this server: no inlined data URLs the CSP would refuse.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
