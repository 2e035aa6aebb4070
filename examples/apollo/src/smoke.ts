/**
 * Runs the example client against a live server, as tests/test_examples.py does:
 *
 *   GRAPHQL_URL=http://127.0.0.1:8000/graphql/ ACCESS_TOKEN_LIFETIME=4 npm run smoke
 *
 * ACCESS_TOKEN_LIFETIME must be the server's JWT_ACCESS_TOKEN_LIFETIME (keep it short: the
 * script waits for access tokens to expire). Prints a JSON summary; exits non-zero on failure.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import { login, logout, MeDocument, register } from "./account.js";
import { createClient, RefreshTokenDocument } from "./client.js";
import { apiErrorsOf } from "./errors.js";
import { postOperation } from "./request.js";
import { watchTaskEvents } from "./live.js";
import { createTask, loadAllTasks, taskTitle, TasksDocument } from "./tasks.js";
import { ConfirmTotpDocument, SetupTotpDocument } from "./totp.js";

const uri = process.env["GRAPHQL_URL"] ?? "http://127.0.0.1:8000/graphql/";
const accessLifetimeSeconds = Number(process.env["ACCESS_TOKEN_LIFETIME"] ?? "300");
const password = "a long enough passphrase";
// New accounts on every run, so that the script can run again against the same server.
const run = Date.now().toString(36);
const names = { alice: `alice-${run}`, bob: `bob-${run}`, carol: `carol-${run}`, dave: `dave-${run}` };

/** A client of its own for one user, which counts the operations it sends by name. */
function clientFor() {
  const sent: string[] = [];
  const signedOut: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    sent.push(JSON.parse(String(init?.body)).operationName);
    return fetch(input, init);
  };
  const { client, session, sockets } = createClient({
    uri,
    fetch: countingFetch,
    onSignedOut: (reason) => signedOut.push(reason),
    webSocketImpl: WebSocket, // Node.js 20 has no global WebSocket; browsers do
  });
  const count = (name: string) => sent.filter((sentName) => sentName === name).length;
  return { client, session, sockets, sent, signedOut, count };
}

async function signUpAndIn(user: ReturnType<typeof clientFor>, username: string) {
  assert.equal(await register(user.client, { username, email: `${username}@example.com`, password }), null);
  assert.deepEqual(await login(user.client, user.session, { username, password }), { status: "signedIn", username });
}

async function errorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return apiErrorsOf(error)[0];
  }
  assert.fail("expected an error");
}

/** Creates tasks until the subscription hears one (it listens once its socket is connected); how many it took. */
async function untilHeard(user: ReturnType<typeof clientFor>, heard: string[], label: string) {
  for (let attempt = 1; attempt <= 30; attempt++) {
    const title = `${label} ${attempt}`;
    await createTask(user.client, title);
    for (let wait = 0; wait < 10 && !heard.includes(title); wait++) await sleep(100);
    if (heard.includes(title)) return attempt;
  }
  assert.fail(`the subscription never heard "${label}"`);
}

