"""The virtual plate reader: what a reader adds to what the plate emits.

It reads one plate at a time (one optical path), reports the read time a real reader takes, and
remembers each Run Key's read: a repeated key returns the first read and does not read the plate
again, because a viability read lyses the cells and a second read would read a dead plate. With a
journal file the memory survives a restart of the server (one JSON line per read, fsynced before
the answer is sent); without one it lasts as long as the process.

SiLA-agnostic on purpose: the feature implementation maps its exceptions to defined errors.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

from .plate_source import Emission, HttpPlateSource, PlateSourceRefused, PlateSourceUnavailable

WELL_NAME = re.compile(r"[A-H]([1-9]|1[0-2])")


@dataclass(frozen=True)
class ReadRequest:
    run_key: str
    plate_id: str
    assay: str
    wells: Tuple[str, ...]
    treatment_hours: float


@dataclass(frozen=True)
class PlateRead:
    request: ReadRequest
    readings: Tuple[Emission, ...]
    read_seconds: float


class InvalidRequest(Exception):
    pass


class RunKeyConflict(Exception):
    pass


class Unavailable(Exception):
    pass


class VirtualReader:
    def __init__(self, source: HttpPlateSource, read_seconds: float = 60.0, journal: Optional[Path] = None):
        self.source = source
        self.read_seconds = read_seconds
        self.journal = journal
        self._reads: Dict[str, PlateRead] = {}
        self._memory = threading.Lock()
        self._optics = threading.Lock()
        self._reading = False
        if journal is not None:
            self._load(journal)

    @property
    def plates_read(self) -> int:
        with self._memory:
            return len(self._reads)

    @property
    def state(self) -> str:
        return "Reading" if self._reading else "Idle"

    def read(self, request: ReadRequest) -> Tuple[PlateRead, bool]:
        """Returns the read and whether it was a repeat of an earlier one with the same Run Key."""
        _check(request)
        earlier = self._remembered(request)
        if earlier is not None:
            return earlier, True
        with self._optics:
            # A concurrent call with the same key may have read it while this one waited.
            earlier = self._remembered(request)
            if earlier is not None:
                return earlier, True
            self._reading = True
            try:
                emissions = self.source.emission(
                    run_key=request.run_key,
                    plate_id=request.plate_id,
                    assay=request.assay,
                    wells=request.wells,
                    treatment_hours=request.treatment_hours,
                )
            except PlateSourceRefused as err:
                raise InvalidRequest(f"{err.error_type}: {err}") from err
            except PlateSourceUnavailable as err:
                raise Unavailable(str(err)) from err
            finally:
                self._reading = False
            done = PlateRead(request=request, readings=tuple(emissions), read_seconds=self.read_seconds)
            self._remember(done)
            return done, False

    def _remembered(self, request: ReadRequest) -> Optional[PlateRead]:
        with self._memory:
            earlier = self._reads.get(request.run_key)
        if earlier is not None and earlier.request != request:
            raise RunKeyConflict(
                f"Run Key {request.run_key!r} was used for plate {earlier.request.plate_id} "
                f"({earlier.request.assay}, {len(earlier.request.wells)} wells, "
                f"{earlier.request.treatment_hours} h); this request differs"
            )
        return earlier

    def _remember(self, done: PlateRead) -> None:
        if self.journal is not None:
            line = json.dumps(
                {
                    "request": {**asdict(done.request), "wells": list(done.request.wells)},
                    "readings": [asdict(r) for r in done.readings],
                    "readSeconds": done.read_seconds,
                }
            )
            with open(self.journal, "a", encoding="utf-8") as fp:
                fp.write(line + "\n")
                fp.flush()
                os.fsync(fp.fileno())
        with self._memory:
            self._reads[done.request.run_key] = done

    def _load(self, journal: Path) -> None:
        if not journal.exists():
            return
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                request = ReadRequest(**{**entry["request"], "wells": tuple(entry["request"]["wells"])})
                readings = tuple(Emission(**r) for r in entry["readings"])
                self._reads[request.run_key] = PlateRead(request, readings, float(entry["readSeconds"]))
            except (ValueError, KeyError, TypeError):
                # A line cut short by a crash mid-write: that read was never answered, so it may be read again.
                continue


def _check(request: ReadRequest) -> None:
    # The well count is checked here, not as a list constraint in the feature: sila2 0.14.0 cannot
    # unpack a constrained list parameter (it asks protobuf HasField of a repeated field).
    if not 1 <= len(request.wells) <= 96:
        raise InvalidRequest(f"{len(request.wells)} wells asked for; a read covers 1 to 96 wells")
    bad = [w for w in request.wells if not WELL_NAME.fullmatch(w)]
    if bad:
        raise InvalidRequest(f"wells {bad} are not wells of a 96-well plate (A1 … H12)")
    twice = sorted(w for w, n in Counter(request.wells).items() if n > 1)
    if twice:
        raise InvalidRequest(f"wells {twice} are named more than once; name each well once")
