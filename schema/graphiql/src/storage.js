/**
 * localStorage for GraphiQL's tabs and history, with the session's tokens taken out of
 * whatever it writes: the history plugin stores each operation's headers even when
 * headers are not persisted, and tokens must stay in memory.
 */
export function tokenFreeStorage(session) {
  const prefix = 'graphiql:';
  return {
    getItem: key => localStorage.getItem(key),
    setItem: (key, value) => localStorage.setItem(key, session.redact(value)),
    removeItem: key => localStorage.removeItem(key),
    get length() {
      return Object.keys(localStorage).filter(key => key.startsWith(prefix)).length;
    },
    clear() {
      Object.keys(localStorage)
        .filter(key => key.startsWith(prefix))
        .forEach(key => localStorage.removeItem(key));
    },
  };
}
