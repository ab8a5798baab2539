"""The honest page for a part of the app that is not built yet: what it will
answer and hold, and no figures at all."""

from __future__ import annotations

from typing import Sequence

import streamlit as st


def planned_page(title: str, question: str, planned: Sequence[str]) -> None:
    """Title, the question the page will answer, a notice that it shows no figures yet, and what will be there."""
    st.title(title)
    st.caption(question)
    st.info(f"{title} is not built yet, so this page shows no figures. The Sales, Orders and Products pages "
            "are ready.", icon=":material/construction:")
    st.markdown("**What will be here**\n\n" + "\n".join(f"- {item}" for item in planned))
