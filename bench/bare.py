"""The ceiling: a WSGI app that answers every request with one fixed JSON body, served by
exactly the server `mockportal serve` uses (waitress for 1 worker, gunicorn for more).

    python bench/bare.py --port 0 --workers 2 --threads 8
"""

from __future__ import annotations

import argparse

from mockportal.serving import serve_in_process, serve_workers

BODY = b'{"status": "pending"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    environ["wsgi.input"].read()  # a charge's body, so a keep-alive connection stays in sync
    start_response("200 OK", HEADERS)
    return [BODY]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    def ready(url: str) -> None:
        print(f"bare serving {url}", flush=True)

    if args.workers == 1:
        serve_in_process(app, host=args.host, port=args.port, threads=args.threads, on_ready=ready)
    else:
        serve_workers(lambda: app, host=args.host, port=args.port, workers=args.workers,
                      threads=args.threads, on_ready=ready)


if __name__ == "__main__":
    main()
