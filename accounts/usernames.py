"""The one form in which usernames are compared: uniqueness, login and the per-username rate limit.

A username is stored NFKC-normalized, as Django's forms and create_user leave it, so that
fullwidth `ａｄｍｉｎ` is stored as `admin`. Two usernames are the same when their canonical forms
are: NFKC, case-folded, NFKC again (Unicode's NFKC_Casefold without its removal of ignorable
characters, which no valid username holds). Case folding, unlike lower(), also matches `STRASSE`
and `straße`, and it folds every script, where SQLite's lower() folds ASCII only.
"""

import unicodedata


def normalized(username):
    return unicodedata.normalize("NFKC", username)


def canonical(username):
    return unicodedata.normalize("NFKC", normalized(username).casefold())
