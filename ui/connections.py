"""Connections in Settings: owners type a source's settings, test them, save them, remove them.

Saved values go to ``.streamlit/secrets.toml`` (data/secrets_file.py) and are
read by :func:`data.settings.setting` at its next call, so the scheduler,
the webhooks and Sync now use them at once. Secrets are never shown back:
a saved one appears masked. A value the environment sets wins over the
saved one, and the section says so.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

import streamlit as st

from data.secrets_file import SecretsFileError, update_secrets
from data.settings import BY_NAME, Setting, saved_value, setting, setting_origin

PENDING = "_settings_connection_actions"
NOTES = "_settings_connection_notes"

# Each setting's label in words; its variable name is in the field's help.
WORDS = {
    "SHOPIFY_STORE": "Store address", "SHOPIFY_ACCESS_TOKEN": "Admin API access token",
    "SHOPIFY_API_VERSION": "API version", "SHOPIFY_BULK_THRESHOLD": "Bulk read above (orders)",
    "SHOPIFY_WEBHOOK_SECRET": "Webhook signing secret",
    "WOOCOMMERCE_URL": "Site address", "WOOCOMMERCE_KEY": "Consumer key", "WOOCOMMERCE_SECRET": "Consumer secret",
    "WOOCOMMERCE_WEBHOOK_SECRET": "Webhook secret",
    "STRIPE_SECRET_KEY": "Secret API key", "STRIPE_API_BASE": "API address",
    "STRIPE_WEBHOOK_SECRET": "Webhook signing secret",
    "GA4_PROPERTY_ID": "Property id", "GA4_CREDENTIALS_FILE": "Service account key file",
    "GA4_STORE_ID": "Store measured", "GA4_REVISION_DAYS": "Days read again", "GA4_HISTORY_DAYS": "First sync reads (days)",
    "GA4_API_BASE": "API address",
    "META_ACCESS_TOKEN": "Access token", "META_AD_ACCOUNT_ID": "Ad account id", "META_STORE_ID": "Store advertised",
    "META_HISTORY_DAYS": "First sync reads (days)", "META_API_BASE": "API address",
    "PAYPAL_CLIENT_ID": "Client id", "PAYPAL_CLIENT_SECRET": "Client secret", "PAYPAL_API_BASE": "API address",
    "PAYPAL_STORE": "Payments of store",
    "SMTP_HOST": "Mail server", "SMTP_PORT": "Port", "SMTP_USER": "User name", "SMTP_PASSWORD": "Password",
    "SMTP_SECURITY": "Security (starttls, ssl or none)", "SMTP_FROM": "Sender address",
    "DIGEST_EMAIL_TO": "Send the digest to", "DIGEST_WEBHOOK_URL": "Digest webhook address",
    "OPENAI_API_KEY": "OpenAI API key", "OPENAI_BASE_URL": "OpenAI API address",
    "ANTHROPIC_API_KEY": "Anthropic API key", "ANTHROPIC_BASE_URL": "Anthropic API address",
}

Tester = Callable[[dict[str, str]], tuple[bool, str]]


def words(name: str) -> str:
    return WORDS.get(name, name.replace("_", " ").capitalize())


def in_words(sentence: str) -> str:
    """A connector's sentence with each variable name said in words (``set WOOCOMMERCE_URL`` → ``set the site
    address``), for the page where the fields carry those words."""
    sentence = sentence.replace(" (environment variables or .streamlit/secrets.toml)", "")
    for name in sorted(WORDS, key=len, reverse=True):
        label = WORDS[name]
        label = label[0].lower() + label[1:] if label[1:2].islower() else label
        sentence = re.sub(rf"(^|(?<=[\s,(]))`?{name}`?\b", "the " + label, sentence)
    return sentence[:1].upper() + sentence[1:]


def mask(value: str) -> str:
    """A saved secret as the page shows it: dots, and the last four characters of a long one."""
    return "••••" + value[-4:] if len(value) >= 16 else "••••••••"


def state_line(spec: Setting) -> str:
    """``**Consumer key**: saved ••••abcd`` — what is in use and where it comes from, never a secret."""
    origin = setting_origin(spec.name)
    label = f"**{words(spec.name)}**"
    if origin is None:
        return f"{label}: not set" + (f" (default {spec.default})" if spec.default else "")
    value = setting(spec.name) or ""
    shown = mask(value) if spec.secret else value
    if origin == "environment":
        where = f"set in the environment ({spec.name})"
        if saved_value(spec.name) is not None:
            where += ", which wins over the value saved here"
        return f"{label}: {shown} — {where}"
    return f"{label}: {shown} — saved"


def _field(form: str, name: str) -> str:
    return f"settings_{form}_{name}"


def _current(spec: Setting) -> str:
    """What a field starts with: the saved value of a plain setting (never the environment's, so that
    saving does not copy it into the file), nothing for a secret."""
    return "" if spec.secret else saved_value(spec.name) or ""


def _placeholder(spec: Setting) -> str:
    if spec.secret:
        return "set: leave empty to keep it" if setting_origin(spec.name) else "not set"
    if setting_origin(spec.name) == "environment":
        return f"{setting(spec.name)} (from the environment)"
    return f"default {spec.default}" if spec.default else ""


def _typed(form: str, specs: Sequence[Setting]) -> dict[str, str]:
    return {s.name: str(st.session_state.get(_field(form, s.name)) or "").strip() for s in specs}


def _reset_fields(form: str, specs: Sequence[Setting]) -> None:
    for spec in specs:
        st.session_state[_field(form, spec.name)] = _current(spec)


def _note(form: str, ok: bool, sentence: str) -> None:
    st.session_state.setdefault(NOTES, {}).setdefault(form, []).append((ok, sentence))


def _env_sentence(names: Sequence[str]) -> str | None:
    winning = [n for n in names if setting_origin(n) == "environment"]
    if not winning:
        return None
    return (f"The environment sets {', '.join(winning)}, which wins over this page: unset it there (and restart) "
            "for the saved value to apply.")


def _on_test(form: str, specs: Sequence[Setting]) -> None:
    """Keep the typed values for one test only (an empty field: the value in use)."""
    values = {name: v for name, v in _typed(form, specs).items() if v}
    for spec in specs:
        if spec.secret:
            st.session_state[_field(form, spec.name)] = ""
    st.session_state.setdefault(PENDING, {})[form] = values


def _on_save(form: str, specs: Sequence[Setting], label: str, tests: bool) -> None:
    typed = _typed(form, specs)
    values = {name: v for name, v in typed.items() if v}
    # an emptied plain field goes back to its default; an empty secret field keeps what is saved
    remove = [s.name for s in specs if not s.secret and not typed[s.name] and saved_value(s.name) is not None]
    try:
        path = update_secrets(values, remove)
    except SecretsFileError as exc:
        _note(form, False, str(exc))
        return
    _reset_fields(form, specs)
    changed = [words(n) for n in [*values, *remove]]
    _note(form, True, (f"Saved {label} to {path.parent.name}/{path.name}: " + ", ".join(changed).lower() +
                       ". The next sync and webhook use it, no restart needed.") if changed else
          "Nothing to save: every field is empty.")
    env = _env_sentence([*values, *remove])
    if env:
        _note(form, False, env)
    if tests and changed:
        st.session_state.setdefault(PENDING, {})[form] = {}


def _on_remove(form: str, specs: Sequence[Setting], label: str) -> None:
    names = [s.name for s in specs if saved_value(s.name) is not None]
    try:
        update_secrets(remove=names)
    except SecretsFileError as exc:
        _note(form, False, str(exc))
        return
    _reset_fields(form, specs)
    _note(form, True, f"Removed the saved {label} settings." if names else f"No {label} setting was saved here.")
    env = _env_sentence([s.name for s in specs])
    if env:
        _note(form, False, env)


def settings_form(form: str, label: str, specs: Sequence[Setting], tester: Tester | None = None) -> None:
    """The states, a form of the settings (Test, Save) and Remove, with the outcome of the last click."""
    st.markdown("\n".join(f"- {state_line(s)}" for s in specs))
    for spec in specs:
        st.session_state.setdefault(_field(form, spec.name), _current(spec))
    with st.form(f"settings_form_{form}", border=True):
        for spec in specs:
            help_text = f"{spec.help} Variable: `{spec.name}`."
            st.text_input(words(spec.name), key=_field(form, spec.name), help=help_text,
                          type="password" if spec.secret else "default", placeholder=_placeholder(spec))
        with st.container(horizontal=True, gap="small"):
            if tester is not None:
                st.form_submit_button("Test connection", icon=":material/cable:", on_click=_on_test,
                                      args=(form, specs))
            st.form_submit_button("Save", icon=":material/save:", type="primary", on_click=_on_save,
                                  args=(form, specs, label, tester is not None))
    if any(saved_value(s.name) is not None for s in specs):
        st.button(f"Remove the saved {label} settings", key=f"settings_remove_{form}", icon=":material/delete:",
                  on_click=_on_remove, args=(form, specs, label))
    for ok, sentence in st.session_state.get(NOTES, {}).pop(form, []):
        (st.success if ok else st.warning)(sentence, icon=":material/check_circle:" if ok else ":material/info:")
    pending = st.session_state.get(PENDING, {})
    if tester is not None and form in pending:
        values = pending.pop(form)
        with st.spinner(f"Connecting to {label}…"):
            ok, sentence = tester(values)
        sentence = in_words(sentence)
        (st.success if ok else st.error)(sentence, icon=":material/check_circle:" if ok else ":material/error:")


def specs_named(names: Sequence[str]) -> list[Setting]:
    return [BY_NAME[name] for name in names]
