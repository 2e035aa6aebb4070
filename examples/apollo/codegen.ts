import type { CodegenConfig } from "@graphql-codegen/cli";

// Types for every operation written with graphql() in src/, checked against the server's
// exported schema: a schema change that breaks an operation fails `npm run codegen`, one that
// changes a type the code relies on fails `tsc --noEmit`.
const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**/*"],
  // Node's ES modules need the extension in relative imports.
  importExtension: ".js",
  generates: {
    "./src/gql/": {
      preset: "client",
      presetConfig: {
        // Not a React hook: named so it is not mistaken for Apollo's useFragment.
        fragmentMasking: { unmaskFunctionName: "getFragmentData" },
      },
      config: {
        scalars: { DateTime: "string" },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
        // Apollo Client adds __typename to every object it requests, but not to root types.
        nonOptionalTypename: true,
        skipTypeNameForRoot: true,
      },
    },
  },
};

export default config;
