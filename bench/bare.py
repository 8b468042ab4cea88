"""The ceiling: a WSGI app that answers every request with one fixed JSON body, served by
exactly the server `mockportal serve` uses (waitress for 1 worker, gunicorn for more).
`--flask` serves the same body from a one-route Flask app: the floor Flask itself sets.

    python bench/bare.py --port 0 --workers 2 --threads 8 [--flask]
"""

from __future__ import annotations

import argparse

from flask import Flask, Response

from mockportal.app import MAX_BODY_BYTES
from mockportal.serving import serve_in_process, serve_workers

BODY = b'{"status": "pending"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    environ["wsgi.input"].read()  # a charge's body, so a keep-alive connection stays in sync
    start_response("200 OK", HEADERS)
    return [BODY]


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def fixed(path: str) -> Response:
        return Response(BODY, mimetype="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--flask", action="store_true", help="serve the body through Flask")
    args = parser.parse_args()
    wsgi = flask_app() if args.flask else app

    def ready(url: str) -> None:
        print(f"bare serving {url}", flush=True)

    if args.workers == 1:
        serve_in_process(wsgi, host=args.host, port=args.port, threads=args.threads, on_ready=ready)
    else:
        serve_workers(lambda: wsgi, host=args.host, port=args.port, workers=args.workers,
                      threads=args.threads, max_body_bytes=MAX_BODY_BYTES, on_ready=ready)


if __name__ == "__main__":
    main()
