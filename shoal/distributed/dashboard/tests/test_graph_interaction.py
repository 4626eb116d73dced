"""The graph page in a real Chromium driven over the DevTools protocol: wheel zoom, drag pan, hover readout.

Chromium runs headless with ``--remote-debugging-port``; the test sends real input events
(``Input.dispatchMouseEvent``) through a tornado websocket and reads the page's state back with
``Runtime.evaluate``. Skipped when no Chromium is installed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless browser tests need Debian's `chromium` package "
                                "(apt-get install chromium); none is on PATH")


class DevTools:
    """A minimal DevTools protocol client for one page target."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.next_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.connection.write_message(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            raw = await asyncio.wait_for(self.connection.read_message(), 20)
            assert raw is not None, "Chromium closed the DevTools connection"
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply["error"]
                return reply.get("result", {})

    async def value(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, (expression, result["result"].get("description"))
        return result["result"].get("value")

    async def until(self, expression: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        guarded = f"(() => {{ try {{ return {expression}; }} catch (e) {{ return false; }} }})()"  # page still loading
        while time.monotonic() < deadline:
            found = await self.value(guarded)
            if found:
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"the page never satisfied {expression!r}")

    async def mouse(self, kind: str, x: float, y: float, **extra: Any) -> None:
        await self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, **extra)


def _page_socket(port_file: Path, url: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            port = int(port_file.read_text().split()[0])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                targets = json.load(response)
            for target in targets:
                if target.get("type") == "page" and target.get("url", "").startswith(url):
                    return str(target["webSocketDebuggerUrl"])
        time.sleep(0.2)
    raise AssertionError("Chromium did not open its DevTools port with the page")


async def _drive(socket_url: str) -> dict[str, Any]:
    from tornado.websocket import websocket_connect

    connection = await websocket_connect(socket_url)
    tools = DevTools(connection)
    try:
        await tools.until("document.getElementById('graph-nodes').textContent === '40' && positions !== null")
        rect = await tools.value("(() => { const r = document.getElementById('graph').getBoundingClientRect();"
                                 " return [r.left, r.top, r.width, r.height]; })()")
        left, top, width, height = rect
        cx, cy = left + width / 2, top + height / 2
        seen: dict[str, Any] = {}
        await tools.mouse("mouseWheel", cx, cy, deltaX=0, deltaY=-300)
        seen["zoomed"] = await tools.value("[view.scale, view.x, view.y]")
        # The point under the pointer stays put: (c - x) / scale is the same before (scale 1, x 0) and after.
        seen["pointer"] = [cx - left, cy - top]
        seen["anchor"] = await tools.value(f"[({cx - left} - view.x) / view.scale, ({cy - top} - view.y) / view.scale]")
        await tools.mouse("mousePressed", cx, cy, button="left", clickCount=1)
        await tools.mouse("mouseMoved", cx + 40, cy + 25, button="left")
        await tools.mouse("mouseReleased", cx + 40, cy + 25, button="left", clickCount=1)
        seen["panned"] = await tools.value("[view.x, view.y]")
        # Hover over a node that the view keeps on the canvas.
        node = await tools.value(
            f"(() => {{ for (let i = 0; i < positions.length / 2; i++) {{"
            f" const x = positions[2 * i] * view.scale + view.x, y = positions[2 * i + 1] * view.scale + view.y;"
            f" if (x > 5 && y > 5 && x < {width - 5} && y < {height - 5}) return [x, y, layout.nodes[i][0]]; }}"
            f" return null; }})()")
        assert node is not None, "no node on the canvas after zooming"
        await tools.mouse("mouseMoved", left + node[0], top + node[1])
        seen["hover"] = await tools.value("document.getElementById('graph-hover').textContent")
        seen["first_key"] = node[2]
        await tools.mouse("mousePressed", cx, cy, button="left", clickCount=2)
        await tools.mouse("mouseReleased", cx, cy, button="left", clickCount=2)
        seen["reset"] = await tools.value("[view.scale, view.x, view.y]")
        return seen
    finally:
        connection.close()


def test_graph_zooms_pans_and_names_the_task_under_the_pointer(busy_client, tmp_path: Path):
    url = busy_client.dashboard_link[: -len("/status")] + "/graph"
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
         f"--user-data-dir={profile}", "--window-size=1200,800", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        socket_url = _page_socket(profile / "DevToolsActivePort", url)
        seen = asyncio.run(asyncio.wait_for(_drive(socket_url), 60))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    scale, x, y = seen["zoomed"]
    assert scale > 1.3 and x < 0 and y < 0  # zoomed in around the centre: the origin moved up and left
    assert seen["anchor"] == [pytest.approx(v, abs=1) for v in seen["pointer"]]  # the point under the pointer stayed
    assert seen["panned"] == [pytest.approx(x + 40, abs=1), pytest.approx(y + 25, abs=1)]
    assert seen["hover"].startswith(seen["first_key"]) and seen["hover"].endswith("(memory)")
    assert seen["reset"] == [1, 0, 0]
