// The report page's build: web/report.html in, ONE file out (dist/report/report.html) with its
// script and styles inlined, so that `streambench report` only has to put the data in to make a
// page that opens from file:// with no server and no network (a module script loaded by src=
// is refused from file://, and any chunk or asset file would be one more file to carry).
// A config of its own, not an input of web/vite.config.ts: the GUI's build splits chunks and
// serves assets, which is right for a server and wrong for a single file.
import { defineConfig, type Plugin } from 'vite';

/** Puts every emitted chunk and stylesheet into the HTML that references it, and drops their files. */
function inlineIntoHtml(): Plugin {
  return {
    name: 'streambench-inline-report',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const html of Object.values(bundle)) {
        if (html.type !== 'asset' || !html.fileName.endsWith('.html')) continue;
        let text = String(html.source);
        for (const [name, item] of Object.entries(bundle)) {
          const file = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          if (item.type === 'chunk') {
            const tag = new RegExp(`<script type="module"[^>]*src="[^"]*${file}"[^>]*></script>`);
            if (!tag.test(text)) continue;
            // Inside <script>, "</script" would end the element early; "<\/script" means the same to JavaScript.
            const code = item.code.replace(/<\/script/gi, '<\\/script');
            text = text.replace(tag, () => `<script type="module">${code}</script>`);
            delete bundle[name];
          } else if (name.endsWith('.css')) {
            const tag = new RegExp(`<link rel="stylesheet"[^>]*href="[^"]*${file}"[^>]*>`);
            if (!tag.test(text)) continue;
            const css = String(item.source).replace(/<\/style/gi, '<\\/style');
            text = text.replace(tag, () => `<style>${css}</style>`);
            delete bundle[name];
          }
        }
        html.source = text;
      }
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  logLevel: 'warn',
  plugins: [inlineIntoHtml()],
  build: {
    outDir: '../dist/report',
    emptyOutDir: true,
    // Everything is inlined: no asset file, no module preload, no dynamic chunk.
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    cssCodeSplit: false,
    modulePreload: false,
    chunkSizeWarningLimit: 4000,
    rollupOptions: { input: `${import.meta.dirname}/report.html`, output: { inlineDynamicImports: true } },
  },
});
