"""The drill console: a small Starlette app served by uvicorn on localhost.

One page (``console.html``, everything inline: no CDN, works offline) talks JSON
to these routes; the session lives in this process and every request that
changes it holds one lock (the engine is not thread-safe):

================  ======  ===================================================
route             method  what
================  ======  ===================================================
``/``             GET     the console page (in the ``--lang`` language)
``/api/geometry`` GET     static map data (:func:`twin.drill.view.geometry`)
``/api/state``    GET     the current view (:func:`twin.drill.view.state`)
``/api/advance``  POST    ``{"hours": h}``, ``{"to": t | "end"}`` or ``{"next": true}``
``/api/act``      POST    ``{"action": name, field: value, ...}`` (:mod:`twin.actions`)
``/api/branch``   POST    ``{"name": n, "undo": [actions], "at_h": t}`` (fork)
``/api/switch``   POST    ``{"name": n}``
``/api/finish``   POST    write the drill folder (``--out``); returns the report link
``/api/scene``    POST    write the 3D scene of the current branch so far
``/scene.html``   GET     ... that scene (``viz.html``'s offline WebGL viewer)
``/report.html``  GET     the after-action report, once written
``/replay.html``  GET     the 3D replay of the drill (``viz.html``), once written
================  ======  ===================================================

A refused step answers 400 with ``{"error": "<one line>"}`` (in the ``--lang``
language, as the decision notes); the page shows it.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import threading
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from common.errors import InputError
from twin.drill.i18n import table
from twin.drill.session import DrillSession


def _page(lang: str) -> str:
    html = resources.files("twin.drill").joinpath("console.html").read_text(encoding="utf-8")
    return html.replace("__LANG__", "zh-CN" if lang == "zh" else "en").replace(
        "__I18N__", json.dumps(table(lang), ensure_ascii=False))


def build_app(session: DrillSession, *, out: Path, lang: str = "en", workers: int = 1,
              overwrite: bool = False, figures=None):
    """The Starlette application of one drill session."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    from twin.actions import action_from_record
    from twin.drill import view

    lock = threading.Lock()
    page = _page(lang)
    written: dict[str, Path] = {}

    def guarded(fn):
        """Run ``fn(body)`` under the lock; input errors become 400 + one line."""
        async def endpoint(request: Request) -> Response:
            body: Any = {}
            if request.method == "POST":
                try:
                    body = await request.json()
                except ValueError:
                    return JSONResponse({"error": "the request body is not JSON"}, 400)
                if not isinstance(body, dict):
                    return JSONResponse({"error": "the request body must be an object"}, 400)
            from starlette.concurrency import run_in_threadpool

            def work():
                with lock:
                    return fn(body)
            try:
                return JSONResponse(await run_in_threadpool(work))
            except InputError as e:
                return JSONResponse({"error": e.render(lang)}, 400)
        return endpoint

    def advance(body: dict) -> dict:
        if body.get("next"):
            session.next_event()
        elif "to" in body:
            session.advance_to(body["to"])
        else:
            session.advance(body.get("hours", 1))
        return view.state(session, lang=lang)

    def branch(body: dict) -> dict:
        session.branch(body.get("name"), undo=body.get("undo") or (), at=body.get("at_h"))
        return view.state(session, lang=lang)

    def switch(body: dict) -> dict:
        session.switch(body.get("name"))
        return view.state(session, lang=lang)

    def finish(body: dict) -> dict:
        from twin.drill.outputs import write_drill

        write_drill(out, session, lang=lang, overwrite=overwrite or "report" in written,
                    workers=workers, figures=figures)
        written["report"] = out / "report.html"
        # the 3D scene of the drill's own realization: the views' offline WebGL replay
        from viz.html import write_html
        from viz.rundata import RunData

        write_html(RunData.from_dir(out / "run"), out / "replay.html", realization=0)
        written["replay"] = out / "replay.html"
        return {**view.state(session, lang=lang), "report": "/report.html",
                "replay": "/replay.html", "out": str(out)}

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    scene_dir = Path(tempfile.mkdtemp(prefix="twin-drill-"))

    def scene(body: dict) -> dict:
        from twin.drill.outputs import write_scene_now

        written["scene"] = write_scene_now(session, scene_dir / "scene.html")
        return {"scene": "/scene.html"}

    def served_file(key: str):
        async def endpoint(request: Request) -> Response:
            if key not in written:
                return JSONResponse({"error": f"no {key} yet: finish the drill first"}, 404)
            return FileResponse(written[key], media_type="text/html",
                                filename=written[key].name)
        return endpoint

    def act_body(body: dict) -> dict:
        body = dict(body)
        by = str(body.pop("by", "facilitator"))
        note = session.act(action_from_record(body, where="console"), by=by)
        return {**view.state(session, lang=lang), "note": note.render(lang)}

    app = Starlette(routes=[
        Route("/", index),
        Route("/api/geometry", guarded(lambda b: view.geometry(session))),
        Route("/api/state", guarded(lambda b: view.state(session, lang=lang))),
        Route("/api/advance", guarded(advance), methods=["POST"]),
        Route("/api/act", guarded(act_body), methods=["POST"]),
        Route("/api/branch", guarded(branch), methods=["POST"]),
        Route("/api/switch", guarded(switch), methods=["POST"]),
        Route("/api/finish", guarded(finish), methods=["POST"]),
        Route("/report.html", served_file("report")),
        Route("/replay.html", served_file("replay")),
        Route("/api/scene", guarded(scene), methods=["POST"]),
        Route("/scene.html", served_file("scene")),
    ])
    app.state.scene_dir = scene_dir  # removed when the server stops (serve)
    return app


def _check_port(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise InputError(f"port {port} is not a TCP port (1-65535)", where="--port")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}",
                             where="--port") from None


def serve(args) -> int:
    """``twin drill SCENARIO [--port N] [--host H] [--no-browser]``: serve until Ctrl-C."""
    import uvicorn

    from twin.output import check_output

    out = args.out or Path("runs") / (f"drill-{args.scenario.stem}-"
                                      f"{datetime.now(UTC):%Y%m%d-%H%M%S}")
    check_output(out, overwrite=args.overwrite)
    _check_port(args.host, args.port)
    print(f"preparing '{args.scenario}' ...", file=sys.stderr)
    session = DrillSession.from_file(args.scenario, realizations=args.realizations)
    from viz.plots import write_run_figures  # the views sit above the engine

    app = build_app(session, out=out, lang=args.lang, workers=args.workers,
                    overwrite=args.overwrite, figures=write_run_figures)
    url = f"http://{args.host}:{args.port}/"
    print(f"drill console on {url} (Ctrl-C to stop); the drill is written to {out}/",
          file=sys.stderr)
    if not args.no_browser:
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        import shutil

        shutil.rmtree(app.state.scene_dir, ignore_errors=True)
    return 0
