// Bundles src/smoke.ts for node. In an application, babel-plugin-relay (or Vite's or SWC's Relay
// plugin) replaces each graphql`...` template with the artifact relay-compiler wrote for it; this
// build does the same for the smoke test with a small esbuild plugin.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";

const relayArtifacts = {
  name: "relay-artifacts",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\/src\/[^/]+\.tsx?$/ }, async ({ path }) => {
      const imports = [];
      const source = (await readFile(path, "utf8")).replace(/\bgraphql`([^`]*)`/g, (_, text) => {
        const name = /(?:query|mutation|subscription|fragment)\s+(\w+)/.exec(text)[1];
        imports.push(`import __relay_${name} from "./__generated__/${name}.graphql";`);
        return `__relay_${name}`;
      });
      return { contents: imports.join("\n") + "\n" + source, loader: path.endsWith("x") ? "tsx" : "ts" };
    });
  },
};

await build({
  entryPoints: ["src/smoke.ts"],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: "dist/smoke.mjs",
  // The WebSocket of Node.js 20 (a CommonJS package), loaded from node_modules as it is.
  external: ["ws"],
  plugins: [relayArtifacts],
  logLevel: "warning",
});
