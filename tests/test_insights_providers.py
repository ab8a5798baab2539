"""The OpenAI and Anthropic providers through their official SDKs, against local stand-ins over real HTTP.

The stand-in (tests/emulators/llm_apis.py) streams server-sent events in each
API's event format; the SDKs find it through OPENAI_BASE_URL and
ANTHROPIC_BASE_URL. Retries are 0 and the timeout 0.5 s unless a test says
otherwise, so the error paths are quick.
"""

from __future__ import annotations

import json

import pytest

from analytics.__main__ import main
from analytics.insights.facts import build_facts
from analytics.insights.grounding import flag, check
from analytics.insights.offline import write_offline
from analytics.insights.providers import check_provider, provider_config
from analytics.insights.service import write_insight
from data.warehouse import connect
from tests.emulators.llm_apis import LlmApis
from tests.insights_store import COMPARE, END, PERSONAL, START, build_insights_store

# Every number is a figure of the store's facts: net sales $75.00 (was $40.00, +87.5 %), 2 orders,
# AOV $52.50, refund rate 27.3 % (30 ÷ 110 = 0.2727).
GROUNDED = ["### Summary\n\nNet sales were ", "$75.00, up 87.5% ", "on $40.00, from 2 orders ",
            "(AOV $52.50); the refund rate was 27.3%.\n"]


@pytest.fixture(scope="module")
def apis():
    server = LlmApis().start()
    yield server
    server.stop()


@pytest.fixture
def llm(apis, monkeypatch):
    apis.requests.clear()
    apis.faults.clear()
    apis.reply = list(GROUNDED)
    monkeypatch.setattr("data.settings._secrets", lambda: {})  # the machine's secrets.toml is not read
    monkeypatch.delenv("INSIGHTS_PROVIDER", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{apis.url}/v1")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", apis.url)
    monkeypatch.setenv("OPENAI_MODEL", "gpt-test")
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-test")
    monkeypatch.setenv("INSIGHTS_TIMEOUT", "0.5")
    monkeypatch.setenv("INSIGHTS_MAX_RETRIES", "0")
    monkeypatch.setenv("INSIGHTS_MAX_TOKENS", "400")
    return apis


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    wh = connect(f"duckdb:///{tmp_path_factory.mktemp('insights') / 'insights.duckdb'}")
    build_insights_store(wh)
    yield wh
    wh.close()


@pytest.fixture
def store(built):
    """The module's store, with no insight written yet."""
    built.execute("DELETE FROM insights")
    return built


def write(wh, provider, **kwargs):
    pieces: list[str] = []
    insight = write_insight(wh, "s", START, END, compare=COMPARE, provider=provider, on_text=pieces.append,
                            **kwargs)
    return insight, pieces


def test_openai_request_streaming_and_no_personal_data(llm, store):
    insight, pieces = write(store, "openai")
    assert pieces == GROUNDED  # streamed piece by piece, as the deltas arrived
    assert (insight.provider, insight.model, insight.fallback_reason) == ("openai", "gpt-test", None)
    assert insight.text == "".join(GROUNDED)
    assert insight.ungrounded_numbers == () and insight.numbers_checked == 6
    (request,) = llm.requests
    assert request["path"] == "/v1/responses"
    assert request["headers"]["authorization"] == "Bearer sk-test-openai"
    body = request["body"]
    assert body["model"] == "gpt-test" and body["stream"] is True and body["max_output_tokens"] == 400
    assert body["store"] is False
    assert "Use only numbers that appear in the facts" in body["instructions"]
    facts = json.loads(body["input"].split("Facts:\n", 1)[1])
    assert facts["kpis"]["net_sales"]["current"] == "75.00" and facts["period"]["start"] == "2026-11-09"
    raw = request["raw"].lower()
    assert not [word for word in PERSONAL if word in raw]


