"""/v1/elections and the forecast around one election."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from forecasting.domain.records import read_elections_csv
from tests.fixtures import shipped_seeds_dir
from tests.service.conftest import Store, running_app

SHIPPED = read_elections_csv(shipped_seeds_dir() / "elections.csv")


def an_election_after(cutoff: date, country: str = "KR") -> str:
    """An election whose default window opens after the cutoff and closes within the forecast horizon."""
    return next(
        e.id
        for e in sorted(SHIPPED, key=lambda e: e.date)
        if e.country == country
        and e.date - timedelta(days=30) > cutoff
        and e.date + timedelta(days=30) < cutoff + timedelta(days=1000)
    )


@pytest.fixture(scope="module")
def cutoff(store: Store) -> date:
    assert store.active is not None
    return store.active.data_cutoff


def test_list_and_filters(client: TestClient) -> None:
    everything = client.get("/v1/elections").json()
    assert everything["total"] == len(SHIPPED) == len(everything["items"])
    assert [e["id"] for e in everything["items"]] == [e.id for e in sorted(SHIPPED, key=lambda e: (e.date, e.id))]

    kr_legislative = client.get("/v1/elections", params={"country": "KR", "kind": "legislative"}).json()
    assert {e["id"] for e in kr_legislative["items"]} == {
        e.id for e in SHIPPED if e.country == "KR" and e.kind == "legislative"
    }

    window = client.get("/v1/elections", params={"from": "2020-01-01", "to": "2022-12-31"}).json()
    assert {e["id"] for e in window["items"]} == {
        e.id for e in SHIPPED if date(2020, 1, 1) <= e.date <= date(2022, 12, 31)
    }

    upcoming = client.get("/v1/elections", params={"upcoming": "true"}).json()
    assert {e["id"] for e in upcoming["items"]} == {e.id for e in SHIPPED if e.date >= date.today()}
    first = everything["items"][0]
    assert first["forecast_url"] == f"/v1/elections/{first['id']}/forecast" and first["source"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"country": "FR"}, "country"),
        ({"kind": "mayoral"}, "kind"),
        ({"from": "2024-02-30"}, "from"),
        ({"to": "0"}, "to"),
        ({"upcoming": "perhaps"}, "upcoming"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client: TestClient, params: dict[str, str], field: str) -> None:
    response = client.get("/v1/elections", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field and response.json()["error"]["code"] == "invalid_input"


def test_one_election_and_an_unknown_one(client: TestClient) -> None:
    known = SHIPPED[0]
    response = client.get(f"/v1/elections/{known.id}")
    assert response.status_code == 200 and response.json()["date"] == known.date.isoformat()

    missing = client.get("/v1/elections/kr-legislative-1066-10-14")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "status": 404,
        "code": "not_found",
        "field": "election_id",
        "message": "no election 'kr-legislative-1066-10-14'; see GET /v1/elections",
    }


def test_forecast_around_an_election_carries_everything_needed_to_weigh_it(
    client: TestClient, store: Store, cutoff: date
) -> None:
    election_id = an_election_after(cutoff)
    election = next(e for e in SHIPPED if e.id == election_id)

    response = client.get(f"/v1/elections/{election_id}/forecast")

    assert response.status_code == 200
    body = response.json()
    assert body["election"]["id"] == election_id and body["days_before"] == 30 and body["days_after"] == 30
    f = body["forecast"]
    assert store.active is not None
    assert f["version"] == store.active.id and f["data_cutoff"] == cutoff.isoformat()
    assert f["window"] == {
        "start": (election.date - timedelta(days=30)).isoformat(),
        "end": (election.date + timedelta(days=30)).isoformat(),
        "days": 61,
    }
    assert f["event_group"] == "weapons" and f["model"] == store.active.default_model
    assert 0 <= f["probability_any"] <= 1 and f["expected_count"] >= 0
    assert [i["level"] for i in f["intervals"]] == [0.8, 0.95]
    assert (
        f["intervals"][1]["lower"]
        <= f["intervals"][0]["lower"]
        <= f["intervals"][0]["upper"]
        <= f["intervals"][1]["upper"]
    )
    assert 0 <= f["climatology_probability_any"] <= 1
    skill = f["skill"]
    # The default forecast shows the default rule's skill, as the rule would have chosen at each cutoff.
    assert skill["model"] == "default_rule" and skill["horizon_days"] == 30 and skill["election_windows"] > 0
    assert skill == store.active.metrics["skill"]["default_rule"]
    effect = f["election_effect"]
    assert effect["model"] == store.active.effect_model and effect["note"]
    assert effect["ratio"] is None or effect["ratio"] > 0
    assert len(f["daily"]) == 61 and f["daily"][0]["date"] == f["window"]["start"]
    assert f["summary"].startswith(f"{f['probability_any']:.0%} chance of at least one weapons test")
    assert "Backtest Brier skill vs climatology" in f["summary"]
    assert f["samples"] > 0


def test_repeated_election_forecasts_are_answered_from_memory(client: TestClient, cutoff: date) -> None:
    election_id = an_election_after(cutoff, "US")
    first = client.get(f"/v1/elections/{election_id}/forecast")
    loaded = client.app.state.provocast.holder.current  # type: ignore[attr-defined]
    remembered = len(loaded.memo)
    second = client.get(f"/v1/elections/{election_id}/forecast")
    assert first.content == second.content
    assert len(loaded.memo) == remembered  # the second answer came from the memo


def test_windows_groups_and_models_can_be_chosen(client: TestClient, store: Store, cutoff: date) -> None:
    election_id = an_election_after(cutoff)
    narrow = client.get(f"/v1/elections/{election_id}/forecast", params={"days_before": 7, "days_after": 0}).json()
    assert narrow["forecast"]["window"]["days"] == 8

    missiles = client.get(
        f"/v1/elections/{election_id}/forecast",
        params={"event_types": "ballistic_missile,cruise_missile,hypersonic_missile"},
    ).json()
    assert missiles["forecast"]["event_group"] == "missiles"
    by_group = client.get(f"/v1/elections/{election_id}/forecast", params=[("event_types", "missiles")]).json()
    assert by_group["forecast"]["probability_any"] == missiles["forecast"]["probability_any"]
    nuclear = client.get(f"/v1/elections/{election_id}/forecast", params={"event_types": "nuclear"}).json()["forecast"]
    assert nuclear["skill"] is None and any("not backtested" in note for note in nuclear["notes"])

    climatology = client.get(f"/v1/elections/{election_id}/forecast", params={"model": "climatology"}).json()[
        "forecast"
    ]
    assert climatology["model"] == "climatology"
    assert climatology["probability_any"] == climatology["climatology_probability_any"]


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"days_before": -1}, "days_before", "greater than or equal to 0"),
        ({"days_after": 400}, "days_after", "less than or equal to 366"),
        ({"days_before": "thirty"}, "days_before", "valid integer"),
        ({"days_before": 366, "days_after": 366}, "days_after", "at most 366"),
        ({"event_types": "fireworks"}, "event_types", "unknown event type or group 'fireworks'"),
        ({"event_types": "incursion,attack"}, "event_types", "a forecast needs at least 15"),
        ({"model": "crystal_ball"}, "model", "Input should be 'climatology'"),
    ],
)
def test_bad_forecast_requests_are_422_naming_the_field(
    client: TestClient, cutoff: date, params: dict[str, object], field: str, says: str
) -> None:
    response = client.get(f"/v1/elections/{an_election_after(cutoff)}/forecast", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and says in error["message"]


def test_an_election_whose_window_opened_before_the_cutoff_points_to_the_backtests(
    client: TestClient, cutoff: date
) -> None:
    past = max(
        (e for e in SHIPPED if e.country == "KR" and e.kind == "legislative" and e.date < cutoff), key=lambda e: e.date
    )

    response = client.get(f"/v1/elections/{past.id}/forecast")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "election_id"
    assert f"not after the data cutoff {cutoff}" in error["message"]
    assert error["message"].endswith(f"(GET /v1/backtests?election_id={past.id})")
    backtest = client.get("/v1/backtests", params={"election_id": past.id}).json()
    assert [w["election_id"] for w in backtest["items"]] == [past.id]


def test_a_window_beyond_the_horizon_is_refused(client: TestClient, cutoff: date) -> None:
    far = max(SHIPPED, key=lambda e: e.date)
    assert far.date > cutoff + timedelta(days=1100), "the calendar has an election beyond the forecast horizon"
    response = client.get(f"/v1/elections/{far.id}/forecast")
    assert response.status_code == 422
    assert (
        response.json()["error"]["field"] == "days_after"
        and "beyond the forecast horizon" in response.json()["error"]["message"]
    )


def test_the_default_window_comes_from_the_settings(
    store: Store, cutoff: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    election_id = an_election_after(cutoff)
    monkeypatch.setenv("PROVOCAST_DEFAULT_DAYS_BEFORE", "10")
    with running_app(store.url) as client:
        answer = client.get(f"/v1/elections/{election_id}/forecast").json()
    assert (answer["days_before"], answer["days_after"]) == (10, 30)
    assert answer["forecast"]["window"]["days"] == 41
