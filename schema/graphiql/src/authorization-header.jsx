import { useEffect, useSyncExternalStore } from 'react';
import { useGraphiQL } from '@graphiql/react';

/** `headersText` (the headers editor's JSON) with Authorization set to `access`, or removed when it is null. */
function withAuthorization(headersText, access, session) {
  let headers;
  try {
    headers = headersText.trim() ? JSON.parse(headersText) : {};
  } catch {
    return null;
  }
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return null;
  const key = Object.keys(headers).find(name => name.toLowerCase() === 'authorization');
  if (access) {
    if (key) delete headers[key];
    headers.Authorization = `Bearer ${access}`;
  } else if (key && session.ownsAuthorization(headers[key])) {
    delete headers[key];
  } else {
    return headersText;
  }
  return JSON.stringify(headers, null, 2);
}

/** Keeps `Authorization: Bearer <access>` in the headers editor of the open tab while signed in. */
export function AuthorizationHeader({ session }) {
  const { access } = useSyncExternalStore(session.subscribe, session.getState);
  const headerEditor = useGraphiQL(state => state.headerEditor);
  // Only a new token (or signing out) rewrites the headers; typing in them does not.
  useEffect(() => {
    if (!headerEditor) return;
    const headersText = headerEditor.getValue();
    const next = withAuthorization(headersText, access, session);
    if (next === null) {
      session.report('The headers editor does not hold a JSON object, so Authorization could not be set there.');
    } else if (next !== headersText) {
      headerEditor.setValue(next);
    }
  }, [access, headerEditor, session]);
  return null;
}