/** What an authenticator app shows: RFC 6238 with SHA-1, 6 digits, 30-second steps. */
function totp(base32Secret: string, at = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = [...base32Secret.replace(/=+$/, "")].map((c) => alphabet.indexOf(c).toString(2).padStart(5, "0")).join("");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const digest = createHmac("sha1", key).update(counter).digest();
  const offset = digest[digest.length - 1]! & 0xf;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

// 1. register, sign in, three tasks, read back two at a time.
const alice = clientFor();
const refused = await register(alice.client, { username: names.alice, email: "not an address", password: names.alice });
assert.deepEqual(Object.keys(refused ?? {}).sort(), ["email", "password"]);
await signUpAndIn(alice, names.alice);
const stranger = clientFor();
assert.deepEqual(await login(stranger.client, stranger.session, { username: names.alice, password: "wrong" }), {
  status: "invalidCredentials",
});
for (const title of ["first", "second", "third"]) await createTask(alice.client, title);
const progress: number[] = [];
const tasks = await loadAllTasks(alice.client, 2, (loaded) => progress.push(loaded));
assert.deepEqual(tasks.map(taskTitle), ["third", "second", "first"]);
assert.deepEqual(progress, [2, 3]);
assert.equal(alice.count("Tasks"), 2);

// 2. two-factor login: OTP_REQUIRED, then OTP_INVALID, then a recovery code.
const carol = clientFor();
await signUpAndIn(carol, names.carol);
const { data: setup } = await carol.client.mutate({ mutation: SetupTotpDocument });
const { data: confirmed } = await carol.client.mutate({
  mutation: ConfirmTotpDocument,
  variables: { code: totp(setup!.setupTotp.secret), password },
});
await logout(carol.client, carol.session);
const carolLogin = { username: names.carol, password };
assert.deepEqual(await login(carol.client, carol.session, carolLogin), { status: "otpRequired" });
assert.deepEqual(await login(carol.client, carol.session, { ...carolLogin, otp: "000000x" }), { status: "otpInvalid" });
const recoveryCode = confirmed!.confirmTotp.recoveryCodes[0]!;
assert.equal((await login(carol.client, carol.session, { ...carolLogin, otp: recoveryCode })).status, "signedIn");

// 3. Someone else rotates alice's refresh token twice: the copy alice holds is now used up.
let stolen = alice.session.refreshToken!;
for (let i = 0; i < 2; i++) {
  const { data } = await postOperation(uri, RefreshTokenDocument, { refresh: stolen });
  stolen = data!.refreshToken.refresh;
}

// 4. Bob signs in, then everyone's access token expires.
const bob = clientFor();
await signUpAndIn(bob, names.bob);
await sleep((accessLifetimeSeconds + 1.5) * 1000);

// 5. Five operations at once with bob's expired token: each meets token_expired, one refresh
//    renews the session for all of them, and each is retried once.
const before = bob.sent.length;
const burst = await Promise.all([
  bob.client.query({ query: MeDocument, fetchPolicy: "network-only" }),
  bob.client.query({ query: TasksDocument, variables: { first: 1 }, fetchPolicy: "network-only" }),
  bob.client.query({ query: TasksDocument, variables: { first: 5 }, fetchPolicy: "network-only" }),
  createTask(bob.client, "bob's first"),
  createTask(bob.client, "bob's second"),
]);
assert.equal(burst[0].data!.me.username, names.bob);
const burstSent = bob.sent.slice(before);
assert.equal(burstSent.filter((name) => name === "RefreshToken").length, 1, `sent: ${burstSent}`);
assert.equal(burstSent.length, 11, `five refused, one refresh, five retried; sent: ${burstSent}`);
const bobTasks = await loadAllTasks(bob.client, 20);
assert.deepEqual(bobTasks.map(taskTitle).sort(), ["bob's first", "bob's second"]);

// 6. alice's refresh is refused (reuse of a consumed token revokes the session): she is
//    signed out, and the operation answers its original error.
const aliceRefreshes = alice.count("RefreshToken");
const expired = await errorOf(alice.client.query({ query: MeDocument, fetchPolicy: "network-only" }));
assert.equal(expired?.reason, "token_expired");
assert.equal(alice.session.signedIn, false);
assert.deepEqual(alice.signedOut, ["token_revoked"]);
assert.equal(alice.count("RefreshToken") - aliceRefreshes, 1);
const anonymous = await errorOf(alice.client.query({ query: MeDocument, fetchPolicy: "network-only" }));
assert.equal(anonymous?.reason, "missing_credentials");

// 7. bob signs out: his session is revoked on the server.
await logout(bob.client, bob.session);
assert.equal(bob.session.signedIn, false);

// 8. dave subscribes to his task events over the WebSocket. When his access token expires the
//    server closes the socket (4403, token_expired); the client refreshes once, for the socket
//    and the HTTP requests alike, reconnects with the new token, and the subscription goes on.
const dave = clientFor();
await signUpAndIn(dave, names.dave);
const closes: string[] = [];
dave.sockets.on("closed", (event) => {
  const { code, reason } = event as { code: number; reason: string };
  closes.push(`${code} ${reason}`);
});
const heard: string[] = [];
const live = watchTaskEvents(dave.client, (event) => heard.push(event.task ? taskTitle(event.task) : event.kind));
await untilHeard(dave, heard, "before expiry");
const refreshesBefore = dave.count("RefreshToken");
await sleep((accessLifetimeSeconds + 1.5) * 1000);
await untilHeard(dave, heard, "after expiry");
live.unsubscribe();
await dave.sockets.dispose();
assert.ok(closes.includes("4403 token_expired"), `closes: ${closes}`);

console.log(
  JSON.stringify({
    names,
    progress,
    burst: burstSent,
    refreshesInBurst: burstSent.filter((name) => name === "RefreshToken").length,
    aliceSignedOut: alice.signedOut,
    socketCloses: closes,
    refreshesAcrossExpiry: dave.count("RefreshToken") - refreshesBefore,
  }),
);
