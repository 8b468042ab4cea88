"""The ceiling: a WSGI app that answers every request with one fixed JSON body, served by
exactly the server `mockportal serve` uses (granian, `--workers` processes of `--threads`).
`--flask` serves the same body from a one-route Flask app: the floor Flask itself sets.
`--server bjoern` serves it on bjoern (C, one thread, no app may ever wait: the fastest WSGI
server installable here, bench/RESULTS.md) and `--server waitress` on waitress, one process each.

    python bench/bare.py --port 0 --workers 2 --threads 8 [--flask] [--server granian|bjoern|waitress]
"""

from __future__ import annotations

import argparse
import functools

from flask import Flask, Response

from mockportal.app import MAX_BODY_BYTES
from mockportal.serving import serve

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


def wsgi_app(flask: bool):
    return flask_app() if flask else app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--flask", action="store_true", help="serve the body through Flask")
    parser.add_argument("--server", choices=("granian", "bjoern", "waitress"), default="granian")
    args = parser.parse_args()

    def ready(url: str) -> None:
        print(f"bare serving {url}", flush=True)

    if args.server == "bjoern":
        import bjoern  # the `bench` extra; needs libev (Debian: libev-dev) to build

        sock = bjoern.bind_and_listen(args.host, args.port)
        ready(f"http://{args.host}:{sock.getsockname()[1]}")
        bjoern.server_run(sock, wsgi_app(args.flask))
        return
    if args.server == "waitress":
        from waitress.server import create_server

        server = create_server(wsgi_app(args.flask), host=args.host, port=args.port, threads=args.threads)
        ready(f"http://{args.host}:{server.effective_port}")
        server.run()
        return
    serve(functools.partial(wsgi_app, args.flask), host=args.host, port=args.port, workers=args.workers,
          threads=args.threads, max_body_bytes=MAX_BODY_BYTES, on_ready=ready)


if __name__ == "__main__":
    main()
