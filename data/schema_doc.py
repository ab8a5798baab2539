"""Write the generated part of docs/SCHEMA.md from the migrations.

``python -m data.schema_doc`` rewrites the section between the
``generated`` markers; ``render()`` is what a test compares with the file.
"""

from __future__ import annotations

from pathlib import Path

from data.warehouse import connect

DOC = Path(__file__).resolve().parent.parent / "docs" / "SCHEMA.md"
START, END = "<!-- generated:start -->", "<!-- generated:end -->"


def render() -> str:
    wh = connect("duckdb:///:memory:")
    try:
        rows = wh.rows(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name <> 'schema_migrations' "
            "ORDER BY table_name, ordinal_position"
        )
    finally:
        wh.close()
    from data.keys import TABLE_KEYS

    out = ["## Generated from the migrations", ""]
    current = None
    for table, column, dtype, nullable in rows:
        if table != current:
            current = table
            keys = ", ".join(TABLE_KEYS.get(table, ()))
            out += ["", f"### {table}", "", f"Key: {keys}", "", "| column | type | null |", "| --- | --- | --- |"]
        out.append(f"| {column} | {dtype} | {'yes' if nullable == 'YES' else 'no'} |")
    return "\n".join(out).strip() + "\n"


def updated_document(text: str) -> str:
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{render()}{END}{after}"


if __name__ == "__main__":
    DOC.write_text(updated_document(DOC.read_text()))
    print(f"wrote {DOC}")
