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
import { closeSockets } from "../../common/live.js";
import { login, logout, MeDocument, register } from "./account.js";
import { browserLogin, browserLogout } from "./browser.js";
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
const names = {
  alice: `alice-${run}`,
  bob: `bob-${run}`,
  carol: `carol-${run}`,
  dave: `dave-${run}`,
  erin: `erin-${run}`,
};

/**
 * What a browser adds that Node's fetch does not: the page's Origin on every request, and a
 * cookie jar for requests with `credentials: "include"`. Tabs given the same jar share its cookies.
 */
function browserFetch(jar: Map<string, string>): typeof fetch {
  const origin = new URL(uri).origin; // the page is served by the API's own origin
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("Origin", origin);
    const withCookies = init?.credentials === "include";
    if (withCookies && jar.size > 0) headers.set("Cookie", [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
    const response = await fetch(input, { ...init, headers });
    for (const line of withCookies ? response.headers.getSetCookie() : []) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1).replace(/^""$/, "");
      const expired = attributes.some((attribute) => attribute.toLowerCase() === "max-age=0");
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
}

/**
 * A client of its own for one user, which counts the operations it sends by name. With a cookie
 * jar it is a browser tab that keeps the refresh token in the server's cookie.
 */
function clientFor(cookieJar?: Map<string, string>) {
  const sent: string[] = [];
  const signedOut: string[] = [];
  const network = cookieJar ? browserFetch(cookieJar) : fetch;
  const countingFetch: typeof fetch = (input, init) => {
    sent.push(JSON.parse(String(init?.body)).operationName);
    return network(input, init);
  };
  const { client, session, sockets } = createClient({
    uri,
    fetch: countingFetch,
    refreshCookie: cookieJar !== undefined,
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
  stolen = data!.refreshToken.refresh!;
}

// 4. Bob signs in; dave signs in from a browser, the refresh token in an HttpOnly cookie that
//    the page never sees. Then everyone's access token expires.
const bob = clientFor();
await signUpAndIn(bob, names.bob);
const daveCookies = new Map<string, string>();
const dave = clientFor(daveCookies);
assert.equal(await register(dave.client, { username: names.dave, email: `${names.dave}@example.com`, password }), null);
const daveLogin = { username: names.dave, password };
assert.deepEqual(await browserLogin(dave.client, dave.session, daveLogin), { status: "signedIn", username: names.dave });
assert.equal(dave.session.refreshToken, null);
assert.equal(daveCookies.size, 1);
const firstCookie = [...daveCookies.values()][0];
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

// 5b. The same for dave's tab: three operations at once, one refresh from the cookie, which
//     the server rotated. Then two more tabs open together: each has no access token yet, and
//     both trade the same cookie at once; the server's retry grace gives both the same new one.
const daveBefore = dave.sent.length;
await Promise.all([
  dave.client.query({ query: MeDocument, fetchPolicy: "network-only" }),
  dave.client.query({ query: TasksDocument, variables: { first: 1 }, fetchPolicy: "network-only" }),
  createTask(dave.client, "dave's first"),
]);
const daveBurst = dave.sent.slice(daveBefore);
assert.equal(daveBurst.filter((name) => name === "BrowserRefresh").length, 1, `sent: ${daveBurst}`);
assert.notEqual([...daveCookies.values()][0], firstCookie);
const tabs = [clientFor(daveCookies), clientFor(daveCookies)];
assert.deepEqual(await Promise.all(tabs.map((tab) => tab.session.resume())), [true, true]);
assert.deepEqual(tabs.map((tab) => tab.sent), [["BrowserRefresh"], ["BrowserRefresh"]]);
assert.equal(daveCookies.size, 1);
for (const tab of [dave, ...tabs]) {
  const { data } = await tab.client.query({ query: MeDocument, fetchPolicy: "network-only" });
  assert.equal(data!.me.username, names.dave);
}

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

// 7. bob signs out: his session is revoked on the server. dave signs out in one tab: the
//    server revokes the session and clears the cookie, and his other tabs are signed out at their
//    next request; a tab opened later has no session to resume.
await logout(bob.client, bob.session);
assert.equal(bob.session.signedIn, false);
await browserLogout(tabs[0]!.client, tabs[0]!.session);
assert.equal(daveCookies.size, 0);
const revoked = await errorOf(dave.client.query({ query: MeDocument, fetchPolicy: "network-only" }));
assert.equal(revoked?.reason, "token_revoked");
assert.deepEqual(dave.signedOut, ["token_revoked"]);
assert.equal(await clientFor(daveCookies).session.resume(), false);

// 8. erin subscribes to her task events over the WebSocket. When her access token expires the
//    server closes the socket (4403, token_expired); the client refreshes once, for the socket
//    and the HTTP requests alike, reconnects with the new token, and the subscription goes on.
const erin = clientFor();
await signUpAndIn(erin, names.erin);
const closes: string[] = [];
erin.sockets.on("closed", (event) => {
  const { code, reason } = event as { code: number; reason: string };
  closes.push(`${code} ${reason}`);
});
const heard: string[] = [];
const live = watchTaskEvents(erin.client, (event) => heard.push(event.task ? taskTitle(event.task) : event.kind));
await untilHeard(erin, heard, "before expiry");
const refreshesBefore = erin.count("RefreshToken");
await sleep((accessLifetimeSeconds + 1.5) * 1000);
await untilHeard(erin, heard, "after expiry");
live.unsubscribe();
await closeSockets(erin.sockets);
assert.ok(closes.includes("4403 token_expired"), `closes: ${closes}`);

console.log(
  JSON.stringify({
    names,
    progress,
    burst: burstSent,
    refreshesInBurst: burstSent.filter((name) => name === "RefreshToken").length,
    aliceSignedOut: alice.signedOut,
    cookieRefreshesInBurst: daveBurst.filter((name) => name === "BrowserRefresh").length,
    socketCloses: closes,
    refreshesAcrossExpiry: erin.count("RefreshToken") - refreshesBefore,
  }),
);
