import { graphql, useFragment } from "react-relay";
import type { TaskItem_task$key } from "./__generated__/TaskItem_task.graphql";

export function TaskItem({ task }: { task: TaskItem_task$key }) {
  const { title, completed, createdAt } = useFragment(
    graphql`
      fragment TaskItem_task on Task {
        title
        completed
        createdAt
      }
    `,
    task,
  );
  return (
    <li>
      <input type="checkbox" checked={completed} readOnly /> {title} <time dateTime={createdAt}>{createdAt}</time>
    </li>
  );
}
