"""Coarse per-address limits on login posts and the failed-login counts, shared by every worker process:
through Redis when configured, otherwise through the database; never counted per process."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

REDIS_URL = os.environ.get("LEARNHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("LEARNHUB_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required here but unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")


def post_login(client, **headers):
    return client.post("/auth/login", data={"identifier": "nobody", "password": "wrongpass1"}, headers=headers)


def test_the_limit_answers_429_in_chinese(make_app, world):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [post_login(client).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "操作太频繁" in post_login(client).get_data(as_text=True)
    assert client.get("/auth/login").status_code == 200  # only posts are limited


def test_redis_storage_counts_across_workers(make_app, world):
    redis_or_skip()
    settings = dict(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="4 per minute", RATELIMIT_STORAGE_URI=REDIS_URL,
                    RATELIMIT_KEY_PREFIX=f"learnhub-test-{uuid.uuid4().hex}")
    worker_a, worker_b = make_app(**settings).test_client(), make_app(**settings).test_client()
    codes = [post_login(client).status_code for client in (worker_a, worker_b, worker_a, worker_b)]
    assert codes == [200, 200, 200, 200]
    assert post_login(worker_a).status_code == 429 and post_login(worker_b).status_code == 429


def test_behind_a_proxy_each_phone_has_its_own_budget(make_app, world):
    # Behind nginx every request comes from 127.0.0.1: with PROXY_COUNT=1 the limit is per phone.
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute", PROXY_COUNT=1)
    client = app.test_client()
    first = [post_login(client, **{"X-Forwarded-For": "10.0.0.1"}).status_code for _ in range(3)]
    assert first == [200, 200, 429]
    assert post_login(client, **{"X-Forwarded-For": "10.0.0.2"}).status_code == 200


def test_forwarded_headers_are_ignored_without_a_proxy(make_app, world):
    # Directly exposed, a client could otherwise dodge the limit by inventing addresses.
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    codes = [post_login(client, **{"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]


# A second worker process: its own interpreter, its own app, the same database (and no Redis).
WORKER = """
import sys
from config import TestingConfig
from learnhub import create_app
config = type("Worker", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": sys.argv[1], "RATELIMIT_ENABLED": True,
                                           "LOGIN_RATE_LIMIT": "4 per minute"})
client = create_app(config).test_client()
data = {"identifier": "nobody", "password": "wrongpass1"}
print(" ".join(str(client.post("/auth/login", data=data).status_code) for _ in range(2)))
"""


def test_two_worker_processes_share_the_login_limit_through_the_database(make_app, world, database_url):
    here = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="4 per minute").test_client()
    assert [post_login(here).status_code for _ in range(2)] == [200, 200]
    root = Path(__file__).resolve().parents[2]
    other = subprocess.run([sys.executable, "-c", WORKER, database_url], cwd=root, capture_output=True, text=True,
                           check=True, timeout=120)
    assert other.stdout.split() == ["200", "200"], other.stderr
    assert post_login(here).status_code == 429, "the other process's posts were not counted here"


def test_two_app_instances_share_the_failed_login_counts_without_redis(make_app, world):
    worker_a, worker_b = make_app().test_client(), make_app().test_client()
    data = {"identifier": "ma1", "password": "wrongpass1"}
    for i in range(5):
        (worker_a if i % 2 else worker_b).post("/auth/login", data=data)
    refused = worker_a.post("/auth/login", data={"identifier": "ma1", "password": "pass1234"})
    assert refused.status_code == 429 and "登录失败次数过多" in refused.get_data(as_text=True)


def test_failed_login_counts_are_shared_through_redis_when_configured(make_app, world):
    redis_or_skip()
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": f"learnhub-test-{uuid.uuid4().hex}"}
    worker_a, worker_b = make_app(**settings).test_client(), make_app(**settings).test_client()
    data = {"identifier": "ma1", "password": "wrongpass1"}
    for i in range(5):
        (worker_a if i % 2 else worker_b).post("/auth/login", data=data)
    assert worker_a.post("/auth/login", data={"identifier": "ma1", "password": "pass1234"}).status_code == 429
    assert worker_b.post("/auth/login", data={"identifier": "ma1b", "password": "pass1234"}).status_code == 302


@pytest.mark.parametrize("uri", ["", "memory://", "database"])
def test_counters_are_never_kept_per_process(make_app, uri):
    app = make_app(RATELIMIT_STORAGE_URI=uri)
    assert app.config["RATELIMIT_STORAGE_URI"] == "learnhub+db://"
    assert type(app.extensions["learnhub.counters"]).__name__ == "DatabaseStorage"


def test_an_unsupported_counter_storage_stops_the_app_from_starting(make_app):
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        make_app(RATELIMIT_STORAGE_URI="memcached://127.0.0.1:11211")


# Nothing listens here: a configured Redis that is down (stopped, restarting, moved).
DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_with_redis_down_logins_still_work_and_failures_still_count(make_app, world):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="30 per minute", RATELIMIT_STORAGE_URI=DEAD_REDIS)
    client = app.test_client()
    wrong = client.post("/auth/login", data={"identifier": "ma1", "password": "wrongpass1"})
    assert wrong.status_code == 200 and "还可尝试" in wrong.get_data(as_text=True)
    for _ in range(4):
        client.post("/auth/login", data={"identifier": "ma1", "password": "wrongpass1"})
    locked = client.post("/auth/login", data={"identifier": "ma1", "password": "pass1234"})
    assert locked.status_code == 429 and "登录失败次数过多" in locked.get_data(as_text=True)
    # Another account on the same phone signs in: the counts were kept, per account, in the database.
    assert client.post("/auth/login", data={"identifier": "ma1b", "password": "pass1234"}).status_code == 302


def test_with_redis_down_request_limits_still_hold_across_workers(make_app, world):
    settings = dict(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI=DEAD_REDIS)
    worker_a, worker_b = make_app(**settings).test_client(), make_app(**settings).test_client()
    codes = [post_login(client).status_code for client in (worker_a, worker_b, worker_a, worker_b)]
    assert codes == [200, 200, 200, 429]


def test_health_names_a_redis_that_is_down(make_app, world):
    down = make_app(RATELIMIT_STORAGE_URI=DEAD_REDIS).test_client().get("/healthz")
    assert down.status_code == 503 and down.get_json() == {"status": "error", "database": True, "redis": False}
    plain = make_app().test_client().get("/healthz")
    assert plain.status_code == 200 and plain.get_json() == {"status": "ok", "database": True}


def test_health_is_ok_with_redis_up(make_app, world):
    redis_or_skip()
    up = make_app(RATELIMIT_STORAGE_URI=REDIS_URL).test_client().get("/healthz")
    assert up.status_code == 200 and up.get_json()["redis"] is True
