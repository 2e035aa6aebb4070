// relay-compiler's persistConfig adds each operation it compiles to persisted-queries.json and
// never removes one, and it compiles only operations whose artifacts changed. Starting both
// afresh makes the file hold exactly the operations of src/, as the server's manifest must
// (GRAPHQL_TRUSTED_DOCUMENTS: a stale document that no longer validates stops the server).
import { rmSync, writeFileSync } from "node:fs";

rmSync("src/__generated__", { recursive: true, force: true });
writeFileSync("persisted-queries.json", "{}\n");
