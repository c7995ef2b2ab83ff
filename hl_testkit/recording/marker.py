"""`@pytest.mark.hl_cassette(...)`: its arguments, checked, each mistake named with its fix.

pytest accepts any arguments on a marker, so a typo (`nmae=`), a wrong type
(`name=42`) or an extra positional argument would otherwise be ignored or fail
far from the marker.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from hl_testkit.errors import HlTestkitError
from hl_testkit.recording.recorder import VCR_CONFIG_KEYS

#: The marker's own arguments; the rest are vcrpy settings passed on.
OWN_KEYS = ("name", "record_mode", "schema")
_SHAPE = "@pytest.mark.hl_cassette(name=None, record_mode=None, schema=True, **vcr_config)"


class UnusedMarkerWarning(UserWarning):
    """An `hl_cassette` marker on a test that uses no cassette: it changes nothing."""


@dataclass
class MarkerOptions:
    name: str | None = None
    record_mode: str | None = None
    schema: bool | str = True
    vcr_config: dict[str, Any] = field(default_factory=dict)


def _problem(text: str) -> HlTestkitError:
    return HlTestkitError(f"hl-testkit: @pytest.mark.hl_cassette: {text}; the marker is {_SHAPE}")


def _unknown(keys: Iterable[str]) -> str:
    allowed = [*OWN_KEYS, *sorted(VCR_CONFIG_KEYS)]
    parts = []
    for key in sorted(keys):
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        parts.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (
        f"unknown argument(s) {', '.join(parts)}: it takes {', '.join(OWN_KEYS)} and the "
        f"vcrpy settings {', '.join(sorted(VCR_CONFIG_KEYS))}"
    )


def parse(marker: pytest.Mark | None) -> MarkerOptions:
    """The marker's arguments, or an `HlTestkitError` that says what to write instead."""
    if marker is None:
        return MarkerOptions()
    kwargs = dict(marker.kwargs)
    if len(marker.args) > 1 or (marker.args and "name" in kwargs):
        given = ", ".join(repr(a) for a in marker.args)
        raise _problem(
            f"positional arguments ({given}) beyond the one cassette name; pass the other "
            "options by keyword, e.g. record_mode='once'"
        )
    unknown = set(kwargs) - set(OWN_KEYS) - VCR_CONFIG_KEYS
    if unknown:
        raise _problem(_unknown(unknown))
    name = kwargs.pop("name", marker.args[0] if marker.args else None)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise _problem(
            f"name={name!r} is not a cassette name: give a non-empty string such as "
            "name='shared' (relative to the test module's cassette directory)"
        )
    record_mode = kwargs.pop("record_mode", None)
    if record_mode is not None and not isinstance(record_mode, str):
        raise _problem(f"record_mode={record_mode!r} must be a string such as 'once'")
    schema = kwargs.pop("schema", True)
    if not isinstance(schema, (bool, str)):
        raise _problem(
            f"schema={schema!r} must be False (no check), True (the default) "
            "or a schema name such as 'session'"
        )
    return MarkerOptions(name, record_mode, schema, kwargs)


def warn_if_unused(item: pytest.Item) -> None:
    """Warn when the test is marked itself but uses no cassette fixture.

    Only the test's own marker: one on a class or module (`pytestmark`) rightly
    covers tests that need no cassette too. Warned at setup, so that under
    `-W error` the test errors, not the collection.
    """
    fixtures = getattr(item, "fixturenames", None)
    if fixtures is None or "hl_cassette" in fixtures:
        return  # a scenario (its cassette is built in), or a cassette test
    if any(m.name == "hl_cassette" for m in item.own_markers):
        item.warn(
            UnusedMarkerWarning(
                f"hl-testkit: {item.nodeid} is marked @pytest.mark.hl_cassette but uses "
                "neither the sessions nor the hl_cassette fixture (nor hl_humanloop), so "
                "the marker changes nothing: add one of them to the test's arguments, "
                "or remove the marker"
            )
        )
