"""Saving settings into secrets.toml: other keys, tables and comments kept, mode 0600, read again at once."""

from __future__ import annotations

import stat
import tomllib

import pytest

from data import settings
from data.secrets_file import SecretsFileError, edited_text, toml_string, update_secrets


@pytest.fixture
def secrets_path(tmp_path, monkeypatch):
    path = tmp_path / ".streamlit" / "secrets.toml"
    monkeypatch.setattr(settings, "SECRETS_PATH", path)
    monkeypatch.delenv("WOOCOMMERCE_URL", raising=False)
    monkeypatch.delenv("WOOCOMMERCE_KEY", raising=False)
    return path


EXISTING = """\
# Signs login cookies.
AUTH_COOKIE_KEY = "cookie-key-kept"
WOOCOMMERCE_URL = 'https://old.example'

[connections.other]
url = "kept"
"""


def test_set_and_remove_keep_the_rest_of_the_file(secrets_path):
    secrets_path.parent.mkdir()
    secrets_path.write_text(EXISTING)
    assert settings.setting("WOOCOMMERCE_URL") == "https://old.example"

    update_secrets({"WOOCOMMERCE_URL": "https://shop.example", "WOOCOMMERCE_KEY": 'ck_"quoted"\\1'})
    text = secrets_path.read_text()
    assert "# Signs login cookies." in text and "old.example" not in text
    assert tomllib.loads(text) == {"AUTH_COOKIE_KEY": "cookie-key-kept", "WOOCOMMERCE_URL": "https://shop.example",
                                   "WOOCOMMERCE_KEY": 'ck_"quoted"\\1', "connections": {"other": {"url": "kept"}}}
    assert stat.S_IMODE(secrets_path.stat().st_mode) == 0o600
    assert settings.setting("WOOCOMMERCE_KEY") == 'ck_"quoted"\\1'
    assert list(secrets_path.parent.iterdir()) == [secrets_path]  # no temporary file left behind

    update_secrets(remove=["WOOCOMMERCE_KEY", "WOOCOMMERCE_URL"])
    assert tomllib.loads(secrets_path.read_text()) == {"AUTH_COOKIE_KEY": "cookie-key-kept",
                                                       "connections": {"other": {"url": "kept"}}}
    assert settings.setting("WOOCOMMERCE_URL") is None and settings.setting_origin("WOOCOMMERCE_KEY") is None


def test_a_new_file_is_created_owner_only(secrets_path):
    update_secrets({"STRIPE_SECRET_KEY": "sk_test_1"})
    assert secrets_path.read_text() == 'STRIPE_SECRET_KEY = "sk_test_1"\n'
    assert stat.S_IMODE(secrets_path.stat().st_mode) == 0o600


def test_a_change_made_by_another_process_is_read_at_the_next_call(secrets_path):
    secrets_path.parent.mkdir()
    secrets_path.write_text('WOOCOMMERCE_URL = "https://one.example"\n')
    assert settings.setting("WOOCOMMERCE_URL") == "https://one.example"
    secrets_path.write_text('WOOCOMMERCE_URL = "https://second.example"\n')  # no cache_clear: the stat tells
    assert settings.setting("WOOCOMMERCE_URL") == "https://second.example"


@pytest.mark.parametrize("value", ['a"b', "back\\slash", "two\nlines", "tab\there", "ünïcödé €", "\x7fdel", ""],
                         ids=["quote", "backslash", "newline", "tab", "unicode", "control character", "empty"])
def test_values_are_written_as_toml_strings(value):
    assert tomllib.loads(f"K = {toml_string(value)}") == {"K": value}


@pytest.mark.parametrize(("text", "message"), [
    ('SMTP_FROM = """shop@example.com\nWOOCOMMERCE_URL = looks like a key"""\n', "cannot edit safely"),
    ("WOOCOMMERCE_URL = [\n'a',\n]\n", "a table or a list"),
    ("not toml at all = = =\n", "is not valid TOML"),
], ids=["a multi-line string", "a list", "not TOML"])
def test_a_file_the_app_cannot_edit_safely_is_left_alone(secrets_path, text, message):
    secrets_path.parent.mkdir()
    secrets_path.write_text(text)
    with pytest.raises(SecretsFileError, match=message):
        update_secrets({"WOOCOMMERCE_URL": "https://shop.example"})
    assert secrets_path.read_text() == text


def test_only_settings_of_the_app_are_written(secrets_path):
    with pytest.raises(SecretsFileError, match="NOT_A_SETTING is not a setting"):
        update_secrets({"NOT_A_SETTING": "x"})
    assert not secrets_path.exists()


def test_a_key_before_a_table_stays_at_the_top_level():
    text = edited_text('[server]\nport = 1\n', {"SMTP_HOST": "mail.example"})
    assert tomllib.loads(text) == {"SMTP_HOST": "mail.example", "server": {"port": 1}}


def test_a_webhook_secret_saved_while_the_receiver_runs_applies_to_the_next_delivery(wh, secrets_path, monkeypatch):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from connectors.webhooks import webhook_routes
    from tests.emulators.woocommerce import WooEmulator, webhook_delivery

    monkeypatch.delenv("WOOCOMMERCE_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("WOOCOMMERCE_SECRET", raising=False)
    with WooEmulator() as emu, TestClient(Starlette(routes=webhook_routes(lambda: wh))) as client:
        headers, body = webhook_delivery(emu, "customer.deleted", {"id": 42}, "saved-on-the-page")
        refused = client.post("/webhooks/woocommerce", content=body, headers=headers)
        assert refused.status_code == 503
        update_secrets({"WOOCOMMERCE_WEBHOOK_SECRET": "saved-on-the-page"})
        accepted = client.post("/webhooks/woocommerce", content=body, headers=headers)
    assert (accepted.status_code, accepted.text) == (200, "applied")


def test_a_linked_file_is_replaced_where_it_lives_and_the_link_stays(tmp_path, monkeypatch):
    volume = tmp_path / "data"
    volume.mkdir()
    link = tmp_path / "app" / ".streamlit" / "secrets.toml"
    link.parent.mkdir(parents=True)
    link.symlink_to(volume / "secrets.toml")  # dangling until the first write, as in the container
    monkeypatch.setattr(settings, "SECRETS_PATH", link)
    update_secrets({"SMTP_HOST": "mail.example"})
    assert link.is_symlink() and (volume / "secrets.toml").read_text() == 'SMTP_HOST = "mail.example"\n'
    assert stat.S_IMODE((volume / "secrets.toml").stat().st_mode) == 0o600
    assert settings.setting("SMTP_HOST") == "mail.example"
    assert sorted(p.name for p in link.parent.iterdir()) == ["secrets.toml"]
