"""Coarse per-address limits on login posts, shared by every worker through Redis when configured."""

from __future__ import annotations

import os
import uuid

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


def test_memory_limit_answers_429_in_chinese(make_app, world):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI="memory://")
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
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute", RATELIMIT_STORAGE_URI="memory://",
                   PROXY_COUNT=1)
    client = app.test_client()
    first = [post_login(client, **{"X-Forwarded-For": "10.0.0.1"}).status_code for _ in range(3)]
    assert first == [200, 200, 429]
    assert post_login(client, **{"X-Forwarded-For": "10.0.0.2"}).status_code == 200


def test_forwarded_headers_are_ignored_without_a_proxy(make_app, world):
    # Directly exposed, a client could otherwise dodge the limit by inventing addresses.
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute", RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    codes = [post_login(client, **{"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
