"""HTTP load on loopback: `GET /api/v1/consent/check` and `POST /api/v1/requests` at 50 clients.

The service runs in its own process (uvicorn, as `tutela serve` runs it); this process is the load
generator: ``--clients`` asyncio connections with HTTP/1.1 keep-alive, each sending its next
request as soon as the previous answer is read, for ``--seconds`` per scenario. Baseline, measured
in the same run with the same generator: a bare FastAPI endpoint returning a constant, in the
same kind of server process. Target (SPEC §4): ≥ 1,000 consent checks/s on 2 cores.

    python bench/http.py --seconds 5 --size 2000
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: keep its folder off the path so the standard library's http is found.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402

TARGET_CHECKS_PER_SECOND = 1000

POLICY = """\
version: 1
controller: {name: Bench Ltd, contact: privacy@bench.example}
engine: {store: "sqlite:///store.db", keyring: bench.key}
purposes:
  service: {description: Run the service, basis: contract}
  newsletter: {description: Newsletter, basis: consent, direct_marketing: true}
subjects:
  customer: {system: app, table: customers, identities: {email: email}}
systems:
  app:
    url: "sqlite:///app.db"
    tables:
      customers:
        subject: customer
        purpose: service
        fields:
          email: {category: user.contact.email, identity: email, on_erasure: hash}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_tutela(policy_path: str, port: int) -> None:
    """Child process: the real service, as `tutela serve` builds it."""
    import uvicorn

    from tutela.api import create_app
    from tutela.api.serve import uvicorn_config
    from tutela.engine import Tutela

    tutela = Tutela.open(policy_path, actor="service")
    uvicorn.Server(uvicorn_config(create_app(tutela), port=port, log_level="warning")).run()


def serve_baseline(port: int) -> None:
    """Child process: a bare FastAPI endpoint returning a constant, same server settings."""
    import uvicorn
    from fastapi import FastAPI

    from tutela.api.serve import uvicorn_config

    app = FastAPI()

    @app.get("/constant")
    async def constant() -> dict:
        return {"allowed": True}

    uvicorn.Server(uvicorn_config(app, port=port, log_level="warning")).run()


def start(target, *args) -> multiprocessing.Process:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    process.start()
    port = args[-1]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


async def _client(port: int, make_request, stop_at: float, latencies: list[float], statuses: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < stop_at:
            payload = make_request(i)
            i += 1
            started = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def load(port: int, make_request, *, clients: int, seconds: float) -> dict:
    """Run ``clients`` keep-alive connections for ``seconds``; requests/s, p50/p99 in ms, statuses."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def main():
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(*(_client(port, make_request, stop_at, latencies, statuses)
                               for _ in range(clients)))

    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"requests": len(ordered), "rps": round(len(ordered) / elapsed, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else None,
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2) if ordered else None,
            "statuses": statuses}


def get(path: str, key: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()


def post_json(path: str, key: str, body: dict) -> bytes:
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


def prepare(folder: Path, size: int):
    """Write the policy and keyring, migrate the store, seed consent for ``size`` subjects (half given)."""
    import sqlalchemy as sa

    from tutela.auth import create_key
    from tutela.consent import ConsentEvent, create_notice, record_events, subject_key_for
    from tutela.crypto.keyring import Keyring
    from tutela.engine import Tutela

    (folder / "tutela.yaml").write_text(textwrap.dedent(POLICY))
    Keyring.create(folder / "bench.key")
    engine = sa.create_engine(f"sqlite:///{folder / 'app.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
    engine.dispose()
    tutela = Tutela.open(folder / "tutela.yaml", actor="bench")
    tutela.migrate()
    create_notice(tutela, "newsletter", "A monthly newsletter.", title="Newsletter", actor="bench")
    keys = [subject_key_for(tutela, "email", f"user{i}@bench.example") for i in range(size)]
    record_events(tutela, [ConsentEvent(k, "newsletter", "given") for k in keys[::2]], actor="bench",
                  audit_each=False)
    _, operator = create_key(tutela, "operator", label="bench")
    tutela.close()
    return keys, operator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each scenario")
    parser.add_argument("--clients", type=int, default=50, help="concurrent keep-alive connections")
    parser.add_argument("--size", type=int, default=2000, help="subjects with consent records")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tutela-bench-http-") as tmp:
        folder = Path(tmp)
        keys, operator = prepare(folder, args.size)
        os.environ["TUTELA_EXPORT_DIR"] = str(folder / "exports")

        port = free_port()
        baseline_server = start(serve_baseline, port)
        load(port, lambda i: get("/constant"), clients=args.clients, seconds=1)  # warm-up
        baseline = load(port, lambda i: get("/constant"), clients=args.clients, seconds=args.seconds)
        baseline_server.kill()

        port = free_port()
        server = start(serve_tutela, str(folder / "tutela.yaml"), port)

        def check(i: int) -> bytes:
            return get(f"/api/v1/consent/check?subject_key={keys[i % len(keys)]}&purpose=newsletter", operator)

        def intake(i: int) -> bytes:
            return post_json("/api/v1/requests", operator, {
                "type": "access", "identities": [{"kind": "email", "value": f"user{i % 997}@bench.example"}]})

        load(port, check, clients=args.clients, seconds=1)  # warm-up: key cache and decision cache
        checks = load(port, check, clients=args.clients, seconds=args.seconds)
        intakes = load(port, intake, clients=args.clients, seconds=args.seconds)
        server.kill()

    ratio = round(checks["rps"] / baseline["rps"], 3) if baseline["rps"] else None
    print(f"baseline (bare FastAPI constant): {baseline['rps']:>8} req/s  p99 {baseline['p99_ms']} ms")
    print(f"consent check:                    {checks['rps']:>8} req/s  p99 {checks['p99_ms']} ms  "
          f"({ratio} of baseline)  statuses {checks['statuses']}")
    print(f"request intake (POST):            {intakes['rps']:>8} req/s  p99 {intakes['p99_ms']} ms  "
          f"statuses {intakes['statuses']}")
    ok_checks = set(checks["statuses"]) == {200}
    ok_intake = set(intakes["statuses"]) == {201}
    figures = {"clients": args.clients, "seconds": args.seconds, "cores": os.cpu_count(),
               "baseline_rps": baseline["rps"], "baseline_p99_ms": baseline["p99_ms"],
               "check_rps": checks["rps"], "check_p50_ms": checks["p50_ms"], "check_p99_ms": checks["p99_ms"],
               "check_vs_baseline": ratio, "intake_rps": intakes["rps"], "intake_p50_ms": intakes["p50_ms"],
               "intake_p99_ms": intakes["p99_ms"], "all_answers_ok": ok_checks and ok_intake}
    met = checks["rps"] >= TARGET_CHECKS_PER_SECOND and ok_checks and ok_intake
    print(json.dumps({"bench": "http", "figures": figures,
                      "targets": {"check_rps": f">= {TARGET_CHECKS_PER_SECOND}"}, "met": met}))
    sys.exit(0)


if __name__ == "__main__":
    main()
