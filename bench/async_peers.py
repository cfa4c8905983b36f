"""The bench at scale (issue 15), the Python side: N views of one payment,
K in flight at a time on one asyncio loop, with
  kasko    kasko.AsyncClient (libkasko's asynchronous calls),
  httpx    httpx.AsyncClient, and
  aiohttp  aiohttp.ClientSession,
each checking what libkasko checks of an answer (status 200, a JSON
payment with the id asked for). Prints one JSON line as bench/async_load.c
does: throughput, latency percentiles, CPU time per request, the most
threads the process had, its peak RSS.

    python3 async_peers.py kasko|httpx|aiohttp URL PUBLIC_KEY SECRET_KEY PAYMENT_ID N K
"""

import asyncio
import json
import resource
import sys
import time
from typing import Awaitable, Callable, List


def status_field(name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(name):
                return int(line.split()[1])
    return -1


class Meter:
    def __init__(self, total: int) -> None:
        self.latencies: List[float] = []
        self.failed = 0
        self.threads = status_field("Threads:")
        self.total = total
        self.next = 0

    def note_threads(self) -> None:
        self.threads = max(self.threads, status_field("Threads:"))


async def drive(view: Callable[[], Awaitable[bool]], meter: Meter, in_flight: int) -> None:
    async def worker() -> None:
        while meter.next < meter.total:
            meter.next += 1
            started = time.monotonic()
            try:
                ok = await view()
            except Exception as error:  # a failed request counts, and the run goes on
                if meter.failed < 3:
                    print("async_peers: %s: %s" % (type(error).__name__, error), file=sys.stderr)
                ok = False
            meter.latencies.append((time.monotonic() - started) * 1000)
            if not ok:
                meter.failed += 1
            if len(meter.latencies) % 1000 == 0:
                meter.note_threads()

    await asyncio.gather(*(worker() for _ in range(in_flight)))


async def run(peer: str, url: str, public_key: str, secret_key: str, payment_id: str, meter: Meter,
              in_flight: int) -> None:
    headers = {"Authorization": "Bearer " + secret_key, "Accept": "application/vnd.kasko.v2+json"}
    target = url + "/payments/" + payment_id
    if peer == "kasko":
        import kasko
        async with kasko.AsyncClient(public_key, secret_key, base_url=url, timeout=60, max_retries=0) as client:
            async def view_kasko() -> bool:
                payment = await client.get_payment(payment_id)
                return payment.id == payment_id
            await drive(view_kasko, meter, in_flight)
    elif peer == "httpx":
        import httpx
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        async with httpx.AsyncClient(limits=limits, timeout=60, headers=headers) as session:
            async def view_httpx() -> bool:
                response = await session.get(target)
                return response.status_code == 200 and response.json().get("id") == payment_id
            await drive(view_httpx, meter, in_flight)
    elif peer == "aiohttp":
        import aiohttp
        connector = aiohttp.TCPConnector(limit=in_flight)
        async with aiohttp.ClientSession(connector=connector, headers=headers,
                                         timeout=aiohttp.ClientTimeout(total=60)) as http:
            async def view_aiohttp() -> bool:
                async with http.get(target) as response:
                    body = await response.json(content_type=None)
                    return response.status == 200 and body.get("id") == payment_id
            await drive(view_aiohttp, meter, in_flight)
    else:
        raise SystemExit("unknown peer " + peer)


NAMES = {"kasko": "libkasko Python AsyncClient", "httpx": "httpx.AsyncClient", "aiohttp": "aiohttp"}


def main() -> int:
    if len(sys.argv) != 8:
        print(__doc__, file=sys.stderr)
        return 2
    peer, url, public_key, secret_key, payment_id = sys.argv[1:6]
    total, in_flight = int(sys.argv[6]), int(sys.argv[7])
    meter = Meter(total)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    asyncio.run(run(peer, url, public_key, secret_key, payment_id, meter, in_flight))
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    latencies = sorted(meter.latencies)
    print(json.dumps({
        "peer": NAMES[peer], "requests": total, "in_flight": in_flight, "failed": meter.failed,
        "seconds": round(elapsed, 3), "rps": round(total / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 2), "p99_ms": round(latencies[int(len(latencies) * 0.99)], 2),
        "cpu_us_per_request": round(cpu / total * 1e6, 1), "threads": meter.threads,
        "rss_mb": round(status_field("VmHWM:") / 1024, 1)}))
    return 0 if meter.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
