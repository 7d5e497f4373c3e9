"""The alert sign-up form's rules, on their own: never an exception, only messages."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.alerts.forms import FIELDS, validate_alert_form
from app.studies.rules import NOT_YET_RECRUITING, RECRUITING

VALID = {"email": "robin.example@example.net", "condition": "asthma", "consent": "yes"}


def test_a_minimal_sign_up_watches_recruiting_studies_anywhere() -> None:
    result = validate_alert_form(VALID, [])
    assert result.errors == {}
    assert result.signup is not None
    search = result.signup.search
    assert (search.condition, search.statuses, search.origin) == ("asthma", (RECRUITING,), None)
    assert result.signup.page == "alerts"


def test_open_soon_adds_not_yet_recruiting_and_nothing_else_is_watched() -> None:
    chosen = validate_alert_form(VALID, [RECRUITING, NOT_YET_RECRUITING, "COMPLETED"])
    assert chosen.signup is not None
    assert chosen.signup.search.statuses == (RECRUITING, NOT_YET_RECRUITING)


def test_a_place_is_resolved_once_and_kept_as_a_point() -> None:
    result = validate_alert_form({**VALID, "location": "Chicago", "radius_km": "50"}, [])
    assert result.signup is not None
    origin = result.signup.search.origin
    assert origin is not None
    assert abs(origin.lat - 41.88) < 0.2
    assert result.signup.search.place == "Chicago"
    assert "within 50 km of Chicago" in result.signup.search.summary()


def test_the_page_it_came_from_is_one_we_know() -> None:
    assert validate_alert_form({**VALID, "from": "results"}, []).signup.page == "results"  # type: ignore[union-attr]
    assert validate_alert_form({**VALID, "from": "evil"}, []).signup.page == "alerts"  # type: ignore[union-attr]


def test_the_same_search_typed_differently_is_the_same_alert() -> None:
    one = validate_alert_form({**VALID, "condition": "Type 2  Diabetes"}, []).signup
    two = validate_alert_form({**VALID, "condition": "type 2 diabetes"}, []).signup
    assert one is not None
    assert two is not None
    assert one.search.canonical() == two.search.canonical()


text = st.one_of(st.text(max_size=300), st.sampled_from(["", " ", "yes", "999999", "-1", "nan"]))


@settings(max_examples=300, deadline=None)
@given(
    data=st.dictionaries(st.sampled_from([*FIELDS, "from", "leave_empty", "other"]), text),
    statuses=st.lists(text, max_size=4),
)
def test_any_input_gives_a_result_never_an_exception(
    data: dict[str, str], statuses: list[str]
) -> None:
    result = validate_alert_form(data, statuses)
    assert (result.signup is None) == bool(result.errors)
    for message in result.errors.values():
        assert message
        assert "Traceback" not in message
