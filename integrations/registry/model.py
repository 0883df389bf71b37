"""The registry's tables (places, households, people, vehicles, organisations, the device
ledger) and its value vocabularies.

Personal data columns: ``id_hash`` (HMAC of the ID-card number), ``id_masked``, ``phone_enc``
(Fernet token) and ``phone_masked``; the clear values are never stored. Enumerations are stored
in English; ``*_VALUES`` map the Chinese words of property-office spreadsheets to them.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Column, Date, Float, Index, Integer, MetaData, String, Table

METADATA: Final = MetaData()

places = Table(
    "registry_places",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("parent", String(64), nullable=True, index=True),
    Column("x", Float, nullable=True),
    Column("y", Float, nullable=True),
    Column("address", String(256), nullable=True),
)

households = Table(
    "registry_households",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("building", String(32), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("floor", Integer, nullable=False),
    Column("room", String(16), nullable=False),
    Column("address", String(256), nullable=True),
    Column("occupancy", String(16), nullable=False),
    Column("area", Float, nullable=True),
)

people = Table(
    "registry_people",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("gender", String(8), nullable=True),
    Column("birth_date", Date, nullable=True),
    Column("id_hash", String(64), nullable=True, index=True),
    Column("id_masked", String(32), nullable=True),
    Column("phone_enc", String(256), nullable=True),
    Column("phone_masked", String(16), nullable=True),
    Column("household", String(64), nullable=True, index=True),
    Column("type", String(16), nullable=False),
    Column("lease_end", Date, nullable=True),
    Column("face_name", String(64), nullable=True),
    Column("card_number", String(32), nullable=True),
    Column("tags", String(256), nullable=False, default=""),
    Index("ix_registry_people_face", "face_name"),
)

vehicles = Table(
    "registry_vehicles",
    METADATA,
    Column("plate", String(16), primary_key=True),
    Column("colour", String(16), nullable=True),
    Column("household", String(64), nullable=True, index=True),
    Column("list_type", String(16), nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("parking_space", String(32), nullable=True),
)

organisations = Table(
    "registry_organisations",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("type", String(32), nullable=False),
    Column("address", String(256), nullable=True),
    Column("phone_enc", String(256), nullable=True),
    Column("phone_masked", String(16), nullable=True),
    # members as the spreadsheet keeps them: ``R00001:负责人;R00002`` (person id[:role])
    Column("members", String(4000), nullable=False, default=""),
)

devices = Table(
    "registry_devices",
    METADATA,
    # the entity id the device has in the hub (``lock.gate_main``); the ledger binds it to a place
    Column("id", String(128), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("type", String(32), nullable=False),
    Column("place", String(64), nullable=False, index=True),
    Column("x", Float, nullable=True),
    Column("y", Float, nullable=True),
    Column("manufacturer", String(64), nullable=True),
    Column("model", String(64), nullable=True),
    Column("serial", String(64), nullable=True),
    Column("installed", Date, nullable=True),
)

TABLES: Final = {
    "places": places,
    "households": households,
    "people": people,
    "vehicles": vehicles,
    "organisations": organisations,
    "devices": devices,
}
KINDS: Final = tuple(TABLES)

PLACE_KINDS: Final = {
    "人行出入口": "pedestrian_gate",
    "车行出入口": "vehicle_gate",
    "停车场": "car_park",
    "值班室": "guard_room",
    "公共区域": "public_area",
    "周界防区": "perimeter_zone",
    "楼栋": "building",
    "单元门": "unit_entrance",
    "小区": "community",
    "区域": "area",
}
OCCUPANCY: Final = {"自住": "owner", "出租": "rented"}
GENDERS: Final = {"男": "male", "女": "female"}
PERSON_TYPES: Final = {
    "业主": "owner",
    "家属": "family",
    "租户": "tenant",
    "住户": "resident",  # a resident whose owner/family/tenant status the office did not record
    "物业人员": "staff",
}
DEVICE_TYPES: Final = {
    "门禁": "access_door",
    "人行闸机": "turnstile",
    "车行道闸": "barrier",
    "摄像机": "camera",
    "人脸抓拍机": "face_camera",
    "车牌识别": "plate_camera",
    "门口机": "door_station",
    "室内机": "indoor_station",
    "管理机": "guard_station",
    "周界探测器": "perimeter_detector",
    "门磁": "door_contact",
    "红外探测器": "motion_detector",
    "烟感": "smoke_detector",
    "水浸": "water_detector",
    "紧急按钮": "panic_button",
    "报警主机": "alarm_panel",
    "声光报警器": "siren",
    "巡更点": "patrol_checkpoint",
    "其他": "other",
}
ORGANISATION_TYPES: Final = {
    "物业公司": "property_company",
    "派出所": "police_station",
    "居委会": "neighbourhood_committee",
    "业委会": "owners_committee",
    "保安公司": "security_company",
    "其他": "other",
}
LIST_TYPES: Final = {"业主车辆": "resident", "访客车辆": "visitor", "黑名单": "blocked"}
#: English names for the tags the spreadsheets use (tags are stored as written)
TAG_ALIASES: Final = {
    "elderly_living_alone": "独居老人",
    "elderly living alone": "独居老人",
    "child": "儿童",
    "needs_care": "需关爱",
    "needs care": "需关爱",
    "focus_person": "重点人员",
    "focus person": "重点人员",
    "guard": "保安",
    "cleaner": "保洁",
}