def test_anthropic_request_streaming_and_no_personal_data(llm, store):
    insight, pieces = write(store, "anthropic")
    assert pieces == GROUNDED
    assert (insight.provider, insight.model, insight.fallback_reason) == ("anthropic", "claude-test", None)
    (request,) = llm.requests
    assert request["path"] == "/v1/messages"
    headers = request["headers"]
    assert headers.get("x-api-key") == "sk-ant-test" or headers.get("authorization") == "Bearer sk-ant-test"
    assert headers["anthropic-version"]
    body = request["body"]
    assert body["model"] == "claude-test" and body["stream"] is True and body["max_tokens"] == 400
    assert "Use only numbers that appear in the facts" in body["system"]
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert '"net_sales":{"change":"35.00"' in body["messages"][0]["content"]
    raw = request["raw"].lower()
    assert not [word for word in PERSONAL if word in raw]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("fault, why", [
    (401, "refused the API key"),
    (429, "rate-limiting this key or its quota is used up (HTTP 429)"),
    (500, "had a server error (HTTP 500)"),
    ("slow", "did not answer within 0.5 seconds"),
], ids=["401", "429", "500", "timeout"])
def test_provider_failure_falls_back_to_the_offline_writer(llm, store, provider, fault, why):
    llm.faults.append(fault)
    insight, pieces = write(store, provider)
    facts = build_facts(store, "s", START, END, compare=COMPARE)
    assert (insight.requested_provider, insight.provider) == (provider, "offline")
    assert why in insight.fallback_reason
    assert insight.fallback_reason.endswith("so the offline writer wrote this summary from the same figures.")
    assert insight.text == write_offline(facts) and pieces == [insight.text]
    assert insight.ungrounded_numbers == ()
    assert len(llm.requests) == 1  # no retry with INSIGHTS_MAX_RETRIES=0
    stored = store.rows("SELECT requested_provider, provider, fallback_reason FROM insights")
    assert stored == [(provider, "offline", insight.fallback_reason)]
    # A fallback is never served from the cache: the next request asks the provider again.
    again, _ = write(store, provider)
    assert again.provider == provider and len(llm.requests) == 2


def test_anthropic_overloaded_529_falls_back(llm, store):
    llm.faults.append(529)
    insight, _ = write(store, "anthropic")
    assert insight.provider == "offline" and "server error (HTTP 529)" in insight.fallback_reason


def test_sdk_retries_a_rate_limit_then_answers(llm, store):
    llm.faults.append(429)  # answered with retry-after-ms: 10
    insight, _ = write(store, "openai", max_retries=1)
    assert insight.provider == "openai" and insight.fallback_reason is None
    assert len(llm.requests) == 2


def test_invented_number_is_flagged(llm, store):
    llm.reply = ["Net sales were $75.00 from 2 orders", " and 9,999 visitors came; AOV rose 17%."]
    insight, _ = write(store, "anthropic")
    assert insight.ungrounded_numbers == ("9,999", "17%")
    facts = build_facts(store, "s", START, END, compare=COMPARE)
    assert flag(insight.text, check(insight.text, facts)) == (
        "Net sales were $75.00 from 2 orders and [9,999 ⚠ unverified] visitors came; "
        "AOV rose [17% ⚠ unverified].\n")
    assert store.scalar("SELECT ungrounded_count FROM insights") == 2


def test_same_facts_give_the_cached_answer_without_a_call(llm, store):
    first, _ = write(store, "openai")
    second, pieces = write(store, "openai")
    assert len(llm.requests) == 1
    assert second.cached and second.text == first.text and pieces == [first.text]
    assert second.facts_hash == first.facts_hash
    # Another model is another answer.
    third, _ = write(store, "openai", model="gpt-other")
    assert len(llm.requests) == 2 and llm.requests[1]["body"]["model"] == "gpt-other" and not third.cached


def test_no_key_writes_offline_without_a_call(llm, store, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    insight, _ = write(store, "openai")
    assert insight.provider == "offline" and llm.requests == []
    assert insight.fallback_reason == ("No OpenAI key is set (OPENAI_API_KEY), so the offline writer wrote this "
                                       "summary from the same figures.")


def test_connection_test_gives_one_sentence(llm):
    llm.reply = ["OK"]
    ok, sentence = check_provider(provider_config("anthropic"))
    assert ok and sentence.startswith("Anthropic answered with claude-test in ") and sentence.endswith('("OK").')
    llm.faults.append(401)
    ok, sentence = check_provider(provider_config("openai"))
    assert not ok and sentence == "OpenAI refused the API key OPENAI_API_KEY (HTTP 401)."
    assert "sk-test" not in repr(provider_config("openai"))


def test_command_json_output(llm, tmp_path, capsys):
    url = f"duckdb:///{tmp_path / 'command.duckdb'}"
    with connect(url) as wh:
        build_insights_store(wh)
    argv = ["insights", "--from", "2026-11-09", "--to", "2026-11-15", "--provider", "openai", "--db", url, "--json"]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {k: answer[k] for k in ("provider", "model", "ungrounded_numbers", "fallback_reason")} == {
        "provider": "openai", "model": "gpt-test", "ungrounded_numbers": [], "fallback_reason": None}
    assert answer["text"] == "".join(GROUNDED)
    llm.faults.append(401)
    assert main([*argv, "--no-cache"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["provider"] == "offline" and "HTTP 401" in answer["fallback_reason"]
    assert main(["insights", "--from", "2026-11-15", "--to", "2026-11-09", "--db", url]) == 2
    assert capsys.readouterr().err == (
        "error: --from 2026-11-15 is after --to 2026-11-09: the range must run forwards.\n")
