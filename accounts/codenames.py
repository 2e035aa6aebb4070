"""The codenames (Django permissions, "app_label.codename") that the accounts app's rules,
selectors, services and admin ask for: each spelled once, here."""

VIEW_USER = "accounts.view_user"  # every user: `users`, `node` and `email` of other users
CHANGE_USER = "accounts.change_user"  # setUserRoles
VIEW_AUDIT_EVENT = "accounts.view_auditevent"  # auditEvents
CHANGE_API_KEY = "accounts.change_apikey"  # the admin's action that revokes API keys
