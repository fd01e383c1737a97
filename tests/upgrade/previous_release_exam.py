"""Run by tests/upgrade/test_previous_release.py with the PREVIOUS release's code first on sys.path: sign a
member in, start the paper, save every answer and hand it in, through the HTTP routes (the contract that
stays put between releases), against a database the NEW release's migrations built. Prints JSON."""

from __future__ import annotations

import json
import re
import sys


def main(old_code: str, database_url: str, member_no: str, password: str, assignment_id: str) -> None:
    sys.path.insert(0, old_code)
    from config import TestingConfig  # the previous release's

    from learnhub import create_app

    assert sys.modules["learnhub"].__file__.startswith(old_code), "not the previous release's code"
    config = type("Config", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database_url})
    client = create_app(config).test_client()
    signed_in = client.post("/auth/login", data={"identifier": member_no, "password": password})
    assert signed_in.status_code == 302, signed_in.status_code
    started = client.post(f"/quiz/{assignment_id}/start")
    assert started.status_code == 302, started.status_code
    attempt_id = int(re.search(r"/quiz/attempts/(\d+)", started.headers["Location"]).group(1))
    page = client.get(f"/quiz/attempts/{attempt_id}").get_data(as_text=True)
    answers: dict[str, str] = {}
    for position in sorted({int(p) for p in re.findall(r'name="q(\d+)"', page)}):
        choice = re.search(rf'name="q{position}"[^>]*value="([^"]*)"', page)
        answers[str(position)] = choice.group(1) if choice and choice.group(1) else "答案"
    saves = []
    for seq, (position, answer) in enumerate(answers.items(), start=1):
        saved = client.post(f"/quiz/attempts/{attempt_id}/answers",
                            json={"position": int(position), "answer": answer, "seq": seq})
        saves.append([saved.status_code, (saved.get_json() or {}).get("ok")])
    form = {"shown": ",".join(answers), **{f"q{p}": a for p, a in answers.items()},
            **{f"s{p}": str(seq) for seq, p in enumerate(answers, start=1)}}
    handed_in = client.post(f"/quiz/attempts/{attempt_id}/submit", data=form)
    print(json.dumps({"attempt": attempt_id, "answers": answers, "saves": saves, "submit": handed_in.status_code}))


if __name__ == "__main__":
    main(*sys.argv[1:])
