"""Import and export of the registry: CSV (Chinese or English headers) and YAML.

Import validates every row first and reports each problem as ``FILE:LINE: field: problem``;
nothing is written unless the whole file is valid. References are checked against the database
and the same file (a person's or vehicle's household, a place's parent). Rows are upserted by
id (places, households, people) or plate (vehicles).

Export writes the English headers and English enumeration values; personal data is exported
masked (``310104********2954``, ``199****9758``). Re-importing a masked value for a person who
is already in the database keeps the stored (hashed/encrypted) value, so export -> import leaves
the database unchanged; a masked value for a person not in the database is an error.

All functions are blocking (file and database I/O): run them in an executor from the hub.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final, TextIO

import yaml
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite

from shouwang.core.storage import Storage

from . import model
from .protect import (
    Protector,
    id_problem,
    is_masked,
    mask_id,
    mask_phone,
    normalise_id,
    normalise_phone,
    normalise_plate,
    phone_ok,
    plate_ok,
)

#: export column order (English) per kind; the first column is the id
FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "places": ("place_id", "name", "kind", "parent", "x", "y", "address"),
    "households": (
        "household_id", "building", "unit", "floor", "room", "address", "occupancy", "area",
    ),
    "people": (
        "person_id", "name", "gender", "birth_date", "id_number", "phone", "household_id",
        "type", "lease_end", "face_name", "card_number", "tags",
    ),
    "vehicles": (
        "plate", "colour", "household_id", "list_type", "valid_until", "parking_space",
    ),
    "organisations": ("organisation_id", "name", "type", "address", "phone", "members"),
    "devices": (
        "entity_id", "name", "type", "place", "x", "y", "manufacturer", "model", "serial",
        "installed",
    ),
}  # fmt: skip

#: Chinese headers (as in the property office's spreadsheets) and extra English aliases
ALIASES: Final[dict[str, dict[str, str]]] = {
    "places": {
        "地点编号": "place_id", "名称": "name", "类型": "kind", "上级": "parent",
        "标准地址": "address", "id": "place_id", "parent_id": "parent",
    },
    "households": {
        "户号": "household_id", "楼栋": "building", "单元": "unit", "楼层": "floor",
        "房号": "room", "标准地址": "address", "房屋性质": "occupancy", "面积": "area",
        "id": "household_id",
    },
    "people": {
        "人员编号": "person_id", "姓名": "name", "性别": "gender", "出生日期": "birth_date",
        "身份证号": "id_number", "手机号": "phone", "户号": "household_id",
        "人员类型": "type", "租约到期": "lease_end", "人脸库名": "face_name",
        "门禁卡号": "card_number", "标签": "tags", "id": "person_id",
        # the short keys of the ``people:`` block in configuration.yaml
        "face": "face_name", "categories": "tags", "household": "household_id",
        "card": "card_number",
    },
    "vehicles": {
        "车牌号": "plate", "车辆颜色": "colour", "户号": "household_id", "名单类型": "list_type",
        "有效期至": "valid_until", "车位": "parking_space", "color": "colour",
        "list": "list_type", "household": "household_id",
    },
    "organisations": {
        "组织编号": "organisation_id", "名称": "name", "类型": "type", "地址": "address",
        "联系电话": "phone", "成员": "members", "id": "organisation_id",
    },
    "devices": {
        "设备编号": "entity_id", "名称": "name", "类型": "type", "位置": "place", "x": "x",
        "y": "y", "厂家": "manufacturer", "型号": "model", "序列号": "serial",
        "安装日期": "installed", "place_id": "place", "id": "entity_id",
    },
}  # fmt: skip

_ID_COLUMN: Final = {
    "places": "registry_places.id",
    "households": "registry_households.id",
    "people": "registry_people.id",
    "vehicles": "registry_vehicles.plate",
    "organisations": "registry_organisations.id",
    "devices": "registry_devices.id",
}
#: headers that identify a kind when --kind is omitted (checked in this order)
_KIND_MARKERS: Final = (
    ("places", {"place_id", "地点编号"}),
    ("people", {"person_id", "人员编号"}),
    ("vehicles", {"plate", "车牌号"}),
    ("organisations", {"organisation_id", "组织编号"}),
    ("devices", {"entity_id", "设备编号"}),
    ("households", {"household_id", "户号"}),
)


_ENTITY_ID: Final = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_Loader: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
_Dumper: Final = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_WIDTH: Final = "\0width"  # marks a CSV row with the wrong number of values


class RegistryImportError(Exception):
    """The file cannot be read at all (missing, unknown kind, not CSV/YAML)."""


@dataclass
class ImportResult:
    """What an import found: errors (``FILE:LINE: field: problem``) or the rows applied."""

    kind: str
    rows: int = 0
    errors: list[str] = field(default_factory=list)
    applied: bool = False


def _column(kind: str, header: str) -> str | None:
    header = header.strip()
    if header in FIELDS[kind]:
        return header
    return ALIASES[kind].get(header) or ALIASES[kind].get(header.lower())


def guess_kind(headers: Iterable[str]) -> str | None:
    """The kind a file holds, from its headers."""
    names = {header.strip().lower() for header in headers} | {h.strip() for h in headers}
    for kind, markers in _KIND_MARKERS:
        if names & markers:
            return kind
    return None


def _read(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Headers and (line, row) pairs of a CSV or YAML file."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else []
        except yaml.YAMLError as err:
            raise RegistryImportError(f"{path}: not valid YAML: {err}") from err
        finally:
            loader.dispose()
        if node is None:
            return [], []
        if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
            raise RegistryImportError(f"{path}:1: expected a list of mappings")
        rows: list[tuple[int, dict[str, Any]]] = []
        headers: dict[str, None] = {}
        for item, item_node in zip(data, node.value, strict=True):
            line = item_node.start_mark.line + 1
            if not isinstance(item, dict):
                raise RegistryImportError(f"{path}:{line}: expected a mapping")
            mapping = {str(key): value for key, value in item.items()}
            headers.update(dict.fromkeys(mapping))
            rows.append((line, mapping))
        return list(headers), rows
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header_row = next(reader)
    except StopIteration:
        return [], []
    rows = []
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        row: dict[str, Any] = dict(zip(header_row, values, strict=False))
        if len(values) != len(header_row):
            row[_WIDTH] = len(values)
        rows.append((reader.line_num, row))
    return header_row, rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Row:
    """One row being validated: converts fields and collects ``FILE:LINE: field: problem``."""

    def __init__(self, where: str, values: Mapping[str, Any], errors: list[str]) -> None:
        self.where = where
        self.values = values
        self.errors = errors

    def error(self, name: str, problem: str) -> None:
        self.errors.append(f"{self.where}: {name}: {problem}")

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = _text(self.values.get(name))
        if not value:
            if required:
                self.error(name, "required")
            return None
        return value

    def number(self, name: str, *, integer: bool = False, required: bool = False) -> Any:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return int(value) if integer else float(value)
        except ValueError:
            self.error(name, f"not a{'n integer' if integer else ' number'}: {value!r}")
            return None

    def day(self, name: str) -> date | None:
        value = self.values.get(name)
        if isinstance(value, date):
            return value
        text = self.text(name)
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.error(name, f"not a date (YYYY-MM-DD): {text!r}")
            return None

    def choice(self, name: str, table: Mapping[str, str], *, required: bool = True) -> str | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        if value in table:
            return table[value]
        if value in table.values():
            return value
        allowed = ", ".join(f"{cn} ({en})" for cn, en in table.items())
        self.error(name, f"unknown value {value!r}; expected one of {allowed}")
        return None


@dataclass
class _Context:
    """What validation needs from the database."""

    ids: dict[str, set[str]]
    #: the protected columns already stored, by id (people and organisations)
    stored: dict[str, Mapping[str, Any]]


def _existing(storage: Storage, kind: str) -> _Context:
    with storage.transaction() as conn:
        ids = {
            "places": set(conn.scalars(select(model.places.c.id))),
            "households": set(conn.scalars(select(model.households.c.id))),
        }
        stored: dict[str, Mapping[str, Any]] = {}
        if kind == "people":
            query = select(
                model.people.c.id,
                model.people.c.id_hash,
                model.people.c.id_masked,
                model.people.c.phone_enc,
                model.people.c.phone_masked,
            )
            stored = {row.id: dict(row._mapping) for row in conn.execute(query)}
        elif kind == "organisations":
            table = model.organisations
            query = select(table.c.id, table.c.phone_enc, table.c.phone_masked)
            stored = {row.id: dict(row._mapping) for row in conn.execute(query)}
            ids["people"] = set(conn.scalars(select(model.people.c.id)))
    return _Context(ids, stored)


def _validate(
    kind: str, row: _Row, ctx: _Context, protector: Protector, file_ids: set[str]
) -> dict[str, Any] | None:
    start = len(row.errors)
    record: dict[str, Any]
    if kind == "places":
        record = {
            "id": row.text("place_id", required=True),
            "name": row.text("name", required=True),
            "kind": row.choice("kind", model.PLACE_KINDS),
            "parent": row.text("parent"),
            "x": row.number("x"),
            "y": row.number("y"),
            "address": row.text("address"),
        }
        parent = record["parent"]
        if parent is not None:
            if parent == record["id"]:
                row.error("parent", "a place cannot be its own parent")
            elif parent not in ctx.ids["places"] and parent not in file_ids:
                row.error("parent", f"unknown place {parent!r}")
    elif kind == "households":
        record = {
            "id": row.text("household_id", required=True),
            "building": row.text("building", required=True),
            "unit": row.text("unit", required=True),
            "floor": row.number("floor", integer=True, required=True),
            "room": row.text("room", required=True),
            "address": row.text("address"),
            "occupancy": row.choice("occupancy", model.OCCUPANCY),
            "area": row.number("area"),
        }
    elif kind == "people":
        record = {
            "id": row.text("person_id", required=True),
            "name": row.text("name", required=True),
            "gender": row.choice("gender", model.GENDERS, required=False),
            "birth_date": row.day("birth_date"),
            "household": row.text("household_id"),
            "type": row.choice("type", model.PERSON_TYPES),
            "lease_end": row.day("lease_end"),
            "face_name": row.text("face_name"),
            "card_number": (row.text("card_number") or "").upper() or None,
            "tags": ";".join(
                model.TAG_ALIASES.get(tag.strip(), tag.strip())
                for tag in (row.text("tags") or "").split(";")
                if tag.strip()
            ),
        }
        _personal(row, record, ctx.stored.get(record["id"] or ""), protector)
    elif kind == "organisations":
        record = {
            "id": row.text("organisation_id", required=True),
            "name": row.text("name", required=True),
            "type": row.choice("type", model.ORGANISATION_TYPES),
            "address": row.text("address"),
            "members": _members(row, ctx.ids["people"]),
        }
        _phone(row, record, ctx.stored.get(record["id"] or ""), protector)
    elif kind == "devices":
        record = {
            "id": row.text("entity_id", required=True),
            "name": row.text("name", required=True),
            "type": row.choice("type", model.DEVICE_TYPES),
            "place": row.text("place", required=True),
            "x": row.number("x"),
            "y": row.number("y"),
            "manufacturer": row.text("manufacturer"),
            "model": row.text("model"),
            "serial": row.text("serial"),
            "installed": row.day("installed"),
        }
        entity_id = record["id"]
        if entity_id is not None and not _ENTITY_ID.match(entity_id):
            row.error("entity_id", f"not an entity id (domain.object_id): {entity_id!r}")
        place = record["place"]
        if place is not None and place not in ctx.ids["places"] | ctx.ids["households"]:
            row.error("place", f"unknown place {place!r}")
    else:
        plate_text = row.text("plate", required=True)
        plate = normalise_plate(plate_text) if plate_text else None
        if plate is not None and not plate_ok(plate):
            row.error("plate", f"not a valid plate: {plate_text!r}")
        record = {
            "plate": plate,
            "colour": row.text("colour"),
            "household": row.text("household_id"),
            "list_type": row.choice("list_type", model.LIST_TYPES),
            "valid_until": row.day("valid_until"),
            "parking_space": row.text("parking_space"),
        }
    household = record.get("household")
    if household is not None and household not in ctx.ids["households"]:
        row.error("household_id", f"unknown household {household!r}")
    return record if len(row.errors) == start else None


def _personal(
    row: _Row, record: dict[str, Any], stored: Mapping[str, Any] | None, protector: Protector
) -> None:
    """Hash/encrypt/mask the ID number and phone (masked input keeps the stored value)."""
    record.update(id_hash=None, id_masked=None)
    number = row.text("id_number")
    if number is not None:
        number = normalise_id(number)
        if is_masked(number):
            if stored is None or stored["id_masked"] != number:
                row.error("id_number", "masked value does not match the stored one")
            else:
                record.update(id_hash=stored["id_hash"], id_masked=stored["id_masked"])
        elif (problem := id_problem(number)) is not None:
            row.error("id_number", problem)
        else:
            record.update(id_hash=protector.hash_id(number), id_masked=mask_id(number))
    _phone(row, record, stored, protector)


def _phone(
    row: _Row, record: dict[str, Any], stored: Mapping[str, Any] | None, protector: Protector
) -> None:
    """Encrypt and mask the phone (a masked value keeps the stored one)."""
    record.update(phone_enc=None, phone_masked=None)
    phone = row.text("phone")
    if phone is not None:
        phone = normalise_phone(phone)
        if is_masked(phone):
            if stored is None or stored["phone_masked"] != phone:
                row.error("phone", "masked value does not match the stored one")
            else:
                record.update(phone_enc=stored["phone_enc"], phone_masked=stored["phone_masked"])
        elif not phone_ok(phone):
            row.error("phone", "not a mobile number (11 digits starting 13–19)")
        else:
            record.update(phone_enc=protector.encrypt(phone), phone_masked=mask_phone(phone))


def _members(row: _Row, people_ids: set[str]) -> str:
    """``R00001:负责人;R00002`` checked against the registry's people; stored as written."""
    members = []
    for item in (row.text("members") or "").split(";"):
        person, _, role = (part.strip() for part in item.partition(":"))
        if not person:
            continue
        if person not in people_ids:
            row.error("members", f"unknown person {person!r}")
        members.append(f"{person}:{role}" if role else person)
    return ";".join(members)


