// Monaco asks for a worker per language service; each comes from a file built beside this
// bundle (build.mjs), so the page needs nothing from another origin, nor blob: workers.
const workerFile = { json: 'json.worker.js', graphql: 'graphql.worker.js' };

export function serveMonacoWorkersFrom(folderUrl) {
  globalThis.MonacoEnvironment = {
    getWorker(_workerId, label) {
      return new Worker(new URL(workerFile[label] ?? 'editor.worker.js', folderUrl), { name: label });
    },
  };
}
