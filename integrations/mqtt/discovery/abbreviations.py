"""Home Assistant's abbreviated discovery keys (``stat_t`` → ``state_topic`` …) and the ``~``
base-topic shorthand, expanded before a discovery payload is validated.

Devices save bytes with the short keys (ESPHome and Tasmota always do); both spellings are
accepted everywhere, including inside ``device``/``dev``, ``origin``/``o`` and each entry of an
``availability`` list. A topic value that starts or ends with ``~`` has the ``~`` replaced by the
payload's ``~`` value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# Grouped by what they configure; one table, looked up key by key.
ABBREVIATIONS: Final[dict[str, str]] = {
    # identity and presentation
    "name": "name",
    "uniq_id": "unique_id",
    "obj_id": "object_id",
    "def_ent_id": "default_entity_id",
    "dev": "device",
    "o": "origin",
    "p": "platform",
    "cmps": "components",
    "dev_cla": "device_class",
    "stat_cla": "state_class",
    "unit_of_meas": "unit_of_measurement",
    "sug_dsp_prc": "suggested_display_precision",
    "ic": "icon",
    "ent_pic": "entity_picture",
    "ent_cat": "entity_category",
    "en": "enabled_by_default",
    "e": "encoding",
    "qos": "qos",
    "ret": "retain",
    "opt": "optimistic",
    "frc_upd": "force_update",
    "exp_aft": "expire_after",
    "off_dly": "off_delay",
    # availability
    "avty": "availability",
    "avty_mode": "availability_mode",
    "avty_t": "availability_topic",
    "avty_tpl": "availability_template",
    "pl_avail": "payload_available",
    "pl_not_avail": "payload_not_available",
    # state, command, attributes
    "stat_t": "state_topic",
    "stat_tpl": "state_template",
    "stat_val_tpl": "state_value_template",
    "val_tpl": "value_template",
    "cmd_t": "command_topic",
    "cmd_tpl": "command_template",
    "cmd_on_tpl": "command_on_template",
    "cmd_off_tpl": "command_off_template",
    "json_attr": "json_attributes",
    "json_attr_t": "json_attributes_topic",
    "json_attr_tpl": "json_attributes_template",
    "lrst_t": "last_reset_topic",
    "lrst_val_tpl": "last_reset_value_template",
    "t": "topic",
    "pl": "payload",
    "atype": "automation_type",
    "type": "type",
    "stype": "subtype",
    "evt_typ": "event_types",
    "schema": "schema",
    # payloads and states
    "pl_on": "payload_on",
    "pl_off": "payload_off",
    "stat_on": "state_on",
    "stat_off": "state_off",
    "pl_lock": "payload_lock",
    "pl_unlk": "payload_unlock",
    "pl_open": "payload_open",
    "pl_rst": "payload_reset",
    "pl_prs": "payload_press",
    "pl_cls": "payload_close",
    "pl_stop": "payload_stop",
    "stat_locked": "state_locked",
    "stat_unlocked": "state_unlocked",
    "stat_locking": "state_locking",
    "stat_unlocking": "state_unlocking",
    "stat_jam": "state_jammed",
    "stat_open": "state_open",
    "stat_opening": "state_opening",
    "stat_clsd": "state_closed",
    "stat_closing": "state_closing",
    "stat_stopped": "state_stopped",
    "cod_form": "code_format",
    # alarm control panel
    "pl_arm_away": "payload_arm_away",
    "pl_arm_home": "payload_arm_home",
    "pl_arm_nite": "payload_arm_night",
    "pl_arm_vacation": "payload_arm_vacation",
    "pl_arm_custom_b": "payload_arm_custom_bypass",
    "pl_disarm": "payload_disarm",
    "pl_trig": "payload_trigger",
    "cod_arm_req": "code_arm_required",
    "cod_dis_req": "code_disarm_required",
    "cod_trig_req": "code_trigger_required",
    "sup_feat": "supported_features",
    # siren
    "av_tones": "available_tones",
    "sup_dur": "support_duration",
    "sup_vol": "support_volume_set",
    # light
    "bri_cmd_t": "brightness_command_topic",
    "bri_cmd_tpl": "brightness_command_template",
    "bri_scl": "brightness_scale",
    "bri_stat_t": "brightness_state_topic",
    "bri_tpl": "brightness_template",
    "bri_val_tpl": "brightness_value_template",
    "on_cmd_type": "on_command_type",
    "clrm": "color_mode",
    "clrm_stat_t": "color_mode_state_topic",
    "clrm_val_tpl": "color_mode_value_template",
    "sup_clrm": "supported_color_modes",
    "clr_temp_cmd_t": "color_temp_command_topic",
    "clr_temp_cmd_tpl": "color_temp_command_template",
    "clr_temp_stat_t": "color_temp_state_topic",
    "clr_temp_tpl": "color_temp_template",
    "clr_temp_val_tpl": "color_temp_value_template",
    "fx_cmd_t": "effect_command_topic",
    "fx_cmd_tpl": "effect_command_template",
    "fx_list": "effect_list",
    "fx_stat_t": "effect_state_topic",
    "fx_tpl": "effect_template",
    "fx_val_tpl": "effect_value_template",
    "flsh_tlng": "flash_time_long",
    "flsh_tsht": "flash_time_short",
    "hs_cmd_t": "hs_command_topic",
    "hs_stat_t": "hs_state_topic",
    "hs_val_tpl": "hs_value_template",
    "rgb_cmd_t": "rgb_command_topic",
    "rgb_cmd_tpl": "rgb_command_template",
    "rgb_stat_t": "rgb_state_topic",
    "rgb_val_tpl": "rgb_value_template",
    "rgbw_cmd_t": "rgbw_command_topic",
    "rgbw_cmd_tpl": "rgbw_command_template",
    "rgbw_stat_t": "rgbw_state_topic",
    "rgbw_val_tpl": "rgbw_value_template",
    "rgbww_cmd_t": "rgbww_command_topic",
    "rgbww_cmd_tpl": "rgbww_command_template",
    "rgbww_stat_t": "rgbww_state_topic",
    "rgbww_val_tpl": "rgbww_value_template",
    "xy_cmd_t": "xy_command_topic",
    "xy_stat_t": "xy_state_topic",
    "xy_val_tpl": "xy_value_template",
    "whit_cmd_t": "white_command_topic",
    "whit_scl": "white_scale",
    "r_tpl": "red_template",
    "g_tpl": "green_template",
    "b_tpl": "blue_template",
    "max_mirs": "max_mireds",
    "min_mirs": "min_mireds",
    "max_kltn": "max_kelvin",
    "min_kltn": "min_kelvin",
    # other HA platforms (accepted and expanded; not all are supported here)
    "act_t": "action_topic",
    "act_tpl": "action_template",
    "aux_cmd_t": "aux_command_topic",
    "aux_stat_t": "aux_state_topic",
    "aux_stat_tpl": "aux_state_template",
    "bat_lev_t": "battery_level_topic",
    "bat_lev_tpl": "battery_level_template",
    "chrg_t": "charging_topic",
    "chrg_tpl": "charging_template",
    "cln_t": "cleaning_topic",
    "cln_tpl": "cleaning_template",
    "curr_temp_t": "current_temperature_topic",
    "curr_temp_tpl": "current_temperature_template",
    "curr_hum_t": "current_humidity_topic",
    "curr_hum_tpl": "current_humidity_template",
    "dock_t": "docked_topic",
    "dock_tpl": "docked_template",
    "err_t": "error_topic",
    "err_tpl": "error_template",
    "fanspd_t": "fan_speed_topic",
    "fanspd_tpl": "fan_speed_template",
    "fanspd_lst": "fan_speed_list",
    "fan_mode_cmd_t": "fan_mode_command_topic",
    "fan_mode_cmd_tpl": "fan_mode_command_template",
    "fan_mode_stat_t": "fan_mode_state_topic",
    "fan_mode_stat_tpl": "fan_mode_state_template",
    "hold_cmd_t": "hold_command_topic",
    "hold_cmd_tpl": "hold_command_template",
    "hold_stat_t": "hold_state_topic",
    "hold_stat_tpl": "hold_state_template",
    "hum_cmd_t": "target_humidity_command_topic",
    "hum_cmd_tpl": "target_humidity_command_template",
    "hum_stat_t": "target_humidity_state_topic",
    "hum_state_tpl": "target_humidity_state_template",
    "img_e": "image_encoding",
    "init": "initial",
    "max": "max",
    "min": "min",
    "max_hum": "max_humidity",
    "min_hum": "min_humidity",
    "max_temp": "max_temp",
    "min_temp": "min_temp",
    "mode": "mode",
    "modes": "modes",
    "mode_cmd_t": "mode_command_topic",
    "mode_cmd_tpl": "mode_command_template",
    "mode_stat_t": "mode_state_topic",
    "mode_stat_tpl": "mode_state_template",
    "ops": "options",
    "osc_cmd_t": "oscillation_command_topic",
    "osc_cmd_tpl": "oscillation_command_template",
    "osc_stat_t": "oscillation_state_topic",
    "osc_val_tpl": "oscillation_value_template",
    "pct_cmd_t": "percentage_command_topic",
    "pct_cmd_tpl": "percentage_command_template",
    "pct_stat_t": "percentage_state_topic",
    "pct_val_tpl": "percentage_value_template",
    "pl_cln_sp": "payload_clean_spot",
    "pl_home": "payload_home",
    "pl_loc": "payload_locate",
    "pl_not_home": "payload_not_home",
    "pl_osc_off": "payload_oscillation_off",
    "pl_osc_on": "payload_oscillation_on",
    "pl_paus": "payload_pause",
    "pl_ret": "payload_return_to_base",
    "pl_rst_hum": "payload_reset_humidity",
    "pl_rst_mode": "payload_reset_mode",
    "pl_rst_pct": "payload_reset_percentage",
    "pl_rst_pr_mode": "payload_reset_preset_mode",
    "pl_strt": "payload_start",
    "pl_stpa": "payload_start_pause",
    "pl_toff": "payload_turn_off",
    "pl_ton": "payload_turn_on",
    "pos_clsd": "position_closed",
    "pos_open": "position_open",
    "pos_t": "position_topic",
    "pos_tpl": "position_template",
    "pow_cmd_t": "power_command_topic",
    "pow_cmd_tpl": "power_command_template",
    "pr_mode_cmd_t": "preset_mode_command_topic",
    "pr_mode_cmd_tpl": "preset_mode_command_template",
    "pr_mode_stat_t": "preset_mode_state_topic",
    "pr_mode_val_tpl": "preset_mode_value_template",
    "pr_modes": "preset_modes",
    "send_cmd_t": "send_command_topic",
    "send_if_off": "send_if_off",
    "set_fan_spd_t": "set_fan_speed_topic",
    "set_pos_t": "set_position_topic",
    "set_pos_tpl": "set_position_template",
    "src_type": "source_type",
    "step": "step",
    "swing_mode_cmd_t": "swing_mode_command_topic",
    "swing_mode_cmd_tpl": "swing_mode_command_template",
    "swing_mode_stat_t": "swing_mode_state_topic",
    "swing_mode_stat_tpl": "swing_mode_state_template",
    "temp_cmd_t": "temperature_command_topic",
    "temp_cmd_tpl": "temperature_command_template",
    "temp_hi_cmd_t": "temperature_high_command_topic",
    "temp_hi_cmd_tpl": "temperature_high_command_template",
    "temp_hi_stat_t": "temperature_high_state_topic",
    "temp_hi_stat_tpl": "temperature_high_state_template",
    "temp_lo_cmd_t": "temperature_low_command_topic",
    "temp_lo_cmd_tpl": "temperature_low_command_template",
    "temp_lo_stat_t": "temperature_low_state_topic",
    "temp_lo_stat_tpl": "temperature_low_state_template",
    "temp_stat_t": "temperature_state_topic",
    "temp_stat_tpl": "temperature_state_template",
    "temp_unit": "temperature_unit",
    "tilt_clsd_val": "tilt_closed_value",
    "tilt_cmd_t": "tilt_command_topic",
    "tilt_cmd_tpl": "tilt_command_template",
    "tilt_inv_stat": "tilt_invert_state",
    "tilt_max": "tilt_max",
    "tilt_min": "tilt_min",
    "tilt_opnd_val": "tilt_opened_value",
    "tilt_opt": "tilt_optimistic",
    "tilt_status_t": "tilt_status_topic",
    "tilt_status_tpl": "tilt_status_template",
}

DEVICE_ABBREVIATIONS: Final[dict[str, str]] = {
    "ids": "identifiers",
    "cns": "connections",
    "name": "name",
    "mf": "manufacturer",
    "mdl": "model",
    "mdl_id": "model_id",
    "hw": "hw_version",
    "sw": "sw_version",
    "sn": "serial_number",
    "sa": "suggested_area",
    "cu": "configuration_url",
    "via_device": "via_device",
}

ORIGIN_ABBREVIATIONS: Final[dict[str, str]] = {
    "name": "name",
    "sw": "sw_version",
    "url": "support_url",
}


def _expand_keys(data: Mapping[str, Any], table: Mapping[str, str]) -> dict[str, Any]:
    expanded: dict[str, Any] = {}
    for key, value in data.items():
        full = table.get(key, key)
        if full in expanded and full != key:
            continue  # the full spelling given too wins
        expanded[full] = value
    return expanded


def _with_base(value: Any, base: str | None) -> Any:
    if base is None or not isinstance(value, str):
        return value
    if value.startswith("~"):
        return base + value[1:]
    if value.endswith("~"):
        return value[:-1] + base
    return value


def expand(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A discovery payload with full key names and ``~`` resolved in topics."""
    data = _expand_keys(payload, ABBREVIATIONS)
    base = data.pop("~", None)
    base = str(base) if base is not None else None
    for key, value in list(data.items()):
        if key.endswith("topic"):
            data[key] = _with_base(value, base)
    device = data.get("device")
    if isinstance(device, Mapping):
        data["device"] = _expand_keys(device, DEVICE_ABBREVIATIONS)
    origin = data.get("origin")
    if isinstance(origin, Mapping):
        data["origin"] = _expand_keys(origin, ORIGIN_ABBREVIATIONS)
    availability = data.get("availability")
    if isinstance(availability, list):
        data["availability"] = [
            _availability_entry(entry, base) if isinstance(entry, Mapping) else entry
            for entry in availability
        ]
    return data


def _availability_entry(entry: Mapping[str, Any], base: str | None) -> dict[str, Any]:
    expanded = _expand_keys(entry, ABBREVIATIONS)
    if "topic" in expanded:
        expanded["topic"] = _with_base(expanded["topic"], base)
    return expanded
