"""The docs stay true: the schema doc matches the warehouse, every setting is in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from data.schema_doc import DOC, updated_document
from data.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def test_generated_schema_doc_is_up_to_date():
    text = DOC.read_text()
    assert updated_document(text) == text, "run: python -m data.schema_doc"


def _contract_columns() -> list[tuple[str, str]]:
    """(table, column) pairs named in the contract table of docs/SCHEMA.md."""
    pairs = []
    for line in DOC.read_text().split("## Normalized values")[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("table", "---") or not re.fullmatch(r"[a-z_]+", cells[0]):
            continue
        table, key, columns = cells
        named = re.sub(r"\([^)]*\)", "", f"{key}, {columns}")
        for part in named.split(","):
            word = part.strip().split(" ")[0].strip("`")
            if re.fullmatch(r"[a-z_]+", word):
                pairs.append((table, word))
    return pairs


def test_every_contract_column_exists(wh):
    pairs = _contract_columns()
    assert len(pairs) > 150
    missing = [f"{t}.{c}" for t, c in pairs if c not in wh.columns(t)]
    assert not missing


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_every_setting_is_documented_in_the_readme(name):
    assert f"`{name}`" in (ROOT / "README.md").read_text(), f"README lacks the setting {name}"


def test_settings_table_and_secrets_example_are_up_to_date():
    from data.settings import secrets_example, settings_table

    assert settings_table() in (ROOT / "README.md").read_text(), "run: python -m data.settings"
    assert (ROOT / ".streamlit" / "secrets.example.toml").read_text() == secrets_example()
