// Bundles GraphiQL, its explorer plugin and the sign-in panel into ../static/graphiql/,
// which Django's staticfiles finds (the `schema` app's static folder) and whitenoise serves.
// The output is git-ignored: `make run` and `make test` rebuild it when package-lock.json
// or a file of this folder changes.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = fileURLToPath(new URL('../static/graphiql/', import.meta.url));

// monaco-editor's main entry registers TypeScript, CSS, HTML and some eighty other grammars;
// GraphiQL needs only the core, JSON (variables, headers, response) and monaco-graphql.
const monacoCoreWithJsonOnly = {
  name: 'monaco-core-with-json-only',
  setup(build) {
    build.onResolve({ filter: /^monaco-editor$/ }, () => ({ path: `${here}src/monaco-editor.js` }));
    // graphiql/style.css (imported by src/main.jsx) already holds Monaco's styles.
    build.onLoad({ filter: /[\\/]monaco-editor[\\/]esm[\\/].*\.css$/ }, () => ({ contents: '', loader: 'empty' }));
  },
};

const common = {
  bundle: true,
  minify: true,
  legalComments: 'linked',
  target: 'es2022',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  absWorkingDir: here,
  outdir,
};

await rm(outdir, { recursive: true, force: true });
await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: { graphiql: 'src/main.jsx' },
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    jsx: 'automatic',
    plugins: [monacoCoreWithJsonOnly],
  }),
  // Monaco runs its language services in web workers, started from these same-origin files
  // (see src/workers.js): classic scripts, so no module-worker support is needed.
  esbuild.build({
    ...common,
    entryPoints: {
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    format: 'iife',
  }),
]);
