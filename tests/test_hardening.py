"""Hardening checks: Streamlit's XSRF and CORS protection, secrets kept out of logs, CSV exports
neutralized, and the container recipe (Dockerfile, compose, Render) read for its essentials.

The container files are parsed, not built (Docker does not run where the tests run): what is
checked is what each file says, and that the image's system packages come from the same
script CI runs.
"""

from __future__ import annotations

import logging
import re

import polars as pl
import pytest
import yaml

from tests.app_support import ROOT

SECRET = "wc-secret-4f1b8a-never-in-a-log"


# -- Streamlit's own protections ----------------------------------------------

def test_xsrf_and_cors_protection_are_on_in_the_effective_config(monkeypatch):
    from streamlit import config

    monkeypatch.chdir(ROOT)  # streamlit reads ./.streamlit/config.toml
    for name in list(__import__("os").environ):
        if name.startswith("STREAMLIT_SERVER_"):
            monkeypatch.delenv(name)
    try:
        config.get_config_options(force_reparse=True)
        assert config.get_option("server.enableXsrfProtection") is True
        assert config.get_option("server.enableCORS") is True
        assert config.get_option("server.enableXsrfProtection") is True  # not weakened by the CORS option
    finally:
        config.get_config_options(force_reparse=True)
    text = (ROOT / ".streamlit" / "config.toml").read_text()
    assert re.search(r"^enableXsrfProtection\s*=\s*true$", text, re.M)
    assert re.search(r"^enableCORS\s*=\s*true$", text, re.M)


# -- secrets never logged -----------------------------------------------------

@pytest.fixture
def woo_secret_env(monkeypatch):
    from tests.emulators.woocommerce import WooEmulator
    from tests.test_woocommerce import build_store

    monkeypatch.setattr("data.settings._secrets", lambda: {})
    with WooEmulator(timezone="Europe/Berlin", currency="USD", name="Emulated Shop") as emu:
        build_store(emu)
        emu.secret = SECRET
        monkeypatch.setenv("WOOCOMMERCE_URL", emu.url)
        monkeypatch.setenv("WOOCOMMERCE_KEY", emu.key)
        monkeypatch.setenv("WOOCOMMERCE_SECRET", SECRET)
        yield emu


def test_no_log_line_or_output_holds_a_secret_during_connection_tests_and_a_sync(
        woo_secret_env, wh_duckdb, caplog, capfd):
    from connectors.sync.status import sync_platform, test_connection

    caplog.set_level(logging.DEBUG)  # everything any library logs, urllib3's requests included
    ok, sentence = test_connection("woocommerce", {})
    assert ok, sentence
    refused, refused_sentence = test_connection("woocommerce", {"WOOCOMMERCE_SECRET": SECRET + "-typo"})
    assert not refused
    results = sync_platform(wh_duckdb, "woocommerce")
    assert sum(r.rows_read for r in results) > 0
    out, err = capfd.readouterr()
    for text in (caplog.text, out, err, sentence, refused_sentence):
        assert SECRET not in text
    assert any("woocommerce" in r.name or "urllib3" in r.name or "connectors" in r.name for r in caplog.records)


@pytest.fixture
def wh_duckdb(tmp_path):
    from data.warehouse import connect

    wh = connect(f"duckdb:///{tmp_path / 'w.duckdb'}")
    yield wh
    wh.close()


# -- CSV exports --------------------------------------------------------------

def test_a_formula_cell_comes_out_of_every_csv_export_neutralized():
    from analytics.exports import to_csv_bytes

    frame = pl.DataFrame({"customer": ['=HYPERLINK("http://evil.example","click")', "+1", "Ada"],
                          "total": [1.5, 2.0, 3.0]})
    lines = to_csv_bytes(frame).decode().splitlines()
    # polars quotes the cell (it holds quotes and a comma); the leading ' keeps a spreadsheet from running it
    assert lines[1] == '"\'=HYPERLINK(""http://evil.example"",""click"")",1.5'
    assert lines[2] == "'+1,2.0" and lines[3] == "Ada,3.0"


def test_the_table_download_and_the_report_folder_write_csv_through_the_neutralizer():
    # Every CSV the app hands out goes through analytics.exports.to_csv_bytes: the page download
    # (ui/downloads.py) and the report folder (analytics/report.py); nothing else writes CSV.
    for path in ("ui/downloads.py", "analytics/report.py"):
        assert "to_csv_bytes(" in (ROOT / path).read_text()
    writers = [p.relative_to(ROOT).as_posix() for folder in ("analytics", "ui", "pages")
               for p in (ROOT / folder).rglob("*.py")
               if re.search(r"\.write_csv\(|\.to_csv\(|csv\.writer\(", p.read_text())]
    assert writers == ["analytics/exports.py"], writers


