"""Analyse many Opentrons protocols in one Python process, with the vendor's own analyzer.

`python -m opentrons.cli analyze` spends 6 of its 7-9 s importing opentrons; this server imports it
once and then answers one request per line on stdin with one JSON line on stdout:

    request:  {"id": "<any>", "fileName": "seed.py", "protocol": "<python source>"}
    answer:   {"id": "<same>", "ok": true, "seconds": 0.41, "analysis": {...}}
              {"id": "<same>", "ok": false, "error": "<why the server itself could not answer>"}

`analysis` is exactly what `opentrons.cli analyze --json-output` writes (same code path:
`opentrons.cli.analyze._analyze`, pinned to opentrons 10.1.0), so `result` is "ok" or "not-ok" and
`errors[]` carries the analyzer's `errorType`, `errorCode` and `detail`. A protocol the reader
cannot even open (bad requirements, syntax error) comes back the same way, as a "not-ok" analysis
with one error, so callers handle a single shape.

Anything a protocol prints goes to stderr: stdout carries answers only.
"""

import importlib
import io
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

# Keep the answer channel clean: fd 1 is re-pointed at stderr, answers go to a private copy.
_answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

import anyio  # noqa: E402
import click  # noqa: E402
import opentrons  # noqa: E402

# `opentrons.cli.analyze` the attribute is the click command; the module holds the machinery.
cli_analyze = importlib.import_module("opentrons.cli.analyze")


def _reader_error(error_type: str, detail: str) -> dict:
    return {
        "result": "not-ok",
        "commands": [],
        "labware": [],
        "pipettes": [],
        "modules": [],
        "liquids": [],
        "errors": [
            {
                "id": "analysis-setup-error",
                "errorType": error_type,
                "errorCode": "4000",
                "detail": detail,
                "errorInfo": {},
                "wrappedErrors": [],
            }
        ],
    }


def analyse(file_name: str, protocol: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="cellos-ot-analysis-") as folder:
        path = Path(folder) / Path(file_name).name
        path.write_text(protocol, encoding="utf-8")
        buffer = io.BytesIO()
        output = cli_analyze._Output(to_file=buffer, kind="json")
        try:
            anyio.run(cli_analyze._analyze, [path], "{}", "{}", [output], True, False, False)
        except click.ClickException as error:
            return _reader_error("ProtocolFilesInvalidError", error.format_message())
        except RuntimeError as error:
            return _reader_error(type(error).__name__, str(error))
        return json.loads(buffer.getvalue().decode("utf-8"))


def answer(message: dict) -> None:
    _answers.write(json.dumps(message, separators=(",", ":")) + "\n")
    _answers.flush()


def main() -> None:
    answer({"ready": True, "opentrons": opentrons.__version__, "python": sys.version.split()[0]})
    for line in sys.stdin:
        if not line.strip():
            continue
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            started = time.perf_counter()
            analysis = analyse(request.get("fileName") or "protocol.py", request["protocol"])
            answer(
                {
                    "id": request_id,
                    "ok": True,
                    "seconds": round(time.perf_counter() - started, 3),
                    "analysis": analysis,
                }
            )
        except Exception as error:  # the server must outlive any one bad request
            traceback.print_exc(file=sys.stderr)
            answer({"id": request_id, "ok": False, "error": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    main()
