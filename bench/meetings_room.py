"""The rooms of `python -m bench meetings`: many branch meetings at once, each a projector driven by its
secretary and its members' phones, doing what a browser running learnhub/static/js/meeting.js does.

  python -m bench.meetings_room SPEC.json RESULT.json      (bench/meetings.py writes the spec, reads the result)

One asyncio process of plain HTTP/1.1 (TLS to nginx) over bench/openloop.py's `Connection`, one
kept-alive connection per phone and per projector (a request waits for the one before it on that
connection; a connection the server closed while idle is reopened once, as a browser does).

- A phone arrives at its time, opens `/m/<code>` (the QR code's address), posts its form, follows the
  redirect to its answer page, and polls the state URL the page names with If-None-Match: at once, then
  after each answer as long as the server's `X-Poll-After` says (1500 ms without it), ±10 %. The page's
  `data-token` goes back as `X-Meeting-Token` on polls and answers; without one, an answer carries
  `X-CSRFToken` (the page's meta csrf-token). Seeing a new open question it answers after 2–10 s (option
  indexes, "true"/"false", a sorted list for multiple choice, a seq as meeting.js makes it); 5 % change
  their mind 1–5 s later (another answer, higher seq). A failed answer (≥ 500, no answer) is sent again
  after 1.5, 3, 6 s as meeting.js retries. It stops once it sees the meeting ended.
- A projector opens its screen page, polls its state every 1000 ms (or `X-Poll-After`); its secretary
  presses 开始第一题 after the phones have had time to join, 停止作答 `seconds` after each question opened,
  下一题 ~8 s later, and after the last 结束: form posts with the page's token, each followed (as a
  browser follows the redirect) by the screen page again.

Latency is from the time a request was due (its timer fired) to the last byte of its answer
(meetings_client.py). Stylesheets and scripts are not fetched: their addresses change with their
content and they are cached for a year by nginx (learnhub/static_urls.py), and these phones have used the app.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass

from .meetings_client import KINDS, Client, Tally, answer_value, form_token, lags, next_wait, page_fields, stats
from .openloop import _tls_context, run_child

PHONE_MS, SCREEN_MS = 1500, 1000  # meeting.js's intervals when the server says nothing
RETRIES_S = (1.5, 3.0, 6.0)  # meeting.js sends an answer again after a failure, waiting longer each time


@dataclass
class Room:
    spec: dict
    start: float
    ended: bool = False


class Run:
    def __init__(self, spec: dict):
        self.spec, self.tally = spec, Tally()
        self.port, self.host, self.tls = spec["port"], spec["host"], _tls_context(spec)
        self.origin = f"{'https' if spec.get('tls') else 'http'}://{self.host}"
        self.start = 0.0

    # ------------------------------------------------------------ a phone

    async def phone(self, room: Room, person: dict) -> None:
        tally, rng, meeting = self.tally, random.Random(person["user"]), room.spec["id"]
        client = Client(self, person["cookie"])
        due = room.start + person["join_at"]
        await sleep_until(due)
        try:
            page = await self._join(client, room, due)
            if page is None:
                tally.people["phones that could not join"] += 1
                return
            loaded, tag, handled = time.perf_counter(), None, set()
            tally.people["phones joined"] += 1
            token = page.get("token")
            tally.people["phones with a page token" if token else "phones without a page token (X-CSRFToken)"] += 1
            headers = {"Accept": "application/json", **({"X-Meeting-Token": token} if token else {})}
            answering = {"seq": 0, "tasks": []}
            due = time.perf_counter()
            while time.perf_counter() < self.deadline:
                status, head, body = await client.call(
                    lambda s: "phone poll 304" if s == 304 else "phone poll 200", "GET", page["state"], due,
                    {**headers, **({"If-None-Match": tag} if tag else {})}, expect=(200, 304))
                state = self._json(status, body, "phone poll 200")
                if state is not None:
                    tag = head.get("etag", [None])[0]
                    position = state.get("position")
                    if state["phase"] in ("open", "closing") and position not in handled:
                        handled.add(position)
                        tally.seen.append((meeting, position, time.perf_counter(), loaded))
                        if state.get("question", {}).get("withheld"):
                            tally.answers["withheld questions"] += 1
                        elif state["phase"] == "open":
                            task = asyncio.create_task(self._answer(client, room, page, position, state["question"],
                                                                    person, answering, rng))
                            answering["tasks"].append(task)
                    if state["phase"] == "ended":
                        break
                tally.poll_after["phone"][head.get("x-poll-after", ["none"])[0]] += 1
                due = time.perf_counter() + next_wait(head, PHONE_MS, rng)
                await sleep_until(due)
            await asyncio.gather(*answering["tasks"])
            tally.answers["questions seen"] += len(handled)
        finally:
            client.close()

    def _json(self, status: int | None, body: bytes, kind: str) -> dict | None:
        """A 200's state, or None (a 304, a failure; a body that is not a state is listed as unexpected)."""
        if status != 200:
            return None
        try:
            state = json.loads(body)
            state["phase"]
        except (ValueError, TypeError, KeyError):
            self.tally.unexpected[f"{kind}: not a state"] += 1
            return None
        return state

    async def _join(self, client: Client, room: Room, due: float) -> dict | None:
        url = room.spec["join"]
        status, _, html = await client.call("join pages", "GET", url, due)
        token = form_token(html.decode("utf-8", "replace")) if status == 200 else None
        if token is None:
            return None
        body = urllib.parse.urlencode({"csrf_token": token}).encode()
        status, head, _ = await client.call("join pages", "POST", url, time.perf_counter(), body=body, form=True,
                                            expect=(302, 303))
        if status not in (302, 303):
            return None
        path = urllib.parse.urlsplit(head["location"][0]).path
        status, _, html = await client.call("join pages", "GET", path, time.perf_counter(), {"Referer": self.origin + url})
        page = page_fields(html.decode("utf-8", "replace")) if status == 200 else {}
        return page if "state" in page and "answer" in page else None

    async def _answer(self, client: Client, room: Room, page: dict, position: int, question: dict, person: dict,
                      answering: dict, rng: random.Random) -> None:
        due = time.perf_counter() + rng.uniform(2, 10)
        value, again = None, rng.random() < self.spec["change_share"]
        for _ in range(2 if again else 1):
            await sleep_until(due)
            value = answer_value(question, rng, value)
            answering["seq"] = max(answering["seq"] + 1, int(time.time() * 1000) * 1000 + person["user"] % 1000)
            ok = await self._send(client, room, page, position, value, answering["seq"], person, due)
            if not ok:
                return
            due = time.perf_counter() + rng.uniform(1, 5)

    async def _send(self, client: Client, room: Room, page: dict, position: int, value, seq: int, person: dict,
                    due: float) -> bool:
        tally = self.tally
        tally.answers["given"] += 1
        body = json.dumps({"position": position, "answer": value, "seq": seq}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        headers.update({"X-Meeting-Token": page["token"]} if page.get("token") else {"X-CSRFToken": page.get("csrf", "")})
        for retry in (0, *RETRIES_S):
            if retry:
                due = time.perf_counter() + retry
                await sleep_until(due)
            tally.answers["requests"] += 1
            status, _, data = await client.call("answer", "POST", page["answer"], due, headers, body)
            if status == 200:
                try:
                    reply = json.loads(data)
                except ValueError:
                    reply = {}
                if isinstance(reply, dict) and reply.get("ok"):
                    key = f"{room.spec['id']} {position} {person['user']}"
                    tally.acked[key] = max(tally.acked.get(key, 0), seq)
                    tally.answers["acknowledged"] += 1
                    if not reply.get("saved"):
                        tally.answers["acknowledged, not stored (stale seq)"] += 1
                    return True
            if status is not None and status < 500:  # 409 closed, or refused: meeting.js gives up too
                tally.answers["refused (409 closed)" if status == 409 else f"refused (HTTP {status})"] += 1
                return False
        tally.answers["lost after retries"] += 1
        return False

    # ------------------------------------------------------------ a projector and its secretary

    async def projector(self, room: Room) -> None:
        spec, tally = room.spec, self.tally
        client = Client(self, self.spec["staff_cookie"])
        await sleep_until(room.start)
        screen: dict = {"tag": None}
        try:
            if not await self._screen_page(client, room, screen, room.start):
                tally.people["projectors without their page"] += 1
                return
            poller = asyncio.create_task(self._poll_screen(client, room, screen))
            due = room.start + self.spec["join_window"] + self.spec["lobby"]
            for position in range(1, spec["ask"] + 1):
                await sleep_until(due)
                if await self._control(client, room, screen, "next", due):
                    tally.opened[(spec["id"], position)] = screen["answered_at"]
                due = time.perf_counter() + spec["seconds"]
                await sleep_until(due)
                await self._control(client, room, screen, "close", due)
                due = time.perf_counter() + self.spec["results"]
            await sleep_until(due)
            await self._control(client, room, screen, "end", due)
            room.ended = True
            await poller
            tally.people["meetings run to the end"] += 1
        finally:
            client.close()

    async def _screen_page(self, client: Client, room: Room, screen: dict, due: float) -> bool:
        status, _, html = await client.call("screen page", "GET", room.spec["screen"], due)
        fields = page_fields(html.decode("utf-8", "replace")) if status == 200 else {}
        if "csrf" not in fields or "state" not in fields:
            return False
        screen.update(csrf=fields["csrf"], state=fields["state"], tag=None)  # a new page polls afresh
        return True

    async def _control(self, client: Client, room: Room, screen: dict, action: str, due: float) -> bool:
        body = urllib.parse.urlencode({"csrf_token": screen["csrf"]}).encode()
        status, _, _ = await client.call("controls", "POST", room.spec[action], due, body=body, form=True,
                                         expect=(302, 303))
        screen["answered_at"] = time.perf_counter()
        if status not in (302, 303):
            return False
        await self._screen_page(client, room, screen, time.perf_counter())
        return True

    async def _poll_screen(self, client: Client, room: Room, screen: dict) -> None:
        rng = random.Random(room.spec["id"])
        due = time.perf_counter()
        while time.perf_counter() < self.deadline:
            tag = screen["tag"]
            status, head, body = await client.call("screen poll", "GET", screen["state"], due,
                                                   {"Accept": "application/json", **({"If-None-Match": tag} if tag else {})},
                                                   expect=(200, 304))
            state = self._json(status, body, "screen poll")
            if state is not None:
                screen["tag"] = head.get("etag", [None])[0]
                if state["phase"] == "ended" and room.ended:
                    return
            self.tally.poll_after["screen"][head.get("x-poll-after", ["none"])[0]] += 1
            due = time.perf_counter() + next_wait(head, SCREEN_MS, rng)
            await sleep_until(due)

    # ------------------------------------------------------------ all of it

    async def main(self) -> dict:
        spec = self.spec
        self.start = time.perf_counter() + 0.2
        rooms = [Room(m, self.start + m["start_at"]) for m in spec["meetings"]]
        self.deadline = self.start + spec["planned_s"] + 120
        tasks = [asyncio.create_task(self.projector(room)) for room in rooms]
        tasks += [asyncio.create_task(self.phone(room, person)) for room in rooms for person in room.spec["phones"]]
        done, pending = await asyncio.wait(tasks, timeout=max(1.0, self.deadline + 60 - time.perf_counter()))
        for task in pending:
            task.cancel()
        crashed = [t.exception() for t in done if not t.cancelled() and t.exception() is not None]
        return self.result(time.perf_counter() - self.start, len(pending), crashed)

    def result(self, seconds: float, unfinished: int, crashed: list) -> dict:
        t = self.tally
        lag, later = lags(t.opened, t.seen)
        kinds = {}
        for kind in KINDS:
            kinds[kind] = {**stats(t.latency[kind]), "per_s": len(t.latency[kind]) / seconds,
                           "errors": t.errors[kind], "closed_409": t.closed[kind]}
        answered = len(t.finished)
        busiest = max(Counter(int(x // 10) for x in t.finished).values(), default=0) / 10
        return {"seconds": seconds, "requests": answered, "per_s": answered / seconds, "busiest_10s_per_s": busiest,
                "kinds": kinds, "unexpected": dict(t.unexpected), "failures": dict(t.failures),
                "first_failure_s": t.first_failure, "late": stats(t.late), "waited": stats(t.waited), "lag": stats(lag), "lag_left_out": later, "questions_opened": len(t.opened),
                "answers": dict(t.answers), "poll_after": {k: _spread(v) for k, v in t.poll_after.items()}, "people": dict(t.people), "connections": dict(t.connections),
                "acked": t.acked, "unfinished_tasks": unfinished,
                "crashed": sorted({f"{type(e).__name__}: {e}"[:200] for e in crashed})}


def _spread(seen: Counter) -> dict:
    """X-Poll-After values seen: how many polls carried none, and the least, median and most (ms)."""
    values = sorted(int(v) for v, n in seen.items() for _ in range(n) if v.isdigit())
    return {"without": seen.get("none", 0), "min": values[0] if values else None,
            "median": values[len(values) // 2] if values else None, "max": values[-1] if values else None}


async def sleep_until(when: float) -> None:
    delay = when - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def main(argv: list[str]) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    run_child(argv, lambda spec: Run(spec).main())


if __name__ == "__main__":
    main(sys.argv[1:])
