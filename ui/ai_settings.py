"""The AI insights part of Settings: who writes the summaries, with which model, and a one-sentence test.

The choice is saved in the warehouse (``app_settings``: ``insights.provider``,
``insights.openai_model``, ``insights.anthropic_model``). Keys are deployment
settings, saved to ``.streamlit/secrets.toml`` by the form of
``ui/connections.py`` (the environment wins); a key is never shown back.
"""

from __future__ import annotations

import streamlit as st

from analytics.insights.providers import LABELS, PROVIDERS, check_provider, provider_config
from analytics.insights.service import MODEL_CHOICES, PROVIDER_CHOICE, chosen_model, chosen_provider
from data.app_settings import set_choice
from ui.connections import settings_form, specs_named
from ui.errors import section

KEY_FORM = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")


def ai_settings_section(wh) -> None:
    """Draw the section (a subheader, the choice, the key states, Save and Test)."""
    st.subheader("AI insights")
    with section("The AI insights settings"):
        st.caption("Who writes the summaries on the Insights page and in the Explain panels. OpenAI and Anthropic "
                   "receive only the computed figures, never customer names, emails or addresses; the offline "
                   "writer keeps everything on this machine. Their keys are saved below.")
        current = chosen_provider(wh)
        provider = st.radio("Writer", PROVIDERS, index=PROVIDERS.index(current), format_func=LABELS.get,
                            horizontal=True, key="ai_settings_provider")
        models = {}
        for name in ("openai", "anthropic"):
            models[name] = st.text_input(f"{LABELS[name]} model", value=chosen_model(wh, name),
                                         key=f"ai_settings_{name}_model",
                                         help=f"Default from the {name.upper()}_MODEL setting.").strip()
        with st.container(horizontal=True, gap="small"):
            save = st.button("Save", key="ai_settings_save", icon=":material/save:")
            test = st.button("Test", key="ai_settings_test", icon=":material/cable:",
                             help="Sends one tiny request (no store data) to the chosen writer.")
        if save:
            set_choice(wh, PROVIDER_CHOICE, provider)
            for name, model in models.items():
                if model:
                    set_choice(wh, MODEL_CHOICES[name], model)
            shown = LABELS[provider] + (f" ({models[provider]})" if provider != "offline" else "")
            st.success(f"Saved: summaries are now written by {shown}.", icon=":material/check_circle:")
        if test:
            if provider == "offline":
                st.success("The offline writer needs no key: it writes from the figures on this machine.",
                           icon=":material/check_circle:")
            else:
                with st.spinner(f"Asking {LABELS[provider]}…"):
                    ok, sentence = check_provider(provider_config(provider, models[provider] or None))
                (st.success if ok else st.error)(sentence, icon=":material/check_circle:" if ok else ":material/error:")
        st.markdown("**Keys**")
        settings_form("ai", "AI", specs_named(KEY_FORM))
