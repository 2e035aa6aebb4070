import { Suspense, useState } from "react";
import { graphql, RelayEnvironmentProvider, useLazyLoadQuery } from "react-relay";
import { explain } from "../../common/errors.js";
import { login, logout } from "./account";
import type { AppQuery } from "./__generated__/AppQuery.graphql";
import { createEnvironment } from "./environment";
import { TaskList } from "./TaskList";

const GRAPHQL_URL = "/graphql/";

function Tasks() {
  const data = useLazyLoadQuery<AppQuery>(
    graphql`
      query AppQuery {
        me {
          username
        }
        ...TaskList_query
      }
    `,
    {},
  );
  return (
    <main>
      <p>Signed in as {data.me.username}</p>
      <TaskList query={data} />
    </main>
  );
}

/** Username and password; a second step asks for the one-time code when the account needs one. */
function SignIn({ onSubmit }: { onSubmit: (username: string, password: string, otp: string | null) => Promise<string | null> }) {
  const [needsCode, setNeedsCode] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  return (
    <form
      onSubmit={async (event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        const otp = needsCode ? String(form.get("otp")) : null;
        const problem = await onSubmit(String(form.get("username")), String(form.get("password")), otp);
        setNeedsCode(needsCode || problem === "otp");
        setMessage(problem === "otp" ? explain({ code: "OTP_REQUIRED", message: "", path: [] }) : problem);
      }}
    >
      <input name="username" autoComplete="username" />
      <input name="password" type="password" autoComplete="current-password" />
      {needsCode && <input name="otp" inputMode="numeric" autoComplete="one-time-code" />}
      <button>Sign in</button>
      {message && <p role="alert">{message}</p>}
    </form>
  );
}

export function App() {
  const [signedOutBecause, setSignedOutBecause] = useState<string | null>(null);
  // A new environment (and so an empty store) for every session: nothing of the last user stays.
  const [{ environment, session }, setClient] = useState(() => createEnvironment(GRAPHQL_URL, setSignedOutBecause));
  const [signedIn, setSignedIn] = useState(false);

  if (!signedIn || !session.signedIn) {
    return (
      <>
        {signedOutBecause && <p>Your session has ended; please sign in again.</p>}
        <SignIn
          onSubmit={async (username, password, otp) => {
            const result = await login(GRAPHQL_URL, session, { username, password, otp });
            switch (result.status) {
              case "signedIn":
                setSignedOutBecause(null);
                setSignedIn(true);
                return null;
              case "otpRequired":
                return "otp";
              case "otpInvalid":
                return explain({ code: "OTP_INVALID", message: "", path: [] });
              case "invalidCredentials":
                return explain({ code: "INVALID_CREDENTIALS", message: "", path: [] });
              case "rateLimited":
                return explain({ code: "RATE_LIMITED", message: "", path: [], retryAfter: result.retryAfter });
            }
          }}
        />
      </>
    );
  }
  return (
    <RelayEnvironmentProvider environment={environment}>
      <button
        onClick={async () => {
          await logout(GRAPHQL_URL, session);
          setClient(createEnvironment(GRAPHQL_URL, setSignedOutBecause));
          setSignedIn(false);
        }}
      >
        Sign out
      </button>
      <Suspense fallback={<p>Loading…</p>}>
        <Tasks />
      </Suspense>
    </RelayEnvironmentProvider>
  );
}
