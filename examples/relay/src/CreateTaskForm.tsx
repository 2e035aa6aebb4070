import { useState } from "react";
import { graphql, useMutation } from "react-relay";
import type { CreateTaskFormMutation } from "./__generated__/CreateTaskFormMutation.graphql";

/** Adds a task and puts it at the top of the list (`connection` is the list's __id). */
export function CreateTaskForm({ connection }: { connection: string }) {
  const [title, setTitle] = useState("");
  const [commit, isInFlight] = useMutation<CreateTaskFormMutation>(graphql`
    mutation CreateTaskFormMutation($input: CreateTaskInput!, $connections: [ID!]!) {
      createTask(input: $input) @prependNode(connections: $connections, edgeTypeName: "TaskEdge") {
        id
        ...TaskItem_task
      }
    }
  `);
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        commit({ variables: { input: { title }, connections: [connection] }, onCompleted: () => setTitle("") });
      }}
    >
      <input value={title} onChange={(event) => setTitle(event.target.value)} placeholder="New task" />
      <button disabled={isInFlight || title.trim() === ""}>Add</button>
    </form>
  );
}
