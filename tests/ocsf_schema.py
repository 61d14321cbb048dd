"""Builds a JSON Schema for one OCSF event class from the OCSF schema's own source files
(tests/fixtures/ocsf/<version>/, copied unchanged from github.com/ocsf/ocsf-schema at a tag).

What it resolves, as the OCSF server does: a class's `extends` chain up to base_event, each
`$include` (profiles count only when the event names them in metadata.profiles), attribute
types from dictionary.json (scalar types to JSON types, object types to their object files,
again with `extends` and `$include`), arrays, required attributes, and integer enums
(dictionary values merged with the class's own). Events and objects we emit are closed
(additionalProperties false), so a misspelt field fails validation; `unmapped` stays open.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent / "fixtures" / "ocsf"
SCALARS = {
    "boolean_t": {"type": "boolean"},
    "integer_t": {"type": "integer"},
    "long_t": {"type": "integer"},
    "float_t": {"type": "number"},
    "json_t": {},
    "string_t": {"type": "string"},
}


class SchemaBuilder:
    def __init__(self, version: str, profiles: tuple[str, ...] = ()) -> None:
        self.root = ROOT / version
        self.profiles = set(profiles)
        dictionary = self._load("dictionary.json")
        self.attributes: dict[str, Any] = dictionary["attributes"]
        self.types: dict[str, Any] = dictionary["types"]["attributes"]
        self.definitions: dict[str, Any] = {}
        self.used_files: set[str] = {"dictionary.json"}

    def _load(self, relative: str) -> dict[str, Any]:
        return _read(self.root / relative)

    def _merged(self, kind: str, name: str) -> dict[str, Any]:
        """Attributes of an event class or object after `extends` and `$include`."""
        document = self._find(kind, name)
        parent = document.get("extends")
        merged: dict[str, Any] = {} if parent is None else dict(self._merged(kind, parent))
        for key, value in document.get("attributes", {}).items():
            if key == "$include":
                for included in value:
                    self._include(included, merged)
                continue
            merged[key] = {**merged.get(key, {}), **(value or {})}
        return merged

    def _include(self, relative: str, merged: dict[str, Any]) -> None:
        self.used_files.add(relative)
        document = self._load(relative)
        profile = document.get("name") if document.get("meta") == "profile" else None
        if profile is not None and profile not in self.profiles:
            return
        for key, value in document.get("attributes", {}).items():
            merged[key] = {**merged.get(key, {}), **(value or {})}

    def _find(self, kind: str, name: str) -> dict[str, Any]:
        folder = self.root / kind
        for path in sorted(folder.rglob("*.json")):
            document = _read(path)
            if document.get("name") == name:
                self.used_files.add(str(path.relative_to(self.root)))
                return document
        raise KeyError(f"no OCSF {kind} named {name!r} in {folder}")

    def _type(self, type_name: str) -> dict[str, Any]:
        if type_name in SCALARS:
            return dict(SCALARS[type_name])
        if type_name in self.types:
            return self._type(self.types[type_name].get("type", "string_t"))
        if type_name == "object":
            return {"type": "object"}
        self._object(type_name)
        return {"$ref": f"#/$defs/{type_name}"}

    def _attribute(self, name: str, local: dict[str, Any]) -> dict[str, Any]:
        shared = self.attributes.get(name, {})
        schema = self._type(local.get("type") or shared.get("type", "string_t"))
        values = {**shared.get("enum", {}), **local.get("enum", {})}
        if values and schema.get("type") == "integer":
            schema["enum"] = sorted(int(value) for value in values)
        if shared.get("is_array") or local.get("is_array"):
            schema = {"type": "array", "items": schema}
        return schema

    def _closed(self, attributes: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": sorted(
                k for k, v in attributes.items() if v.get("requirement") == "required"
            ),
            "properties": {k: self._attribute(k, v) for k, v in attributes.items()},
        }

    def _object(self, name: str) -> None:
        if name in self.definitions:
            return
        self.definitions[name] = {}  # placeholder: objects refer to themselves
        self.definitions[name] = self._closed(self._merged("objects", name))

    def event_schema(self, class_name: str) -> dict[str, Any]:
        document = self._find("events", class_name)
        category = _category(self, document)
        categories = self._load("categories.json")["attributes"]
        class_uid = categories[category]["uid"] * 1000 + document["uid"]
        schema = self._closed(self._merged("events", class_name))
        schema["properties"]["class_uid"] = {"const": class_uid}
        schema["properties"]["category_uid"] = {"const": categories[category]["uid"]}
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": document["caption"],
            **schema,
            "$defs": self.definitions,
        }


def _category(builder: SchemaBuilder, document: dict[str, Any]) -> str:
    while "category" not in document:
        document = builder._find("events", document["extends"])
    return document["category"]


@cache
def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
