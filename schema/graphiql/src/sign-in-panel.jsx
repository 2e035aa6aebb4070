import { useId, useState, useSyncExternalStore } from 'react';

function KeyIcon() {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <circle cx="8" cy="15" r="4" />
      <path d="M10.8 12.2 20 3m-4 4 3 3m-5-1 2 2" strokeLinecap="round" />
    </svg>
  );
}

function Field({ label, hint, ...input }) {
  const id = useId();
  return (
    <div className="sign-in-field">
      <label htmlFor={id}>{label}</label>
      <input id={id} {...input} />
      {hint && <small>{hint}</small>}
    </div>
  );
}

function SignInForm({ session, state }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const busy = state.status === 'signing-in';
  function submit(event) {
    event.preventDefault();
    session.signIn({ username, password, otp: otp.trim() });
  }
  return (
    <form onSubmit={submit}>
      <Field label="Username" name="username" autoComplete="username" required value={username}
        onChange={event => setUsername(event.target.value)} />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required
        value={password} onChange={event => setPassword(event.target.value)} />
      <Field label="One-time code" name="otp" autoComplete="one-time-code" value={otp}
        onChange={event => setOtp(event.target.value)} autoFocus={state.askForOtp}
        hint={state.askForOtp ? 'Required for this account.' : 'Only if two-factor login is on.'} />
      <button className="graphiql-button" type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function SignedIn({ session, state }) {
  const refreshAt = new Date(state.refreshDueAt).toLocaleTimeString();
  return (
    <>
      <p role="status">
        Signed in as <strong>{state.username}</strong>.
      </p>
      <p>
        The headers carry <code>Authorization: Bearer …</code>. Next refresh of the access token: {refreshAt}.
      </p>
      <button className="graphiql-button" type="button" disabled={state.status === 'signing-out'}
        onClick={() => session.signOut()}>
        {state.status === 'signing-out' ? 'Signing out…' : 'Sign out'}
      </button>
    </>
  );
}

function SignInPanel({ session }) {
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const signedIn = state.status === 'signed-in' || state.status === 'signing-out';
  return (
    <section className="sign-in-panel" aria-label="Sign in">
      <div className="graphiql-doc-explorer-title">{signedIn ? 'Session' : 'Sign in'}</div>
      {state.message && <p className="sign-in-message" role="alert">{state.message}</p>}
      {signedIn ? <SignedIn session={session} state={state} /> : <SignInForm session={session} state={state} />}
      <p className="sign-in-note">Tokens stay in this page's memory: reloading it signs you out here.</p>
    </section>
  );
}

/** The GraphiQL plugin: a sidebar button and the panel it opens. */
export function signInPlugin(session) {
  return {
    title: 'Sign in',
    icon: KeyIcon,
    content: () => <SignInPanel session={session} />,
  };
}
