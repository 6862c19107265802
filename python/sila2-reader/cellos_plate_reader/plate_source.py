"""What a virtual reader reads: the plate source, an HTTP endpoint the virtual lab serves.

In simulation the plate's physical state lives in the virtual lab (a TypeScript component of the lab
worker), so the reader asks it what each well emits. The contract is defined on the TypeScript side
(src/instruments/sila2/plate-source.ts):

    POST /emission {runKey, plateId, assay, wells, treatmentHours}
    200 {"wells": [{"well": "B7", "signal": 1234.5} | {"well": "B8", "error": {"type", "message"}}]}
    400 {"error": {"type", "message"}}   the plate source refuses the request (do not repeat it)
    5xx, no answer, or a malformed one   nothing was read (the request may be repeated)
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import List, Optional, Sequence


@dataclass(frozen=True)
class Emission:
    well: str
    signal: float = 0.0
    error_type: str = ""
    error_message: str = ""


class PlateSourceUnavailable(Exception):
    """The plate source did not answer usefully; nothing was read."""


class PlateSourceRefused(Exception):
    """The plate source refused the request itself (e.g. an unknown plate)."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


class HttpPlateSource:
    def __init__(self, url: str, timeout_seconds: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout_seconds = timeout_seconds

    def emission(
        self, *, run_key: str, plate_id: str, assay: str, wells: Sequence[str], treatment_hours: float
    ) -> List[Emission]:
        body = json.dumps(
            {
                "runKey": run_key,
                "plateId": plate_id,
                "assay": assay,
                "wells": list(wells),
                "treatmentHours": treatment_hours,
            }
        ).encode("utf-8")
        request = urllib.request.Request(
            f"{self.url}/emission", data=body, method="POST", headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310 (configured URL)
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            if 400 <= err.code < 500:
                error = _error_of(err.read())
                raise PlateSourceRefused(
                    error[0] or "InvalidOperation", error[1] or f"plate source refused it (HTTP {err.code})"
                ) from err
            raise PlateSourceUnavailable(f"plate source at {self.url} answered HTTP {err.code}") from err
        except (urllib.error.URLError, OSError, ValueError) as err:
            raise PlateSourceUnavailable(f"plate source at {self.url} did not answer: {err}") from err
        return _emissions_of(answer, wells)


def _error_of(raw: bytes) -> tuple[str, str]:
    try:
        error = json.loads(raw.decode("utf-8")).get("error", {})
        return str(error.get("type", "")), str(error.get("message", ""))
    except (ValueError, AttributeError):
        return "", ""


def _emissions_of(answer: object, wells: Sequence[str]) -> List[Emission]:
    """Checks that every requested well is answered exactly once, and returns them in request order."""
    items = answer.get("wells") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise PlateSourceUnavailable('plate source answer has no "wells" list')
    by_well: dict[str, Emission] = {}
    for item in items:
        emission = _emission_of(item)
        if emission is None:
            raise PlateSourceUnavailable(f"plate source answered a malformed well: {item!r}")
        if emission.well in by_well:
            raise PlateSourceUnavailable(f"plate source answered well {emission.well} twice")
        by_well[emission.well] = emission
    missing = [w for w in wells if w not in by_well]
    extra = sorted(set(by_well) - set(wells))
    if missing or extra:
        raise PlateSourceUnavailable(f"plate source answered the wrong wells (missing {missing}, not asked {extra})")
    return [by_well[w] for w in wells]


def _emission_of(item: object) -> Optional[Emission]:
    if not isinstance(item, dict) or not isinstance(item.get("well"), str):
        return None
    error = item.get("error")
    if error is not None:
        if not isinstance(error, dict) or not isinstance(error.get("type"), str) or not error["type"]:
            return None
        return Emission(well=item["well"], error_type=error["type"], error_message=str(error.get("message", "")))
    signal = item.get("signal")
    if isinstance(signal, bool) or not isinstance(signal, (int, float)) or not math.isfinite(signal):
        return None
    return Emission(well=item["well"], signal=float(signal))
