"""The language-model providers: OpenAI and Anthropic through their official SDKs, streamed.

Each provider gets the same two texts (:func:`prompt`): instructions that
tie the model to the facts, and the facts as JSON. Keys, base addresses and
default models are deployment settings (``OPENAI_API_KEY``,
``OPENAI_BASE_URL``, ``OPENAI_MODEL``, the same for ``ANTHROPIC_``; the SDKs
also read their own ``*_BASE_URL`` from the environment). Every call is
bounded: at most ``INSIGHTS_MAX_TOKENS`` output tokens, ``INSIGHTS_TIMEOUT``
seconds per attempt and ``INSIGHTS_MAX_RETRIES`` retries (the SDKs' own
retry with back-off on connection errors, 408, 409, 429 and 5xx).

Failures become :class:`ProviderError` with a ``kind`` (``auth``,
``rate_limit``, ``server``, ``timeout``, ``connection``, ``refused``,
``empty``) and a clause for the page (no final full stop: the caller ends the
sentence, e.g. "..., so the offline writer wrote this summary"). Keys are never logged or shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterator

from analytics.insights.facts import facts_json
from data.settings import setting

PROVIDERS = ("offline", "openai", "anthropic")
LABELS = {"offline": "Offline writer", "openai": "OpenAI", "anthropic": "Anthropic"}
KEY_SETTINGS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
MODEL_SETTINGS = {"openai": "OPENAI_MODEL", "anthropic": "ANTHROPIC_MODEL"}
BASE_URL_SETTINGS = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}

INSTRUCTIONS = """You write a short briefing for the owner of an online shop, from the facts given as JSON.
Rules:
- Use only numbers that appear in the facts. Never compute a new number (no sums, differences, shares
  or averages of your own) and never estimate. If a figure you want is not in the facts, say it in words.
- Write money with the currency symbol and two decimals as in the facts, ratios and relative changes
  (fractions such as 0.1234) as percentages with one decimal (12.3%), counts as they are.
- Do not write dates other than the period, the comparison and the anomaly events' days of the facts.
- "no forecast yet" or "no customer scores yet" means there is nothing to say on that subject.
- Plain words, no jargon, under 300 words, in Markdown: "### Summary" (two or three sentences), then
  "### What matters most": a numbered list with one point per entry of "priorities", in that order (they
  are ranked by the money at stake), at most 10. Each point says what changed, why (the drivers the facts
  give: the movers' share_of_change, an event's drivers and share_of_gap), then "What to do:" and one
  concrete action. An anomaly event is one point however many days it spans."""

TOPIC_FOCUS = {
    "overview": "the whole business",
    "sales": "sales: the figures, channels, countries and products",
    "customers": "customers: new and returning customers, segments and refunds",
    "inventory": "inventory: stock risks, the forecast and the products that move",
}


class ProviderError(RuntimeError):
    """A provider that did not answer: ``kind`` and one sentence saying why."""

    def __init__(self, kind: str, sentence: str) -> None:
        super().__init__(sentence)
        self.kind = kind
        self.sentence = sentence


@dataclass(frozen=True)
class ProviderConfig:
    provider: str
    model: str
    api_key: str | None
    base_url: str | None
    timeout: float
    max_retries: int
    max_tokens: int

    def __repr__(self) -> str:  # never show the key
        return (f"ProviderConfig(provider={self.provider!r}, model={self.model!r}, "
                f"key={'set' if self.api_key else 'not set'}, base_url={self.base_url!r})")


def provider_config(provider: str, model: str | None = None, *, timeout: float | None = None,
                    max_retries: int | None = None, max_tokens: int | None = None) -> ProviderConfig:
    """The settings of ``provider`` (``openai`` or ``anthropic``), parameters overriding them."""
    if provider not in KEY_SETTINGS:
        raise ValueError(f"provider must be one of {', '.join(KEY_SETTINGS)}, not {provider!r}")
    return ProviderConfig(
        provider=provider,
        model=model or setting(MODEL_SETTINGS[provider]) or "",
        api_key=setting(KEY_SETTINGS[provider]) or None,
        base_url=setting(BASE_URL_SETTINGS[provider]) or None,
        timeout=float(timeout if timeout is not None else setting("INSIGHTS_TIMEOUT") or 30),
        max_retries=int(max_retries if max_retries is not None else setting("INSIGHTS_MAX_RETRIES") or 2),
        max_tokens=int(max_tokens if max_tokens is not None else setting("INSIGHTS_MAX_TOKENS") or 1500),
    )


def prompt(facts: dict[str, Any]) -> tuple[str, str]:
    """The instructions and the user message for ``facts``."""
    focus = TOPIC_FOCUS.get(facts.get("topic", "overview"), TOPIC_FOCUS["overview"])
    return INSTRUCTIONS, (f"Write the briefing with a focus on {focus}, comparing the period with the "
                          f"comparison period. Facts:\n{facts_json(facts)}")


def stream_text(config: ProviderConfig, facts: dict[str, Any]) -> Iterator[str]:
    """The model's answer for ``facts``, piece by piece as it streams; :class:`ProviderError` on failure."""
    system, user = prompt(facts)
    yield from _stream(config, system, user, config.max_tokens)


