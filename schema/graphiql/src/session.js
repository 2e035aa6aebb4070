// The sign-in panel's session. Its tokens live in this module's memory only: never in
// localStorage, sessionStorage or a cookie, so closing or reloading the page forgets them.

const SIGN_IN = `mutation SignIn($username: String!, $password: String!, $otp: String) {
  tokenAuth(username: $username, password: $password, otp: $otp) { access refresh user { username } }
}`;
const REFRESH = `mutation RenewSignIn($refresh: String!) {
  refreshToken(refresh: $refresh) { access refresh user { username } }
}`;
const SIGN_OUT = `mutation SignOut($refresh: String!) { revokeToken(refresh: $refresh) { revoked } }`;

// An access token is replaced once this share of its lifetime has passed (after 4 of 5 minutes
// by default), leaving time for a slow network before the server would refuse it.
const REFRESH_AFTER_SHARE_OF_LIFETIME = 0.8;

const SESSION_ENDED = {
  token_expired: 'The session expired. Sign in again.',
  token_revoked:
    'The session was ended (signed out elsewhere, password changed, or its refresh token was used twice). Sign in again.',
  token_invalid: 'The server refused the refresh token. Sign in again.',
};

/** A sentence a person can act on, for an error of the API contract. */
export function describeError(error) {
  const { code, reason, retryAfter, fieldErrors } = error.extensions ?? {};
  switch (code) {
    case 'INVALID_CREDENTIALS':
      return 'Wrong username or password.';
    case 'OTP_REQUIRED':
      return 'This account has two-factor login: enter the code from your authenticator app, or a recovery code.';
    case 'OTP_INVALID':
      return 'That code is wrong, expired or already used.';
    case 'RATE_LIMITED':
      return `Too many attempts. Try again in ${retryAfter} seconds.`;
    case 'UNAUTHENTICATED':
      return SESSION_ENDED[reason] ?? error.message;
    case 'BAD_USER_INPUT':
      return fieldErrors ? Object.values(fieldErrors).flat().join(' ') : error.message;
    default:
      return code ? `${error.message} (${code})` : error.message;
  }
}

/** Seconds between a JWT's `iat` and `exp`, both set by the server's clock, so a wrong local clock does not matter. */
function lifetimeSeconds(jwt) {
  const payload = JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  return payload.exp - payload.iat;
}

export function createSession(endpoint) {
  let tokens = null; // { access, refresh, refreshDueAt } while signed in
  let refreshing = null; // the refresh in flight: there is never more than one
  let refreshTimer = null;
  // Every token this page was given, to recognise an Authorization header the panel wrote
  // (also a stale one in another tab) and to keep them all out of GraphiQL's storage.
  const issued = new Set();
  const listeners = new Set();
  let state = { status: 'signed-out', username: null, access: null, refreshDueAt: null, message: null, askForOtp: false };

  function update(changes) {
    state = { ...state, ...changes };
    listeners.forEach(listener => listener());
  }

  async function call(query, variables) {
    let response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
    } catch (failure) {
      throw new Error(`The server could not be reached (${failure.message}).`);
    }
    if (!response.ok) {
      throw new Error(`The server answered HTTP ${response.status}.`);
    }
    const { data, errors } = await response.json();
    return errors?.length ? { error: errors[0] } : { data };
  }

  function start({ access, refresh, user }) {
    issued.add(access).add(refresh);
    const refreshDueAt = Date.now() + lifetimeSeconds(access) * 1000 * REFRESH_AFTER_SHARE_OF_LIFETIME;
    tokens = { access, refresh, refreshDueAt };
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshAccessToken, refreshDueAt - Date.now());
    update({ status: 'signed-in', username: user.username, access, refreshDueAt, message: null, askForOtp: false });
  }

  function end(message) {
    clearTimeout(refreshTimer);
    tokens = null;
    update({ status: 'signed-out', username: null, access: null, refreshDueAt: null, message });
  }

  async function signIn({ username, password, otp }) {
    if (state.status !== 'signed-out') return;
    update({ status: 'signing-in', message: null });
    try {
      const { data, error } = await call(SIGN_IN, { username, password, otp: otp || null });
      if (data) return start(data.tokenAuth);
      const code = error.extensions?.code;
      update({
        status: 'signed-out',
        message: describeError(error),
        askForOtp: state.askForOtp || code === 'OTP_REQUIRED' || code === 'OTP_INVALID',
      });
    } catch (failure) {
      update({ status: 'signed-out', message: failure.message });
    }
  }

  function refreshAccessToken() {
    refreshing ??= rotate().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function rotate() {
    const current = tokens;
    if (!current) return;
    let outcome;
    try {
      outcome = await call(REFRESH, { refresh: current.refresh });
    } catch (failure) {
      outcome = { failure: `${failure.message} The access token could not be refreshed. Sign in again.` };
    }
    if (tokens !== current) return; // signed out meanwhile
    if (outcome.data) start(outcome.data.refreshToken);
    else end(outcome.failure ?? describeError(outcome.error));
  }

  async function signOut() {
    if (state.status !== 'signed-in') return;
    update({ status: 'signing-out' });
    await refreshing; // revoke the newest refresh token, not the one a refresh is consuming
    if (!tokens) return; // that refresh failed and already signed out
    let message = null;
    try {
      await call(SIGN_OUT, { refresh: tokens.refresh });
    } catch (failure) {
      message = `Signed out here, but the server was not told: ${failure.message}`;
    }
    end(message);
  }

  return {
    signIn,
    signOut,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getState: () => state,
    /** Whether an Authorization header value is the panel's: `Bearer` with a token it issued, or with none. */
    ownsAuthorization(value) {
      const token = /^Bearer\s*(\S*)$/.exec(value ?? '')?.[1];
      return token !== undefined && (token === '' || issued.has(token));
    },
    /** The access token to send now, after the refresh that is due (or in flight) has finished. */
    async currentAccessToken() {
      if (tokens && Date.now() >= tokens.refreshDueAt) refreshAccessToken();
      await refreshing;
      return tokens?.access ?? null;
    },
    /** `text` with every token of this page removed (for anything GraphiQL writes to localStorage). */
    redact(text) {
      let redacted = text;
      issued.forEach(token => {
        redacted = redacted.split(token).join('');
      });
      return redacted;
    },
    /** Tells the person something about the session, e.g. that the headers could not be updated. */
    report(message) {
      update({ message });
    },
  };
}
