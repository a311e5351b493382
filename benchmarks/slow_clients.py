"""Slow clients: N connections trickle a request body while /healthz is probed and loaded.

An ALB forwards a request once it has the headers and streams the body as it
arrives, so a slow upload reaches the task as a slow body. Each client sends
its headers at once, then the body at a fixed rate; meanwhile a probe asks
/healthz on a new connection every interval (as a health checker does, with its
timeout) and wrk loads /healthz to see what the fast requests get.
"""

import asyncio
import time
from collections.abc import Callable


async def _trickle(host, port, path, headers, body_bytes, bytes_per_s, seconds) -> str:
    """Send the headers, then body_bytes at bytes_per_s for at most seconds; say how it ended."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return "refused"
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n{lines}"
        f"Content-Length: {body_bytes}\r\n\r\n".encode()
    )
    # A valid JSON object, so a service that reads it all answers as it would a real upload.
    body = (b'{"name": "' + b"a" * body_bytes)[: body_bytes - 2] + b'"}'
    step, sent, started = max(1, bytes_per_s // 4), 0, time.monotonic()
    try:
        while sent < body_bytes and time.monotonic() - started < seconds:
            writer.write(body[sent : sent + step])
            await writer.drain()
            sent += step
            await asyncio.sleep(0.25)
        writer.close()
    except OSError:
        return "reset"
    return "sent" if sent >= body_bytes else "cut at the time bound"


async def _probe(host, port, interval, timeout, stop) -> tuple[list[float], int]:
    """Ask /healthz every interval until stop; return the latencies and the failures."""
    latencies, failures = [], 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            status = await asyncio.wait_for(reader.readline(), timeout)
            writer.close()
            if b" 200 " in status:
                latencies.append(time.monotonic() - started)
            else:
                failures += 1
        except (TimeoutError, OSError):
            failures += 1
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
    return latencies, failures


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[round(fraction * (len(ordered) - 1))]


async def _scenario(host, port, path, headers, clients, config, fast_load) -> dict:
    stop = asyncio.Event()
    body = (config["body_bytes"], config["bytes_per_s"], config["seconds"])
    trickles = [
        asyncio.create_task(_trickle(host, port, path, headers, *body)) for _ in range(clients)
    ]
    await asyncio.sleep(1)  # every client is connected and sending before the probes begin
    probe = asyncio.create_task(
        _probe(host, port, config["probe_interval_s"], config["probe_timeout_s"], stop)
    )
    loaded = await asyncio.to_thread(fast_load, config["seconds"] - 4)
    stop.set()
    latencies, failures = await probe
    endings = await asyncio.gather(*trickles)
    p99 = percentile(latencies, 0.99)
    return {
        "clients": clients,
        "probes": len(latencies) + failures,
        "probes_failed": failures,
        "probe_p99_ms": None if p99 is None else round(p99 * 1000, 1),
        "loaded_rps": loaded,
        "client_endings": {ending: endings.count(ending) for ending in sorted(set(endings))},
    }


def measure(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    clients: int,
    config: dict,
    fast_load: Callable[[int], float],
) -> dict:
    """Run one scenario of clients slow clients; fast_load(seconds) returns /healthz req/s."""
    return asyncio.run(_scenario(host, port, path, headers, clients, config, fast_load))
