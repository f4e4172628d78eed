"""Bounded load test: many reviewers at once on the real server (issue 21).

    .venv/bin/python benchmarks/bench_load.py --clients 8 --requests 250 --max-seconds 300

Builds the web tests' world (a synthetic force of --officers ingested into a DuckDB store, or
--store postgresql://... , flags on the latest month, one account per role; tests/support/
web_world.py), starts `openeis serve` on 127.0.0.1 in its own process, and lets --clients
threads each make --requests requests over one keep-alive connection: the review queue and a
flag, as the API (a token) and as pages (a signed-in session), as the administrator, the
analyst and a reviewer in turn. The run stops at --max-seconds whatever is left (reported as
not sent). Reports the requests made, errors (any status but 200, or a broken connection), the
median, 99th percentile and slowest time of a request and the throughput, with the machine's
load average before and after: the machine is shared, so quote the load with the numbers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.web_world import KEY, build_world  # noqa: E402

from openeis.governance import sign_in  # noqa: E402
from openeis.governance.users import get_user  # noqa: E402
from openeis.store import open_store  # noqa: E402

USERS = ("admin", "ana", "rita")  # administrator, analyst, a reviewer of unit A


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, key_file: Path, vault_key_file: Path | None, port: int) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "openeis"), "serve", "--store", url, "--key-file", str(key_file),
               "--port", str(port)]
    if vault_key_file:
        command += ["--vault-key-file", str(vault_key_file)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"openeis serve stopped: {server.stderr.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("openeis serve did not start within 60 s")


def session_cookies(url: str) -> dict[str, str]:
    """A signed-in page session for each user (as the sign-in form would start one)."""
    store = open_store(url)
    try:
        return {name: sign_in.start_session(store, get_user(store, name))[0] for name in USERS}
    finally:
        store.close()


def plan(world, client: int, requests: int) -> list[tuple[str, str, str]]:
    """(user, kind, path) for each request of one client: queue and flag, API and page."""
    user = USERS[client % len(USERS)]
    flags = world.flags_a if user == "rita" else world.flags_a + world.flags_b
    paths = [("api", "/api/flags"), ("page", "/queue"), ("api", f"/api/flags/{flags[client % len(flags)]}"),
             ("page", f"/flags/{flags[(client + 1) % len(flags)]}")]
    return [(user, *paths[i % len(paths)]) for i in range(requests)]


def run_client(port: int, steps, tokens, cookies, stop_at: float, out: dict) -> None:
    times, errors, sent = [], [], 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for user, kind, path in steps:
        if time.monotonic() >= stop_at:
            break
        headers = ({"Authorization": f"Bearer {tokens[user]}"} if kind == "api"
                   else {"Cookie": f"{sign_in.SESSION_COOKIE}={cookies[user]}"})
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{response.status} {path}")
        except (OSError, http.client.HTTPException) as error:
            errors.append(f"{type(error).__name__} {path}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        times.append(time.perf_counter() - started)
        sent += 1
    connection.close()
    out.update(times=times, errors=errors, sent=sent)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=250, help="Requests per client.")
    parser.add_argument("--max-seconds", type=float, default=300, help="Stop sending after this long.")
    parser.add_argument("--officers", type=int, default=150)
    parser.add_argument("--store", default=None, help="A PostgreSQL URL (an empty database); default a DuckDB file.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/openeis-bench-load"))
    parser.add_argument("--out", type=Path, default=None, help="Write the result as JSON here too.")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    for stale in ("load.duckdb", "load.duckdb.wal", "load.anchor"):
        (args.work / stale).unlink(missing_ok=True)
    url = args.store or str(args.work / "load.duckdb")
    built = time.perf_counter()
    world = build_world(url, args.work, officers=args.officers)
    built = time.perf_counter() - built
    key_file = args.work / "load.key"
    key_file.write_text(KEY.hex() + "\n")
    os.chmod(key_file, 0o600)
    cookies = session_cookies(url)
    port = free_port()
    server = start_server(url, key_file, world.vault_key_file, port)
    load_before = os.getloadavg()
    results: list[dict] = [{} for _ in range(args.clients)]
    started = time.monotonic()
    stop_at = started + args.max_seconds
    threads = [threading.Thread(target=run_client, args=(port, plan(world, i, args.requests), world.tokens, cookies,
                                                         stop_at, results[i])) for i in range(args.clients)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        wall = time.monotonic() - started
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()
    times = [t for r in results for t in r.get("times", [])]
    errors = [e for r in results for e in r.get("errors", [])]
    sent = sum(r.get("sent", 0) for r in results)
    report = {
        "clients": args.clients, "requests_per_client": args.requests, "max_seconds": args.max_seconds,
        "store": "postgresql" if args.store else "duckdb", "officers": args.officers, "world_built_s": round(built, 1),
        "sent": sent, "not_sent": args.clients * args.requests - sent, "errors": len(errors),
        "error_kinds": sorted(set(errors))[:10], "wall_s": round(wall, 1),
        "throughput_per_s": round(sent / wall, 1) if wall else None,
        "p50_ms": round(1000 * statistics.median(times), 1) if times else None,
        "p99_ms": round(1000 * percentile(times, 0.99), 1) if times else None,
        "max_ms": round(1000 * max(times), 1) if times else None,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after], "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    if errors or report["not_sent"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
