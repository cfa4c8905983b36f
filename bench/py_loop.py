"""The Python peers: the same loop through the kasko binding or requests.

    py_loop.py kasko|requests BASE_URL PUBLIC_KEY SECRET_KEY PAYMENT_ID REQUEST_JSON

Serves the commands of common.h on stdin (get N, post N, threads T N, rss,
quit) and answers like the C loop programs ("TOTAL_NS MEDIAN_NS CPU_NS" for
get and post, "ELAPSED_NS CPU_NS" for threads, KiB for rss).

Per call:
- kasko: ``client.get_payment(id)`` / ``client.create_payment(**request)`` on
  one ``kasko.Client`` (which decodes the JSON into a ``kasko.Payment``);
- requests: one ``requests.Session`` whose headers are exactly the library's
  (Accept: application/vnd.kasko.v2+json, Authorization: Bearer SECRET,
  User-Agent), ``session.get(url)`` / ``session.post(url, params={"key": pk},
  json=request)`` with a (10 s, 60 s) timeout, the status required to be
  2xx, then ``.json()`` and a check that it is a payment object.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Callable, Tuple


def make_kasko(base: str, pk: str, sk: str, pid: str, request: dict) -> Tuple[Callable[[], None], Callable[[], None]]:
    import kasko

    client = kasko.Client(pk, secret_key=sk, base_url=base)

    def get() -> None:
        payment = client.get_payment(pid)
        if payment.object != "payment":
            raise SystemExit("py_loop kasko: not a payment")

    def post() -> None:
        payment = client.create_payment(**request)
        if payment.object != "payment":
            raise SystemExit("py_loop kasko: not a payment")

    return get, post


def make_requests(base: str, pk: str, sk: str, pid: str, request: dict) -> Tuple[Callable[[], None], Callable[[], None]]:
    import requests

    session = requests.Session()
    session.headers = {  # type: ignore[assignment]
        "Accept": "application/vnd.kasko.v2+json",
        "Authorization": "Bearer " + sk,
        "User-Agent": os.environ["BENCH_USER_AGENT"],
    }
    get_url = base + "/payments/" + pid
    post_url = base + "/payments"
    params = {"key": pk}
    timeout = (10, 60)

    def check(response: "requests.Response") -> None:
        if not 200 <= response.status_code < 300:
            raise SystemExit(f"py_loop requests: HTTP {response.status_code}")
        data = response.json()
        if not isinstance(data, dict) or data.get("object") != "payment":
            raise SystemExit("py_loop requests: not a payment")

    def get() -> None:
        check(session.get(get_url, timeout=timeout))

    def post() -> None:
        check(session.post(post_url, params=params, json=request, timeout=timeout))

    return get, post


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main() -> int:
    if len(sys.argv) != 7 or sys.argv[1] not in ("kasko", "requests"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, base, pk, sk, pid, request_text = sys.argv[1:]
    request = json.loads(request_text)
    maker = make_kasko if mode == "kasko" else make_requests
    get, post = maker(base, pk, sk, pid, request)
    clock = time.perf_counter_ns
    out = sys.stdout
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] in ("get", "post"):
            call = get if words[0] == "get" else post
            count = int(words[1])
            samples = [0] * count
            cpu = time.process_time_ns()
            start = before = clock()
            for i in range(count):
                call()
                after = clock()
                samples[i] = after - before
                before = after
            cpu = time.process_time_ns() - cpu
            samples.sort()
            half = count // 2
            median = samples[half] if count % 2 else (samples[half - 1] + samples[half]) // 2
            out.write(f"{before - start} {median} {cpu}\n")
            out.flush()
            continue
        if words[0] == "threads":
            threads, count = int(words[1]), int(words[2])
            barrier = threading.Barrier(threads + 1)

            def run() -> None:
                barrier.wait()
                for _ in range(count):
                    get()

            workers = [threading.Thread(target=run) for _ in range(threads)]
            for worker in workers:
                worker.start()
            cpu = time.process_time_ns()
            barrier.wait()
            start = clock()
            for worker in workers:
                worker.join()
            out.write(f"{clock() - start} {time.process_time_ns() - cpu}\n")
            out.flush()
            continue
        if words[0] == "rss":
            elapsed = rss_kib()
        elif words[0] == "quit":
            return 0
        else:
            print(f"py_loop: unknown command {line!r}", file=sys.stderr)
            return 2
        out.write(f"{elapsed}\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
