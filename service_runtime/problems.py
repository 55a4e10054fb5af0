"""Problem+json bodies every gateway answers with: their documented shape, titles and framework
messages in English and Chinese (by Accept-Language), and a detail that never echoes the input."""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict

PROBLEM = "application/problem+json"
DOCUMENTED_STATUSES = (400, 401, 403, 404, 409, 422)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

TITLES: dict[int, tuple[str, str]] = {
    400: ("Bad request", "请求无法解析"), 401: ("Unauthorized", "未认证"), 403: ("Forbidden", "无权限"),
    404: ("Not Found", "未找到"), 405: ("Method Not Allowed", "不支持该方法"), 409: ("Conflict", "冲突"),
    422: ("Unprocessable request", "请求无效"), 503: ("Not ready", "服务未就绪"),
}
MESSAGES: dict[str, tuple[str, str]] = {
    "unknown_path": ("no such resource", "资源不存在"),
    "wrong_method": ("this resource does not accept that method", "该资源不接受此请求方法"),
    "unparsable": ("the request body is not valid JSON", "请求体不是有效的 JSON"),
    "token_required": ("a bearer token is required (Authorization: Bearer <token>)",
                       "需要 Bearer 令牌（Authorization: Bearer <token>）"),
    "invalid_token": ("the bearer token is invalid or expired", "Bearer 令牌无效或已过期"),
    "concurrent": ("the resource changed concurrently; retry the request", "资源已被并发修改，请重试"),
}
# Pydantic error types → a message that names the rule, never the value.
FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("required", "必填"),
    "extra_forbidden": ("not an accepted field", "不接受此字段"),
    "string_pattern_mismatch": ("does not have the required format", "格式不符合要求"),
    "string_too_short": ("too short", "太短"), "string_too_long": ("too long", "太长"),
    "literal_error": ("not one of the accepted values", "不是可接受的取值"),
    "enum": ("not one of the accepted values", "不是可接受的取值"),
    "uuid_parsing": ("not a valid UUID", "不是有效的 UUID"), "uuid_type": ("not a valid UUID", "不是有效的 UUID"),
    "int_parsing": ("not an integer", "不是整数"), "int_type": ("not an integer", "不是整数"),
    "decimal_parsing": ("not a decimal number", "不是十进制数"),
    "greater_than": ("too small", "太小"), "greater_than_equal": ("too small", "太小"),
    "less_than": ("too large", "太大"), "less_than_equal": ("too large", "太大"),
    "too_short": ("too few entries", "条目太少"), "too_long": ("too many entries", "条目太多"),
    "bool_parsing": ("not a boolean", "不是布尔值"), "bool_type": ("not a boolean", "不是布尔值"),
    "json_invalid": MESSAGES["unparsable"],
}
GENERIC_FIELD_MESSAGE = ("is not valid", "无效")


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of every gateway is answered."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def wants_chinese(accept_language: str | None) -> bool:
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return True
        if tag.startswith("en"):
            return False
    return False


def words(pair: tuple[str, str], chinese: bool) -> str:
    return pair[1] if chinese else pair[0]


def title(status: int, chinese: bool) -> str:
    return words(TITLES.get(status, ("Error", "错误")), chinese)


def field_message(error: dict[str, Any], chinese: bool) -> str:
    if error.get("type") == "value_error":  # our own validators word their rule without the value
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        return message if not chinese else f"{GENERIC_FIELD_MESSAGE[1]}：{message}"
    return words(FIELD_MESSAGES.get(error.get("type", ""), GENERIC_FIELD_MESSAGE), chinese)


def inputs_of(path_params: dict[str, Any], query: Iterable[tuple[str, str]], body: bytes) -> set[str]:
    """Every value the caller sent, so a message can be scrubbed of them."""
    values = {str(v) for v in path_params.values()} | {v for _, v in query}
    try:
        document = json.loads(body) if body else None
    except ValueError:
        document = None
        values.add(body.decode("utf-8", errors="replace"))

    def leaves(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():  # field names are ours to name; only values are the caller's
                leaves(value)
        elif isinstance(node, list):
            for value in node:
                leaves(value)
        elif node is not None:
            values.add(str(node))

    leaves(document)
    # A lower-case word is our own vocabulary (an enum value such as `balance`), which a message
    # may name; anything else the caller sent (numbers, codes, free text) is scrubbed.
    return {v for v in values if len(v) >= 4 and not re.fullmatch(r"[a-z_]+", v)}


def scrub(text: str, inputs: set[str]) -> str:
    """The caller's own values never come back in a message (a card number typed in a code field)."""
    for value in sorted(inputs, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "…")
    return text


def documented_responses() -> dict[str, dict[str, Any]]:
    """What every operation documents: the error statuses, each with the problem body."""
    return {str(status): {"description": words(TITLES[status], False),
                          "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for status in DOCUMENTED_STATUSES}


def problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"Problem": schema, **definitions}
