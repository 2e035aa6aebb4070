import { graphql, usePaginationFragment } from "react-relay";
import type { TaskList_query$key } from "./__generated__/TaskList_query.graphql";
import { CreateTaskForm } from "./CreateTaskForm";
import { TaskItem } from "./TaskItem";

const PAGE_SIZE = 2;

/** The viewer's tasks, PAGE_SIZE at a time: Relay follows pageInfo.endCursor for loadNext. */
export function TaskList({ query }: { query: TaskList_query$key }) {
  const { data, loadNext, hasNext, isLoadingNext } = usePaginationFragment(
    graphql`
      fragment TaskList_query on Query
      @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" })
      @refetchable(queryName: "TaskListPaginationQuery") {
        tasks(first: $count, after: $cursor) @connection(key: "TaskList_tasks") {
          __id
          totalCount
          edges {
            node {
              id
              ...TaskItem_task
            }
          }
        }
      }
    `,
    query,
  );
  return (
    <section>
      <h2>{data.tasks.totalCount} tasks</h2>
      <CreateTaskForm connection={data.tasks.__id} />
      <ul>
        {data.tasks.edges.map(({ node }) => (
          <TaskItem key={node.id} task={node} />
        ))}
      </ul>
      {hasNext && (
        <button disabled={isLoadingNext} onClick={() => loadNext(PAGE_SIZE)}>
          Load more
        </button>
      )}
    </section>
  );
}