def check_provider(config: ProviderConfig) -> tuple[bool, str]:
    """One tiny request: ``(True, "OpenAI answered with gpt-… in 0.4 s.")`` or ``(False, why)``."""
    if not config.api_key:
        return False, f"{KEY_SETTINGS[config.provider]} is not set, so {LABELS[config.provider]} cannot be used."
    started = time.monotonic()
    try:
        text = "".join(_stream(config, "Answer with one word.", "Reply with the word OK.", 16))
    except ProviderError as exc:
        return False, exc.sentence + "."
    took = time.monotonic() - started
    return True, (f"{LABELS[config.provider]} answered with {config.model} in {took:.1f} s "
                  f"(\"{text.strip()[:40]}\").")


# -- the SDKs -------------------------------------------------------------------------------------

def _stream(config: ProviderConfig, system: str, user: str, max_tokens: int) -> Iterator[str]:
    label = LABELS[config.provider]
    if not config.api_key:
        raise ProviderError("no_key", f"{KEY_SETTINGS[config.provider]} is not set, so {label} was not asked")
    if not config.model:
        raise ProviderError("refused", f"no {label} model is set (choose one in Settings or set "
                                       f"{MODEL_SETTINGS[config.provider]})")
    produced = False
    try:
        pieces = _openai(config, system, user, max_tokens) if config.provider == "openai" \
            else _anthropic(config, system, user, max_tokens)
        for piece in pieces:
            if piece:
                produced = True
                yield piece
    except ProviderError:
        raise
    except Exception as exc:  # noqa: BLE001 - every SDK or network failure becomes one sentence
        raise _as_provider_error(exc, config) from None
    if not produced:
        raise ProviderError("empty", f"{label} returned no text")


def _openai(config: ProviderConfig, system: str, user: str, max_tokens: int) -> Iterator[str]:
    import openai

    client = openai.OpenAI(api_key=config.api_key, base_url=config.base_url, timeout=config.timeout,
                           max_retries=config.max_retries)
    try:
        stream = client.responses.create(model=config.model, instructions=system, input=user,
                                         max_output_tokens=max_tokens, stream=True, store=False)
        with stream:
            for event in stream:
                kind = getattr(event, "type", "")
                if kind == "response.output_text.delta":
                    yield event.delta
                elif kind in ("response.failed", "error"):
                    error = getattr(getattr(event, "response", None), "error", None) or event
                    message = getattr(error, "message", None) or "the answer failed"
                    raise ProviderError("server", f"OpenAI stopped while answering ({message})")
                elif kind in ("response.completed", "response.incomplete"):
                    break
    finally:
        client.close()


def _anthropic(config: ProviderConfig, system: str, user: str, max_tokens: int) -> Iterator[str]:
    import anthropic

    client = anthropic.Anthropic(api_key=config.api_key, base_url=config.base_url, timeout=config.timeout,
                                 max_retries=config.max_retries)
    try:
        stream = client.messages.create(model=config.model, max_tokens=max_tokens, system=system,
                                        messages=[{"role": "user", "content": user}], stream=True)
        with stream:
            for event in stream:
                if event.type == "content_block_delta" and getattr(event.delta, "type", "") == "text_delta":
                    yield event.delta.text
                elif event.type == "message_stop":
                    break
    finally:
        client.close()


def _as_provider_error(exc: Exception, config: ProviderConfig) -> ProviderError:
    """One sentence for an SDK exception (the same classes exist in both SDKs)."""
    label = LABELS[config.provider]
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if "Timeout" in name or "DeadlineExceeded" in name:
        return ProviderError("timeout", f"{label} did not answer within {config.timeout:g} seconds")
    if status in (401, 403):
        return ProviderError("auth", f"{label} refused the API key {KEY_SETTINGS[config.provider]} "
                                     f"(HTTP {status})")
    if status == 429:
        return ProviderError("rate_limit", f"{label} is rate-limiting this key or its quota is used up "
                                           "(HTTP 429)")
    if isinstance(status, int) and status >= 500:
        return ProviderError("server", f"{label} had a server error (HTTP {status})")
    if isinstance(status, int):
        return ProviderError("refused", f"{label} refused the request for model {config.model!r} "
                                        f"(HTTP {status})")
    if "Connection" in name or "Connect" in name:
        return ProviderError("connection", f"{label} could not be reached (check the network and "
                                           f"{BASE_URL_SETTINGS[config.provider]})")
    return ProviderError("server", f"{label} failed while answering ({name})")
