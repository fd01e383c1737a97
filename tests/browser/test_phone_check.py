"""测试一下你的手机 (issue 16): linked from an upcoming exam, it checks in a few seconds that this phone can
take the exam, and says in plain Chinese what to do when it cannot: storage unavailable (private mode),
a clock ten minutes off, the WeChat browser, no connection to the server. Screenshots at 360×640."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, SMALL
from .test_small_phone import log_in

pytestmark = pytest.mark.browser
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 12; V2055A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
             "Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560")


@pytest.fixture
def open_check(browser, request, live_server, world):
    """Open the check page from the exam's page on a fresh 360×640 phone; extra context settings allowed."""
    out = ARTIFACTS / request.node.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    contexts = []

    def run(init_script: str | None = None, user_agent: str | None = None, offline_echo: bool = False):
        extra = {"user_agent": user_agent} if user_agent else {}
        context = browser.new_context(viewport=SMALL, device_scale_factor=2, is_mobile=True, has_touch=True,
                                      locale="zh-CN", **extra)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        log_in(page, live_server, "ma1")
        page.wait_for_url(f"{live_server}/**")
        if init_script:
            page.add_init_script(init_script)
        if offline_echo:
            page.route("**/quiz/check/echo", lambda route: route.abort("internetdisconnected"))
        page.goto(f"{live_server}/quiz/{world.assignment_a}")
        page.click("#phone-check")
        expect(page.locator("#again")).to_be_visible()
        page.screenshot(path=str(out / "check.png"), full_page=True)
        assert not errors, errors
        return page

    yield run
    for context in contexts:
        context.close()


def state(page, key: str) -> str:
    return page.get_attribute(f"#check-{key}", "data-result")


def test_a_phone_that_can_take_the_exam_is_told_so(open_check):
    page = open_check()
    assert [state(page, k) for k in ("script", "storage", "cookies", "server", "clock", "browser")] == ["ok"] * 6
    expect(page.locator("#verdict")).to_have_text("这部手机可以参加考试。")
    expect(page.locator("#check-server")).to_contain_text("服务器已确认收到测试答案")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_storage_unavailable_says_to_leave_private_mode(open_check):
    page = open_check("Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError'); };")
    assert state(page, "storage") == "bad" and state(page, "server") == "ok"
    expect(page.locator("#check-storage")).to_contain_text("关闭无痕模式")
    expect(page.locator("#verdict")).to_contain_text("发现 1 个问题")


def test_a_clock_ten_minutes_off_is_named_and_said_not_to_matter(open_check):
    page = open_check("(function () { var real = Date.now; Date.now = function () { return real() + 600000; }; })();")
    assert state(page, "clock") == "warn" and state(page, "server") == "ok"
    expect(page.locator("#check-clock")).to_contain_text("相差约 10 分钟")
    expect(page.locator("#check-clock")).to_contain_text("考试计时以服务器为准")
    expect(page.locator("#verdict")).to_have_text("可以参加考试，但请留意下面的提示。")


def test_the_wechat_browser_is_recognised_with_the_way_out(open_check):
    page = open_check(user_agent=WECHAT_UA)
    assert state(page, "browser") == "warn"
    expect(page.locator("#check-browser")).to_contain_text("在浏览器打开")


def test_no_connection_to_the_server_is_a_problem_with_what_to_do(open_check):
    page = open_check(offline_echo=True)
    assert state(page, "server") == "bad" and state(page, "storage") == "ok"
    expect(page.locator("#check-server")).to_contain_text("请检查 Wi-Fi 或移动数据")
    page.unroute("**/quiz/check/echo")
    page.click("#again")
    expect(page.locator("#verdict")).to_have_text("这部手机可以参加考试。")
