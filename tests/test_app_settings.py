"""Choices saved in the app: stored as JSON per scope, replaced on save, defaults when absent."""

from data.app_settings import get_choice, get_choices, set_choice


def test_choices_round_trip_per_scope(wh):
    assert get_choice(wh, "inventory.overstock_days", 180) == 180
    set_choice(wh, "inventory.overstock_days", 120, scope="s", by="owner")
    set_choice(wh, "inventory.service_level", 0.95, scope="s")
    set_choice(wh, "insights.provider", "anthropic")
    assert get_choice(wh, "inventory.overstock_days", 180, scope="s") == 120
    assert get_choice(wh, "inventory.overstock_days", 180) == 180  # another scope
    set_choice(wh, "inventory.overstock_days", {"days": 90, "on": True}, scope="s")
    assert get_choice(wh, "inventory.overstock_days", scope="s") == {"days": 90, "on": True}
    assert get_choices(wh, "inventory.", scope="s") == {"inventory.overstock_days": {"days": 90, "on": True},
                                                        "inventory.service_level": 0.95}
    assert get_choices(wh, "insights.") == {"insights.provider": "anthropic"}
    assert wh.scalar("SELECT count(*) FROM app_settings") == 3
