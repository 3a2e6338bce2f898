"""The lab endpoint's WSGI application and its foreground launcher.

``install()`` installs the service add-ons (``lab.aws.ssm``, ``lab.aws.ecs``) into moto; this is the one
module that imports them, so that they depend on ``lab.aws.core`` and core on nothing of the lab (see the
picture in lab/README.md). ``make_app()`` installs the add-ons and wraps moto's own ``DomainDispatcherApplication`` (the app behind
``moto_server``): ``/_lab/...`` goes to the control routes (``lab.aws.core.lab_route``); every other
request is counted and may get an injected fault (``lab.aws.core.before_request``), then must pass the
endpoint's authentication and IAM policies (``lab.aws.auth.check_request``) before moto serves it.
``serve(host, port)`` runs it with moto's request handler until SIGINT/SIGTERM.
"""
import json
import logging
import os
import signal
import sys
import threading
import traceback

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from lab.aws import auth, control, core  # noqa: F401  (control registers the /_lab/ routes)


_install_lock = threading.Lock()
_installed = False


def install():
    """Install the SSM and ECS add-ons into moto, in place (safe to call again)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        # Imported here, as moto is, so that importing this module (lab.aws.testing.LabEndpoint) loads no moto.
        from lab.aws import ecs, ssm

        ssm.install()
        ecs.install()
        auth.install()
        _installed = True


class LabApplication:
    """moto's dispatcher behind the lab's control API, counters and faults."""

    def __init__(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_lab/"):
            return self.control(environ, start_response)
        refused = core.before_request(environ) or auth.check_request(environ)
        if refused is not None:
            status, headers, body = refused
            return Response(body, status=status, headers=headers)(environ, start_response)
        return self.moto(environ, start_response)

    @staticmethod
    def control(environ, start_response):
        request = Request(environ)
        try:
            handler = core.find_route(request.method, request.path)
            status, payload = handler(request)
        except core.LabError as exc:
            status, payload = exc.status, {"error": str(exc)}
        except Exception as exc:  # answer the caller instead of dropping the connection
            traceback.print_exc()
            status, payload = 500, {"error": f"{type(exc).__name__}: {exc}"}
        return Response(json.dumps(payload, default=str), status=status,
                        content_type="application/json")(environ, start_response)


def make_app():
    install()
    return LabApplication()


def make_server_for(host, port, app=None):
    """A threaded werkzeug server with moto's request handler (port 0 picks a free port)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    return make_server(host, port, app or make_app(), threaded=True, request_handler=MotoRequestHandler)


def serve(host, port):
    server = make_server_for(host, port)
    bound_port = server.server_address[1]
    # moto sometimes calls itself (e.g. Lambda, S3 notifications) and reads its port from here.
    os.environ.setdefault("MOTO_PORT", str(bound_port))

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so it must not run in the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"lab aws endpoint serving on http://{host}:{bound_port}/", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(serve("127.0.0.1", 4566))
