"""The server process is killed mid-exam (SIGKILL) and started again: nothing acknowledged is lost,
and the page carries on by itself, sending what was answered, and the hand-in tapped, while the
server was down."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .test_hand_in import attempt_of, give, give_online, graded
from .test_phone_flows import open_quiz

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    """`python -m learnhub.server` in production settings on the test database, in its own process group."""

    def __init__(self, database_url: str, log: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**os.environ, "LEARNHUB_CONFIG": "production", "SECRET_KEY": "k" * 40, "DATABASE_URL": database_url,
                    "SESSION_COOKIE_SECURE": "false", "WEB_CONCURRENCY": "1", "WEB_THREADS": "2"}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "learnhub.server", "--port", str(self.port)], cwd=ROOT,
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited with {self.proc.returncode}: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail("the server did not listen within 30 s")

    def kill(self) -> None:
        """SIGKILL the server and its workers: no shutdown, no chance to finish anything."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def server(world, database_url, tmp_path):
    process = ServerProcess(database_url, tmp_path / "server.log")
    process.start()
    yield process
    process.kill()


def test_killing_the_server_mid_exam_loses_no_acknowledged_answer(app, world, server, phone):
    page = phone
    open_quiz(page, server.url, world, "ma1")
    give_online(page, 0)
    give_online(page, 1)
    server.kill()
    attempt_id = attempt_of(app, world.user["m_a1"]).id
    assert graded(app, attempt_id) == (False, [1, 2])  # every answer shown as 已保存 is in the database
    give(page, 2)
    give(page, 3)
    page.locator("section.q").nth(3).locator(".save-state.pending").wait_for()
    expect(page.locator("#net")).to_have_text("未保存，等待网络")
    server.start()
    expect(page.locator("#net")).to_have_text("全部已保存", timeout=30_000)  # the page retried by itself
    assert graded(app, attempt_id) == (False, [1, 2, 3, 4])
    page.reload()
    assert page.locator("section.q .save-state.saved").count() == 4
    server.kill()  # down again as the member hands in
    give(page, 4)
    page.click("#submit-btn")
    page.click("#confirm-yes")
    expect(page.locator("#handin")).to_have_text("暂时连不上服务器：答案已保存在手机上，连通后将自动交卷")
    server.start()
    page.wait_for_url("**/review", timeout=30_000)
    assert graded(app, attempt_id) == (True, [1, 2, 3, 4, 5])
