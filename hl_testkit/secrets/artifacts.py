"""Scrubbing the files pytest writes at the end (the JUnit XML, the cache's JSON) by their
structure, not their bytes.

A secret in those files is escaped by their format: XML writes `&` `<` `>` `"` (and,
in attributes, newlines and tabs) as entities, JSON writes `"` `\\` and non-ASCII
characters as escapes. A search of the file's text for the secret misses those
forms, and writing a placeholder such as `<HUMANLOOP_API_KEY>` into the raw text
breaks the XML. So each string is scrubbed as the reader will see it (parsed,
entities decoded) and the file is written again in its own format.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: What pytest's junitxml writes before the tree (`LogXML.pytest_sessionfinish`).
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'


def scrub_json(value: Any, text: Callable[[str], str]) -> Any:
    """`value` (what `json.loads` gives) with `text` applied to every string and key."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [scrub_json(item, text) for item in value]
    if isinstance(value, dict):
        return {text(str(k)): scrub_json(v, text) for k, v in value.items()}
    return value


def scrub_xml_file(path: Path, text: Callable[[str], str]) -> None:
    """`text` applied to every attribute value, text and tail of the XML file at `path`,
    rewritten (with ElementTree, as pytest writes it) only if something changed. A file
    that does not parse is scrubbed as plain text: never left holding a secret."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # not written (an earlier error) or not ours to judge
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        _rewrite(path, raw, text(raw))
        return
    if _scrub_tree(root, text):
        _rewrite(path, raw, XML_DECLARATION + ET.tostring(root, encoding="unicode"))


def _scrub_tree(root: ET.Element, text: Callable[[str], str]) -> bool:
    changed = False
    for element in root.iter():
        for name, value in element.attrib.items():
            clean = text(value)
            if clean != value:
                element.set(name, clean)
                changed = True
        for part in ("text", "tail"):
            value = getattr(element, part)
            if value:
                clean = text(value)
                if clean != value:
                    setattr(element, part, clean)
                    changed = True
    return changed


def _rewrite(path: Path, old: str, new: str) -> None:
    if new != old:
        path.write_text(new, encoding="utf-8")
