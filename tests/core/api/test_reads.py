"""``GET`` requests read through ``Calipso.reader``: connections of their own pool in
autocommit mode (a query is one round trip), which survive the database cutting them."""

from __future__ import annotations

from api_helpers import ENV, write_small_graph
from sqlalchemy import text

CUT_OTHER_SESSIONS = text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def test_the_reader_runs_each_statement_in_its_own_transaction(api_calipso):
    with api_calipso.reader.connect() as conn:
        first, second = (conn.scalar(text("SELECT txid_current()")) for _ in range(2))
    assert first != second
    with api_calipso.engine.connect() as conn:
        first, second = (conn.scalar(text("SELECT txid_current()")) for _ in range(2))
    assert first == second


def test_get_requests_answer_again_after_the_database_cut_every_connection(client, api_calipso):
    write_small_graph(api_calipso)
    requests = [("/inventory", {"env_name": ENV, "id": "vm-1"}), ("/inventory", {"env_name": ENV, "parent_id": "vm-1"}),
                ("/graph", {"env_name": ENV, "focal_point": "vm-1"})]
    assert [client.get(path, params=query).status_code for path, query in requests] == [200, 200, 200]
    with api_calipso.engine.connect() as conn:  # as a database restart does
        assert conn.scalar(CUT_OTHER_SESSIONS) >= 1
    assert [client.get(path, params=query).status_code for path, query in requests] == [200, 200, 200]
