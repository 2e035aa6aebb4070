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
        // Also writes src/gql/persisted-documents.json, {"<sha256>": "<document>"}: the server's
        // trusted documents (GRAPHQL_TRUSTED_DOCUMENTS, docs/persisted-documents.md). Each
        // document carries its hash as __meta__.hash. The preset's default hash is SHA-1; SHA-256
        // makes the ids `sha256:` ids and the hashes Apollo's persisted-query link would send.
        persistedDocuments: { hashAlgorithm: "sha256" },
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
