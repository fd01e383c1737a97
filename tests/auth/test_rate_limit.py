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


def post_login(client):
    return client.post("/auth/login", data={"identifier": "nobody", "password": "wrongpass1"})


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
