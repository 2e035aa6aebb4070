"""The codenames (Django permissions, "app_label.codename") that the tasks app's rules, selectors
and services ask for: each spelled once, here."""

VIEW_TASK = "tasks.view_task"  # every task (tasks.selectors.can_see_all_tasks)
CHANGE_TASK = "tasks.change_task"  # updateTask on any task; changing implies reading every task
DELETE_TASK = "tasks.delete_task"  # deleteTask on any task
