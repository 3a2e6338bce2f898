"""The lab control API under ``/_lab/``, served by the same server as moto.

All bodies and answers are JSON. Bad input answers HTTP 400 ``{"error": "..."}`` and changes nothing.

- ``GET /_lab/health`` -> ``{"ok": true}``.
- ``POST /_lab/reset``: moto's state, the add-ons' state, faults, counters, clock and settings.
- ``GET /_lab/faults``; ``POST /_lab/faults`` ``{"seed": 7, "operations": {"RunTask": {"throttle_rate": 1.0}}}``
  replaces the fault configuration (see ``lab.aws.core.set_faults``; ``{}`` clears it).
- ``GET /_lab/counters`` -> ``{"calls": {op: n}, "by_service": {...}, "injected": {...}}``;
  ``POST /_lab/counters/reset``.
- ``GET /_lab/clock`` -> ``{"offset": s, "now": iso}``; ``POST /_lab/clock`` ``{"offset": s}`` sets the
  offset, ``{"advance": s}`` adds to it.
- ``GET /_lab/settings``; ``POST /_lab/settings`` ``{"connection_lost_after": 30}`` updates the named ones.

Other add-ons register their own ``/_lab/`` paths with ``lab.aws.core.lab_route``.
"""
from lab.aws import core


@core.lab_route("/_lab/health", methods=("GET",))
def health(request):
    return 200, {"ok": True}


@core.lab_route("/_lab/reset")
def reset(request):
    core.reset()
    return 200, {"reset": True}


@core.lab_route("/_lab/faults", methods=("GET", "POST"))
def faults(request):
    if request.method == "POST":
        return 200, core.set_faults(core.json_body(request))
    return 200, core.faults()


@core.lab_route("/_lab/counters", methods=("GET",))
def counters(request):
    return 200, core.counters()


@core.lab_route("/_lab/counters/reset")
def reset_counters(request):
    core.reset_counters()
    return 200, core.counters()


@core.lab_route("/_lab/clock", methods=("GET", "POST"))
def clock(request):
    if request.method == "POST":
        body = core.json_body(request)
        if set(body) == {"offset"}:
            core.set_clock_offset(body["offset"])
        elif set(body) == {"advance"}:
            core.set_clock_offset(core.clock_offset() + core._number("advance", body["advance"]))
        else:
            raise core.LabError("clock takes exactly one of 'offset' (seconds) or 'advance' (seconds)")
    return 200, {"offset": core.clock_offset(), "now": core.now().isoformat()}


@core.lab_route("/_lab/settings", methods=("GET", "POST"))
def settings(request):
    if request.method == "POST":
        return 200, core.update_settings(core.json_body(request))
    return 200, core.settings()
