"""Shared notes under load: what Argon2id costs a server process, in time and memory.

Run with `python -m bench.shared_notes [--links N] [--write-docs]`.

A fresh SQLite database under var/bench/ gets a few fictional studies; one `trialfinder
serve` process (as `make run` starts it, without the worker) serves them. The client:

1. shares N sets of notes one after another, each from its own client address (sent as
   X-Forwarded-For, which uvicorn trusts from 127.0.0.1, so the per-address limit of 10
   an hour is not what is measured), and times each share;
2. opens all N links at the same moment with their right passcodes, each on its own
   connection, and times each answer from the release, while another client reads the
   study page over and over (is the rest of the site still served?); links answered 503
   (the process admits 8 derivations at a time) are opened again one by one;
3. sends N wrong passcodes for one more link at the same moment, from N addresses: exactly
   5 may be checked (403), the rest must be 429.

The server's peak resident memory (VmHWM) is read from /proc before and after the bursts:
each derivation holds 64 MiB, and a process runs at most two at once.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from app.notes.service import MAX_TRIES
from bench.common import (
    ROOT,
    WORK,
    free_port,
    fresh_sqlite,
    load,
    machine,
    raw_records,
    summary_ms,
    today,
    write_section,
)

SHARE = re.compile(r"/shared/([A-Za-z0-9_-]{32})/manage/")
PASSCODE = "correct horse battery staple"


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc")


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TRIALFINDER_DATABASE_URL": database_url,
        "TRIALFINDER_MAIL_DIR": str(WORK / "shared-notes-mail"),
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    log = (WORK / "shared-notes-server.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not become ready within 60 s")


def share_once(base: str, nct_id: str, index: int) -> tuple[str, float]:
    with httpx.Client(base_url=base, timeout=60) as http:
        page = http.get(f"/studies/{nct_id}/notes")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "no CSRF token on the notes page"
        lines = re.findall(r'name="answer-(\d+)" id="answer-\d+-yes"', page.text)
        data = {f"answer-{n}": ("yes", "no", "unsure")[int(n) % 3] for n in lines}
        data.update(
            csrf_token=token.group(1), passcode=PASSCODE, action="share",
            note=f"Benchmark note {index}: questions for the doctor. " * 20,
        )  # fmt: skip
        started = time.perf_counter()
        answer = http.post(
            f"/studies/{nct_id}/notes", data=data,
            headers={"X-Forwarded-For": f"10.0.{index // 250}.{index % 250 + 1}"},
        )  # fmt: skip
        took = time.perf_counter() - started
        found = SHARE.search(answer.headers.get("location", ""))
        assert answer.status_code == 303, (answer.status_code, answer.text[:300])
        assert found, answer.headers
        return found.group(1), took


def burst(base: str, tokens: list[str], passcodes: list[str]) -> list[tuple[int, float]]:
    """POST each passcode to its link at the same moment; (status, seconds) per answer."""
    # Every client takes its CSRF token and cookie first (not timed), then all wait.
    # Each its own client address (as a proxy would forward it): the per-address limit on
    # passcode checks is not what is measured.
    clients = [
        httpx.Client(
            base_url=base,
            timeout=120,
            headers={"X-Forwarded-For": f"10.1.{i // 250}.{i % 250 + 1}"},
        )
        for i in range(len(tokens))
    ]
    forms = []
    for client, passcode in zip(clients, passcodes, strict=True):
        page = client.get("/alerts")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found
        forms.append({"csrf_token": found.group(1), "passcode": passcode})
    start = threading.Barrier(len(tokens))

    def one(i: int) -> tuple[int, float]:
        start.wait()
        began = time.perf_counter()
        answer = clients[i].post(f"/shared/{tokens[i]}", data=forms[i])
        return answer.status_code, time.perf_counter() - began

    try:
        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            return list(pool.map(one, range(len(tokens))))
    finally:
        for client in clients:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=40)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    settings = fresh_sqlite("shared-notes")
    load(settings, list(raw_records(20, seed=12)))
    import sqlalchemy as sa

    with sa.create_engine(settings.database_url).connect() as conn:
        nct_id = conn.execute(
            sa.text(
                "SELECT nct_id FROM studies WHERE eligibility_criteria LIKE '%Exclusion%' "
                "ORDER BY nct_id LIMIT 1"
            )
        ).scalar_one()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(settings.database_url, port)
    try:
        memory_start = peak_rss_mib(server.pid)
        made = [share_once(base, nct_id, i) for i in range(args.links + 1)]
        tokens = [token for token, _ in made]
        share_times = [took for _, took in made]
        memory_before = peak_rss_mib(server.pid)
        quiet_times = []
        with httpx.Client(base_url=base, timeout=60) as http:
            for _ in range(20):
                began = time.perf_counter()
                assert http.get(f"/studies/{nct_id}").status_code == 200
                quiet_times.append(time.perf_counter() - began)
        page_times: list[float] = []
        reading = threading.Event()

        def read_pages() -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                while not reading.is_set():
                    began = time.perf_counter()
                    assert http.get(f"/studies/{nct_id}").status_code == 200
                    page_times.append(time.perf_counter() - began)

        reader = threading.Thread(target=read_pages)
        reader.start()
        began = time.perf_counter()
        opened = burst(base, tokens[:-1], [PASSCODE] * args.links)
        opened_wall = time.perf_counter() - began
        reading.set()
        reader.join()
        again = [
            burst(base, [token], [PASSCODE])[0]
            for token, (code, _) in zip(tokens, opened, strict=False)
            if code == 503
        ]
        memory_opened = peak_rss_mib(server.pid)
        wrong = burst(base, [tokens[-1]] * args.links, ["not the passcode"] * args.links)
        memory_after = peak_rss_mib(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)

    open_codes = Counter(code for code, _ in opened)
    wrong_codes = Counter(code for code, _ in wrong)
    assert set(open_codes) <= {200, 503}, open_codes
    assert all(code == 200 for code, _ in again), again
    assert wrong_codes == {403: MAX_TRIES, 429: args.links - MAX_TRIES}, wrong_codes
    open_ms = summary_ms([t for code, t in opened if code == 200])
    busy_ms = summary_ms([t for code, t in opened if code == 503]) if open_codes[503] else "-"
    rows = [
        f"| sharing, one at a time ({len(share_times)} shares) | {summary_ms(share_times)} |",
        f"| {args.links} links opened at the same moment, right passcodes | "
        f"{open_codes[200]} opened (200): {open_ms}; {open_codes[503]} told to try again "
        f"(503, Retry-After 5): {busy_ms}; {opened_wall:.1f} s in all |",
        f"| the same {open_codes[503]} opened again, one by one | "
        f"{summary_ms([t for _, t in again]) if again else '-'} |",
        f"| the study page, read by another client before the burst (20 reads) | "
        f"{summary_ms(quiet_times)} |",
        f"| the study page, read by another client during the burst ({len(page_times)} reads) | "
        f"{summary_ms(page_times)} |",
        f"| {args.links} wrong passcodes for one link at the same moment | {wrong_codes[403]} "
        f"checked (403), {wrong_codes[429]} refused at once (429); "
        f"{summary_ms([t for _, t in wrong])} |",
        f"| server's peak resident memory | {memory_start:.0f} MiB once ready, "
        f"{memory_before:.0f} MiB after the shares, "
        f"{memory_opened:.0f} MiB after the opening burst, {memory_after:.0f} MiB at the end |",
    ]
    report = (
        textwrap.dedent(f"""\
        Measured {today()} on {machine()}, {os.cpu_count()} cores, one `trialfinder serve`
        process on SQLite (`python -m bench.shared_notes --links {args.links}`).

        | what | figures |
        |---|---|
        """)
        + "\n".join(rows)
        + textwrap.dedent(f"""

        Each open costs one Argon2id derivation (64 MiB, 3 passes, one lane). A process runs at
        most two at once and admits at most half its web threads (8 of the default 16),
        running or queued; the others are answered 503 at once, so a burst never holds every
        web thread and the rest of the site goes on being served. The peak memory rose by
        {memory_opened - memory_before:.0f} MiB during the burst; {args.links} derivations
        at once would hold {args.links * 64:,} MiB.
        """)
    )
    print(report)
    if args.write_docs:
        write_section("shared-notes", report)


if __name__ == "__main__":
    main()