# -- the container ------------------------------------------------------------

def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_is_slim_installs_through_the_ci_script_runs_as_a_user_and_checks_health():
    lines = dockerfile()
    assert re.fullmatch(r"FROM python:3\.\d+-slim(-\w+)?", lines[0])
    runs = [line for line in lines if line.startswith("RUN ")]
    assert any("scripts/install-system.sh" in run for run in runs)
    assert "bash scripts/install-system.sh" in (ROOT / ".ci" / "run").read_text()
    assert "chromium" in (ROOT / "scripts" / "install-system.sh").read_text()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(re.search(rf"useradd [^&]*\b{users[-1]}(\s|$)", run) for run in runs)
    health = [line for line in lines if line.startswith("HEALTHCHECK")]
    assert len(health) == 1 and "scripts/healthcheck.py" in health[0]
    assert "/health/ready" in (ROOT / "scripts" / "healthcheck.py").read_text()
    volume = [line for line in lines if line.startswith("VOLUME")]
    assert volume and "/data" in volume[0]
    env = " ".join(line for line in lines if line.startswith("ENV "))
    # the warehouse and the users file live in the volume
    assert "DATABASE_URL=duckdb:////data/" in env and "AUTH_CREDENTIALS_FILE=/data/" in env
    assert any(line.startswith("ENTRYPOINT") and "scripts/entrypoint.sh" in line for line in lines)
    entry = (ROOT / "scripts" / "entrypoint.sh").read_text()
    assert "python -m auth setup" in entry and "server.py" in entry and "connectors worker" in entry


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return {m[0].lower(): m[1] for m in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M)}


def test_the_image_installs_only_the_apps_locked_packages_with_their_hashes():
    installs = [line for line in dockerfile() if line.startswith("RUN pip install")]
    assert installs == ["RUN pip install --require-hashes --no-deps -r requirements.lock"]
    runtime, everything = _pins("requirements.lock"), _pins("requirements-test.lock")
    # every package pinned, each with a hash; the app's pins are the tests' pins
    blocks = re.split(r"\n(?=[A-Za-z])", (ROOT / "requirements.lock").read_text())[1:]
    assert len(blocks) == len(runtime) > 50
    assert all("==" in block and "--hash=sha256:" in block for block in blocks)
    assert {k: everything[k] for k in runtime} == runtime
    for test_only in ("pytest", "pytest-xdist", "playwright", "aiosmtpd", "ruff", "uv"):
        assert test_only in everything and test_only not in runtime, test_only
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"tests", "bench", "requirements-test.lock"} <= set(ignored)


def test_the_lock_files_pin_every_dependency_pyproject_names_at_its_version():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    runtime, everything = _pins("requirements.lock"), _pins("requirements-test.lock")
    for lock, requirements in ((runtime, project["dependencies"]),
                               (everything, project["dependencies"] + extras["test"] + extras["dev"])):
        for requirement in requirements:
            name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[\w+\])?==(\S+)", requirement).groups()
            assert lock.get(name.lower()) == version, f"{requirement}: run make lock"


def test_compose_runs_the_app_timescaledb_and_the_worker_with_data_in_volumes():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"app", "db", "worker"}
    assert services["db"]["image"].startswith("timescale/timescaledb:")
    assert services["app"]["command"] == ["app"] and services["worker"]["command"] == ["worker"]
    for name in ("app", "worker"):
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
        assert "@db:5432/" in services[name]["environment"]["DATABASE_URL"]
    assert any(v.endswith(":/data") for v in services["app"]["volumes"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["db"]["volumes"])
    # one scheduler: the worker's (the app's is off)
    assert services["app"]["environment"]["SYNC_INTERVAL_MINUTES"] == "0"
    assert "POSTGRES_PASSWORD:?" in (ROOT / "docker-compose.yml").read_text()  # no default password
    # both report readiness (the warehouse answers), not only that a port is open
    assert services["app"]["healthcheck"]["test"] == ["CMD", "python", "scripts/healthcheck.py", "app"]
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "python", "scripts/healthcheck.py", "worker"]


def test_render_blueprint_builds_the_image_checks_health_and_keeps_data_on_a_disk():
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    (web,) = blueprint["services"]
    assert web["type"] == "web" and web["runtime"] == "docker"
    assert web["healthCheckPath"] == "/health/ready"
    assert web["disk"]["mountPath"] == "/data"
    key = next(v for v in web["envVars"] if v["key"] == "AUTH_COOKIE_KEY")
    assert key == {"key": "AUTH_COOKIE_KEY", "generateValue": True}
