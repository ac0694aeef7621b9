"""The JSON of the API's answers, and the error body every error has."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from calipso_core.api.errors import CalipsoJSONResponse, error_response


def test_answers_have_iso_dates_and_any_integer():
    content = {"at": datetime(2024, 5, 1, 12, 30, tzinfo=UTC), "on": date(2024, 5, 1), 7: "seven", "n": [1, 2.5, None]}
    assert json.loads(CalipsoJSONResponse(content).body) == {
        "at": "2024-05-01T12:30:00+00:00", "on": "2024-05-01", "7": "seven", "n": [1, 2.5, None]}
    assert json.loads(CalipsoJSONResponse({"big": 2**70}).body) == {"big": 2**70}


def test_an_error_names_its_status():
    response = error_response(404, "no such thing")
    assert response.status_code == 404
    assert json.loads(response.body) == {"error": {"message": "no such thing", "code": 404, "title": "Not Found"}}
