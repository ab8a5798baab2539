"""Login: the users file, roles, the cookie key and slowing repeated failed logins.

Nothing here imports Streamlit; ``ui/login.py`` draws the login form and the
sidebar's logout on top of it, and ``python -m auth`` manages users from a shell.
"""
