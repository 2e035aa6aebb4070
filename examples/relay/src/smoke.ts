/**
 * Runs the Relay environment of this example against a live server, as tests/test_examples.py
 * does: the network layer, sign-in and the store's connection, without React.
 *
 *   npm run build-smoke && GRAPHQL_URL=http://127.0.0.1:8000/graphql/ ACCESS_TOKEN_LIFETIME=4 npm run smoke
 *
 * ACCESS_TOKEN_LIFETIME must be the server's JWT_ACCESS_TOKEN_LIFETIME: the script waits for
 * the access token to expire. Prints a JSON summary; exits non-zero on failure.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { commitLocalUpdate, commitMutation, ConnectionHandler, fetchQuery, type Environment } from "relay-runtime";
import WebSocket from "ws";
import { postGraphQL } from "../../common/http.js";
import { closeSockets } from "../../common/live.js";
import AppQuery, { type AppQuery as AppQueryType } from "./__generated__/AppQuery.graphql";
import CreateTaskMutation, { type CreateTaskFormMutation } from "./__generated__/CreateTaskFormMutation.graphql";
import TaskListPaginationQuery, {
  type TaskListPaginationQuery as TaskListPaginationQueryType,
} from "./__generated__/TaskListPaginationQuery.graphql";
import { login } from "./account";
import { createEnvironment } from "./environment";
import { watchTaskEvents } from "./taskEvents";

const uri = process.env["GRAPHQL_URL"] ?? "http://127.0.0.1:8000/graphql/";
const accessLifetimeSeconds = Number(process.env["ACCESS_TOKEN_LIFETIME"] ?? "300");
const username = `relay-${Date.now().toString(36)}`;
const password = "a long enough passphrase";

// Count the operations that leave, by name.
const sent: string[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  sent.push(JSON.parse(String(init?.body)).operationName);
  return realFetch(input, init);
};
const count = (name: string, from = 0) => sent.slice(from).filter((sentName) => sentName === name).length;

const registered = await postGraphQL(uri, {
  query: "mutation Register($input: RegisterInput!) { register(input: $input) { id } }",
  operationName: "Register",
  variables: { input: { username, email: `${username}@example.com`, password, passwordConfirm: password } },
});
assert.equal(registered.errors, undefined);

const signedOut: string[] = [];
// Node.js 20 has no global WebSocket; browsers do.
const { environment, session, sockets } = createEnvironment(uri, (reason) => signedOut.push(reason), WebSocket);
assert.deepEqual(await login(uri, session, { username, password }), { status: "signedIn", username });

const connection = ConnectionHandler.getConnectionID("client:root", "TaskList_tasks");
const createTask = (title: string) =>
  new Promise<void>((resolve, reject) =>
    commitMutation<CreateTaskFormMutation>(environment, {
      mutation: CreateTaskMutation,
      variables: { input: { title }, connections: [connection] },
      onCompleted: (_, errors) => (errors ? reject(new Error(errors[0]!.message)) : resolve()),
      onError: reject,
    }),
  );

/** The titles in the store's TaskList_tasks connection, and its pageInfo. */
function listInStore(relay: Environment) {
  let titles: string[] = [];
  let hasNextPage = false;
  let endCursor: string | null = null;
  commitLocalUpdate(relay, (store) => {
    const list = ConnectionHandler.getConnection(store.getRoot(), "TaskList_tasks");
    titles = (list?.getLinkedRecords("edges") ?? []).map((edge) => edge!.getLinkedRecord("node")!.getValue("title") as string);
    const pageInfo = list?.getLinkedRecord("pageInfo");
    hasNextPage = pageInfo?.getValue("hasNextPage") === true;
    endCursor = (pageInfo?.getValue("endCursor") as string | null | undefined) ?? null;
  });
  return { titles, hasNextPage, endCursor };
}

// The first page (AppQuery asks for 2), then loadNext's query until the end: each page joins
// the connection in the store, as usePaginationFragment shows it.
const first = await fetchQuery<AppQueryType>(environment, AppQuery, {}).toPromise();
assert.equal(first!.me.username, username);
for (const title of ["first", "second", "third"]) await createTask(title);
await fetchQuery<AppQueryType>(environment, AppQuery, {}, { fetchPolicy: "network-only" }).toPromise();
const progress = [listInStore(environment).titles.length];
for (let page = listInStore(environment); page.hasNextPage; page = listInStore(environment)) {
  await fetchQuery<TaskListPaginationQueryType>(environment, TaskListPaginationQuery, {
    count: 2,
    cursor: page.endCursor,
  }).toPromise();
  progress.push(listInStore(environment).titles.length);
}
assert.deepEqual(listInStore(environment).titles, ["third", "second", "first"]);
assert.deepEqual(progress, [2, 3]);

// Five operations at once with an expired access token: one refresh for all of them.
await sleep((accessLifetimeSeconds + 1.5) * 1000);
const before = sent.length;
await Promise.all([
  fetchQuery<AppQueryType>(environment, AppQuery, {}, { fetchPolicy: "network-only" }).toPromise(),
  fetchQuery<TaskListPaginationQueryType>(environment, TaskListPaginationQuery, { count: 1 }).toPromise(),
  fetchQuery<TaskListPaginationQueryType>(environment, TaskListPaginationQuery, { count: 5 }).toPromise(),
  createTask("fourth"),
  createTask("fifth"),
]);
const burst = sent.slice(before);
const refreshesInBurst = count("environmentRefreshMutation", before);
assert.equal(refreshesInBurst, 1, `sent: ${burst}`);
assert.equal(burst.length, 11, `five refused, one refresh, five retried; sent: ${burst}`);
assert.deepEqual(signedOut, []);

// The task events over the WebSocket. When the access token expires the server closes the socket
// (4403, token_expired); one refresh, a new connection with the new token, and the subscription
// goes on. Tasks are created until one is heard: a subscription listens once its socket is up.
const closes: string[] = [];
sockets.on("closed", (event) => {
  const { code, reason } = event as { code: number; reason: string };
  closes.push(`${code} ${reason}`);
});
const heard: string[] = [];
const live = watchTaskEvents(environment, (event) => heard.push(event.task?.title ?? event.kind));
async function untilHeard(label: string) {
  for (let attempt = 1; attempt <= 30; attempt++) {
    const title = `${label} ${attempt}`;
    await createTask(title);
    for (let wait = 0; wait < 10 && !heard.includes(title); wait++) await sleep(100);
    if (heard.includes(title)) return;
  }
  assert.fail(`the subscription never heard "${label}"`);
}
await untilHeard("before expiry");
const beforeExpiry = sent.length;
await sleep((accessLifetimeSeconds + 1.5) * 1000);
await untilHeard("after expiry");
live.dispose();
await closeSockets(sockets);
assert.ok(closes.includes("4403 token_expired"), `closes: ${closes}`);

console.log(
  JSON.stringify({
    username,
    progress,
    burst,
    refreshesInBurst,
    socketCloses: closes,
    refreshesAcrossExpiry: count("environmentRefreshMutation", beforeExpiry),
  }),
);
