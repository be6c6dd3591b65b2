"""While PostgreSQL cannot be reached: consent posts answer 503, pages and the policy render.

The database really is unreachable here: the connection is pointed at a closed port, as if the
server had stopped. The reliability suite (tests/reliability) does the same to gunicorn under load.
"""

import json
import socket

import pytest
from django.db import connection

from consent.models import ConsentRecord


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database(migrated_db, client):
    """Return a switch for the database; pages are visited once first, as on a running site."""
    for url in ("/", "/cookie-policy/", "/cookie-settings/"):
        assert client.get(url).status_code == 200
    port = connection.settings_dict["PORT"]

    class Switch:
        def stop(self):
            connection.close()
            connection.settings_dict["PORT"] = closed_port()

        def start(self):
            connection.settings_dict["PORT"] = port

    switch = Switch()
    yield switch
    switch.start()


def post_decision(client):
    return client.post("/api/consent/", {"action": "accept_all"}, content_type="application/json")


def test_a_consent_post_answers_503_with_retry_after_and_a_clear_message(client, database):
    database.stop()

    response = post_decision(client)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "nothing was saved" in response.json()["error"]
    assert "iportalis_consent" not in response.cookies


def test_the_form_post_answers_a_503_page(client, database):
    database.stop()

    response = client.post("/consent/", {"action": "reject_all", "surface": "banner", "next": "/"})

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "nothing was saved" in response.content.decode()
    assert "iportalis_consent" not in response.cookies


@pytest.mark.parametrize("url", ["/", "/cookie-policy/", "/cookie-policy/versions/1/"])
def test_pages_and_the_policy_keep_rendering(client, database, url):
    database.stop()

    response = client.get(url, headers={"Sec-GPC": "1"})  # a GPC record cannot be written either

    assert response.status_code == 200
    assert "iPortalis" in response.content.decode()


def test_the_policy_renders_from_memory(client, database):
    database.stop()

    html = client.get("/cookie-policy/").content.decode()

    assert "Version 2" in html  # the current version, as migrate published it
    assert "cookies-in-use" in html  # the registry's table, frozen into the version


def test_decisions_are_recorded_again_as_soon_as_the_database_returns(client, database):
    database.stop()
    assert post_decision(client).status_code == 503

    database.start()
    response = post_decision(client)

    assert response.status_code == 201
    record = ConsentRecord.objects.get()
    assert record.pk == json.loads(response.content)["record"]