class _Progress:
    """A simple progress bar on a text stream (stderr), for large files only."""

    def __init__(self, stream: TextIO | None, total: int, label: str) -> None:
        self.stream = stream if total >= 1000 else None
        self.total = total
        self.label = label
        self.shown = -1

    def update(self, done: int) -> None:
        if self.stream is None:
            return
        percent = done * 100 // self.total
        tty = self.stream.isatty()
        if (tty and percent // 5 != self.shown // 5) or done == self.total:
            self.shown = percent
            bar = "#" * (percent // 5)
            self.stream.write(f"\r{self.label} [{bar:<20}] {done}/{self.total}")
            if done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def _upsert(storage: Storage, table: Table, records: list[dict[str, Any]]) -> None:
    key = next(iter(table.primary_key.columns)).name
    insert: Callable[[Table], Any] = (
        postgresql.insert if storage.dialect == "postgresql" else sqlite.insert
    )
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[key],
        set_={col.name: statement.excluded[col.name] for col in table.columns if col.name != key},
    )
    with storage.transaction() as conn:
        for start in range(0, len(records), 2000):
            conn.execute(statement, records[start : start + 2000])


def import_file(
    storage: Storage,
    protector: Protector,
    path: str | Path,
    kind: str | None = None,
    progress: TextIO | None = None,
) -> ImportResult:
    """Validate a whole CSV/YAML file, then upsert it; nothing is applied if any row is bad.

    ``progress``: a stream (stderr) for a progress bar on files of 1,000 rows or more.
    """
    path = Path(path)
    if not path.is_file():
        raise RegistryImportError(f"{path}: no such file")
    headers, rows = _read(path)
    if kind is None:
        kind = guess_kind(headers)
        if kind is None:
            raise RegistryImportError(
                f"{path}:1: cannot tell what the file holds from its headers; use --kind"
            )
    located = [(f"{path}:{line}", row) for line, row in rows]
    return import_rows(
        storage, protector, kind, located, headers=headers, header_where=f"{path}:1",
        progress=progress,
    )  # fmt: skip


def import_rows(
    storage: Storage,
    protector: Protector,
    kind: str,
    rows: list[tuple[str, dict[str, Any]]],
    *,
    headers: list[str] | None = None,
    header_where: str = "",
    progress: TextIO | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Validate rows (each with where it came from, ``FILE:LINE``), then upsert them all, or
    nothing if any row is bad (or ``dry_run``). ``headers`` default to every key the rows use."""
    if kind not in model.KINDS:
        raise RegistryImportError(f"unknown kind {kind!r}; expected one of {model.KINDS}")
    if headers is None:
        headers = list(dict.fromkeys(key for _, row in rows for key in row if key != _WIDTH))
    result = ImportResult(kind, len(rows))
    mapping: dict[str, str] = {}
    for header in headers:
        column = _column(kind, header)
        if column is None:
            result.errors.append(f"{header_where}: {header}: unknown column for {kind}")
        else:
            mapping[header] = column
    id_field = FIELDS[kind][0]
    if headers and id_field not in mapping.values():
        result.errors.append(f"{header_where}: {id_field}: required column missing")
    if result.errors:
        return result
    ctx = _existing(storage, kind)
    raw_rows = [
        (where, {mapping[k]: v for k, v in row.items() if k in mapping}) for where, row in rows
    ]
    file_ids = {_text(values.get(id_field)) for _, values in raw_rows}
    if kind == "households":
        ctx.ids["households"] |= file_ids
    records: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    bar = _Progress(progress, len(rows), f"{header_where.rsplit(':', 1)[0]}: validating")
    for index, ((where, values), (_, original)) in enumerate(zip(raw_rows, rows, strict=True)):
        row = _Row(where, values, result.errors)
        if _WIDTH in original:
            row.error("row", f"{original[_WIDTH]} values for {len(headers)} columns")
            continue
        record = _validate(kind, row, ctx, protector, file_ids)
        if record is not None:
            key = record[_ID_COLUMN[kind].rsplit(".", 1)[1]]
            if key in seen:
                row.error(id_field, f"duplicate of line {seen[key].rsplit(':', 1)[-1]}")
            else:
                seen[key] = where
                records.append(record)
        bar.update(index + 1)
    if result.errors or dry_run:
        return result
    _upsert(storage, model.TABLES[kind], records)
    result.applied = True
    return result


def _export_value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def export_rows(storage: Storage, kind: str) -> list[dict[str, Any]]:
    """The rows of one kind with English keys (personal data masked), ordered by id."""
    table = model.TABLES[kind]
    key = next(iter(table.primary_key.columns))
    with storage.transaction() as conn:
        rows = [row._mapping for row in conn.execute(select(table).order_by(key))]
    renames = {"id": FIELDS[kind][0], "household": "household_id"}
    renames |= {"id_masked": "id_number", "phone_masked": "phone"}
    out: list[dict[str, Any]] = []
    for row in rows:
        item = {
            renames.get(name, name): _export_value(value)
            for name, value in row.items()
            if name not in ("id_hash", "phone_enc")
        }
        out.append({name: item.get(name) for name in FIELDS[kind]})
    return out


def export_kind(
    storage: Storage, kind: str, stream: TextIO, fmt: str = "csv"
) -> int:  # pragma: no branch
    """Write one kind as CSV or YAML (English headers); returns the number of rows."""
    rows = export_rows(storage, kind)
    if fmt == "yaml":
        yaml.dump(rows, stream, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    else:
        writer = csv.DictWriter(stream, fieldnames=FIELDS[kind], lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return len(rows)
