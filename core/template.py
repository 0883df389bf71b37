"""Jinja2 templates, Home-Assistant compatible, sandboxed and bounded.

Place in the whole: automations, conditions, triggers and script steps render templates
(``{{ is_state('lock.gate_north', 'unlocked') }}``, service ``data:``) through the hub's one
:class:`TemplateEnvironment` (``hub.templates``). Template triggers and ``wait_template`` use
:meth:`Template.render_with_info` to learn which entities a render read, so they re-render only
when one of those changes.

What it guarantees:

* Home Assistant's language: its functions, filters and tests over this hub's state machine
  (``states``, ``is_state``, ``state_attr``, ``expand``, ``now`` …, see :class:`_Functions`),
  plus place lookups (``place_name``, ``place_id``, ``place_entities``), and its result
  parsing (``parse_result``: ``"5"`` -> ``5``, ``"0123"`` stays a string).
* Time comes from the hub's clock and time zone, never the wall clock, so tests are exact.
* Lazy and cheap: a :class:`Template` is only compiled when first rendered (10,000
  automations load without touching Jinja); a string without ``{{``/``{%``/``{#`` never
  touches Jinja at all; compiled templates are shared through a bounded LRU cache.
* A sandbox that an automation author cannot escape: Jinja's
  :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`, hardened so that unsafe attribute
  access *raises* (stock Jinja renders it as an empty string), and every render bounded in
  output, memory and work (the ``MAX_*`` constants below; each says why it is that number).
  Breaking a bound raises :class:`TemplateError`; nothing is silently cut.

Known limit: a regular expression can backtrack exponentially (``(a+)+$``) and Python's ``re``
cannot be interrupted, so ``regex_*`` functions with such a pattern can still stall a render.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import math
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, wraps
from string import Formatter
from typing import TYPE_CHECKING, Any, Final, NoReturn

import jinja2
import jinja2.filters as jinja_filters
import orjson
from jinja2 import nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from jinja2.visitor import NodeTransformer

from .durations import parse_time_of_day
from .events import Context as EventContext
from .states import InvalidEntityId, ReadOnlyDict, State, normalize_entity_id, valid_entity_id

if TYPE_CHECKING:
    from .hub import Hub

_LOGGER = logging.getLogger(__name__)

# -- bounds -----------------------------------------------------------------------------------
# Home Assistant's limit on a render's output (its MAX_TEMPLATE_OUTPUT). A template result is a
# state, a notification or service data: 256 KiB is far beyond any of those.
MAX_OUTPUT: Final = 256 * 1024
# Any one string an operator or filter builds inside a render ('a' * n, ~, replace, format,
# center, join …). Nothing longer could be output anyway, so a longer intermediate is a bug or
# an attack (``'a' * 10**9`` would allocate a gigabyte before any output check could run).
MAX_STRING: Final = MAX_OUTPUT
# All strings built by operators and filters in one render, added up. Each is at most
# MAX_STRING, but a loop or ``map`` could make thousands of them: 16 MiB caps the memory one
# render can take while leaving room for templates that format a few hundred entities.
MAX_PRODUCED: Final = 16 * 1024 * 1024
# Size of a list/tuple/dict built by a literal or an operator, counted as items plus string
# characters, *through* nested references: ``[a, a]`` doubles it, so 30 doublings of a small
# list are caught before printing one would need gigabytes. 1 Mi covers a 100,000-item list
# (the largest ``range``) of short values.
MAX_CONTAINER_WEIGHT: Final = 1024 * 1024
# Items one ``for`` loop may take: the same as Jinja's own cap on ``range()`` (MAX_RANGE).
MAX_LOOP_ITEMS: Final = 100_000
# Work one render may do, in steps: 1 per loop item, 1 per item a filter walks (sort, map,
# join, sum …), CALL_COST per call of a macro or method. A step costs 0.2-1 us (a macro call
# about 10 loop steps, hence CALL_COST), so a runaway render stops within about a quarter of
# a second of CPU (the bound payloads in tests/test_template.py stop in 0.05-0.25 s on the
# 2-core development VM), while a loop over the largest range (100,000 items) still fits
# twice. The hub runs every automation on one event loop: no template may stall it for long.
MAX_WORK: Final = 250_000
CALL_COST: Final = 10
# Integers stay below 16,384 bits (~4,900 digits): Python refuses to print ints above 4,300
# digits anyway, and big-int multiplication is quadratic, so ``10**10**10`` must never start.
MAX_INT_BITS: Final = 16_384
# Widths and precisions in '%'-formatting and str.format: '%0999999999d' is a 1 GB string.
# Tables and padded numbers need tens of characters; 1,000 is generous.
MAX_FORMAT_WIDTH: Final = 1_000
# Compiled templates kept per hub (least recently used dropped first). Automations keep their
# own Template objects, so this only bounds memory for templates built on the fly (API, tools).
MAX_CACHED_TEMPLATES: Final = 4096
# Parsed results of recent renders ("True", "21.5", "unlocked" …), shared by all templates.
PARSE_CACHE_SIZE: Final = 4096

_SENTINEL: Final[Any] = object()
_JS_SAFE_INT: Final = 2**53 - 1

# Names jinja (and the sandbox) probe on callables; a states object must not mistake them for
# domains or entity ids.
_RESERVED_NAMES: Final = frozenset(
    {
        "jinja_pass_arg",
        "jinja_async_variant",
        "contextfunction",
        "evalcontextfunction",
        "environmentfunction",
        "unsafe_callable",
        "alters_data",
    }
)
_DOMAIN_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_STATE_FIELDS: Final = frozenset(
    {
        "state",
        "attributes",
        "last_changed",
        "last_updated",
        "context",
        "domain",
        "object_id",
        "name",
    }
)
_UNAVAILABLE: Final = ("unavailable", "unknown")

# Filter names the hardening pass inserts into every compiled template.
_LOOP_FILTER: Final = "__sw_loop"
_TICK_FILTER: Final = "__sw_tick"
_CONCAT_FILTER: Final = "__sw_concat"
_CONTAINER_FILTER: Final = "__sw_container"


# -- errors and render info -------------------------------------------------------------------
def _shorten(source: str, limit: int = 160) -> str:
    text = " ".join(source.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TemplateError(Exception):
    """A template that cannot be compiled or rendered. ``str()`` says what went wrong and which
    template (shortened). ``render_info`` is set when :meth:`Template.render_with_info` failed:
    what the render read before failing (a template trigger still knows what to watch)."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.render_info: RenderInfo | None = None

    def __str__(self) -> str:
        if self.source is None:
            return self.message
        return f"{self.message} (template: {_shorten(self.source)!r})"


class RenderInfo:
    """What one render read from the state machine.

    ``entities``: entity ids read (through ``states()``, ``is_state``, ``state_attr``,
    ``states.x.y``, ``expand`` …, also ids that had no state); ``domains``: domains whose states
    were iterated (``states.lock``); ``all_states``: all states were iterated (``states``);
    ``has_time``: the render read the clock (``now()``, ``utcnow()``, ``today_at``,
    ``relative_time``), so its result changes with time alone.
    """

    __slots__ = ("all_states", "domains", "entities", "has_time")

    def __init__(self) -> None:
        self.entities: set[str] = set()
        self.domains: set[str] = set()
        self.all_states = False
        self.has_time = False

    def matches(self, entity_id: str) -> bool:
        """True if a change of ``entity_id`` may change the result."""
        return (
            self.all_states
            or entity_id in self.entities
            or (bool(self.domains) and entity_id.partition(".")[0] in self.domains)
        )

    def __repr__(self) -> str:
        return (
            f"RenderInfo(entities={sorted(self.entities)}, domains={sorted(self.domains)}, "
            f"all_states={self.all_states}, has_time={self.has_time})"
        )


class _RenderState:
    """The budgets and the RenderInfo of the render in progress (see ``_RENDER``)."""

    __slots__ = ("info", "produced", "source", "work")

    def __init__(self, source: str, info: RenderInfo | None) -> None:
        self.source = source
        self.info = info
        self.work = MAX_WORK
        self.produced = MAX_PRODUCED


# A ContextVar rather than an attribute: safe if a render ever runs in a worker thread, and
# correct when a template function renders another template.
_RENDER: ContextVar[_RenderState | None] = ContextVar("shouwang_template_render", default=None)


def _info() -> RenderInfo | None:
    state = _RENDER.get()
    return None if state is None else state.info


def _too_much_work() -> NoReturn:
    raise TemplateError(
        f"template does too much work: more than {MAX_WORK} steps (loop items, items walked "
        "by filters, calls) in one render"
    )


def _charge(units: int) -> None:
    state = _RENDER.get()
    if state is not None:
        state.work -= units
        if state.work < 0:
            _too_much_work()


def _charge_sized(value: Any) -> None:
    try:
        size = len(value)
    except TypeError:  # a generator: its source was charged
        return
    _charge(size)


def _produce(length: int) -> None:
    state = _RENDER.get()
    if state is not None:
        state.produced -= length
        if state.produced < 0:
            raise TemplateError(
                f"template builds too much text: more than {MAX_PRODUCED} characters in one render"
            )


def _check_length(length: int, what: str) -> None:
    if length > MAX_STRING:
        raise TemplateError(f"{what} would be {length} characters long; the limit is {MAX_STRING}")


def _checked_str(value: str, what: str) -> str:
    _check_length(len(value), what)
    _produce(len(value))
    return value


_CONTAINER_TYPES: Final = (list, tuple, set, frozenset, dict)


def _weigh(value: Any, what: str = "a list or mapping") -> int:
    """Items plus string characters of ``value``, walked through nested references; raises
    as soon as that exceeds MAX_CONTAINER_WEIGHT (so the walk itself is bounded). Each item
    visited is a step of work."""
    total = 0
    visited = 0
    stack = [value]
    while stack:
        item = stack.pop()
        visited += 1
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2 + 2 * len(item)
            if total <= MAX_CONTAINER_WEIGHT:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + len(item)
            if total <= MAX_CONTAINER_WEIGHT:
                stack.extend(item)
        else:
            total += 8
        if total > MAX_CONTAINER_WEIGHT:
            raise TemplateError(
                f"{what} is too large (more than {MAX_CONTAINER_WEIGHT} items and characters, "
                "counting nested references)"
            )
    if visited > 16:  # small literals are free
        _charge(visited)
    return total


def _check_container(value: Any) -> None:
    _weigh(value)


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, _CONTAINER_TYPES):
        _check_container(value)
    return str(value)


# -- operators and amplifying functions -------------------------------------------------------
_PERCENT_SPEC_RE: Final = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS_RE: Final = re.compile(r"\d+")


def _check_percent_format(fmt: str) -> None:
    for match in _PERCENT_SPEC_RE.finditer(fmt):
        for part in match.groups():
            if part == "*":
                raise TemplateError("'*' widths are not allowed in '%' formatting")
            if part is not None and int(part) > MAX_FORMAT_WIDTH:
                raise TemplateError(
                    f"format width {part} is too large (the limit is {MAX_FORMAT_WIDTH})"
                )


def _check_brace_format(fmt: str) -> None:
    try:
        parsed = list(Formatter().parse(fmt))
    except ValueError:
        return  # str.format raises its own error
    for _literal, _field, spec, _conversion in parsed:
        if not spec:
            continue
        if "{" in spec:
            raise TemplateError("nested replacement fields in a format spec are not allowed")
        for digits in _DIGITS_RE.findall(spec):
            if int(digits) > MAX_FORMAT_WIDTH:
                raise TemplateError(
                    f"format width {digits} is too large (the limit is {MAX_FORMAT_WIDTH})"
                )


def _percent_format(fmt: str, args: Any) -> str:
    _check_percent_format(fmt)
    if isinstance(args, _CONTAINER_TYPES):
        _check_container(args)
    return _checked_str(fmt % args, "the formatted string")


def _check_repeat(sequence: Any, times: int) -> None:
    if times <= 0:
        return
    if isinstance(sequence, str):
        _check_length(len(sequence) * times, "the repeated string")
    elif _weigh(sequence) * times > MAX_CONTAINER_WEIGHT:
        raise TemplateError(
            f"the repeated list is too large (more than {MAX_CONTAINER_WEIGHT} items and "
            "characters, counting nested references)"
        )


def _binop(operator: str, left: Any, right: Any) -> Any:
    if operator == "*":
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise TemplateError(f"integer result too large (more than {MAX_INT_BITS} bits)")
            return left * right
        if isinstance(right, int) and isinstance(left, str | list | tuple):
            _check_repeat(left, right)
        elif isinstance(left, int) and isinstance(right, str | list | tuple):
            _check_repeat(right, left)
        result = left * right
        if isinstance(result, str):
            _produce(len(result))
        return result
    if operator == "**":
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and abs(left) > 1
            and abs(left).bit_length() * right > MAX_INT_BITS
        ):
            raise TemplateError(f"integer result too large (more than {MAX_INT_BITS} bits)")
        return left**right
    if operator == "+":
        if isinstance(left, str) and isinstance(right, str):
            _check_length(len(left) + len(right), "the joined string")
            _produce(len(left) + len(right))
            return left + right
        result = left + right
        if isinstance(result, list | tuple):
            _check_container(result)
        return result
    if operator == "%" and isinstance(left, str):
        return _percent_format(left, right)
    if operator == "%":
        return left % right
    raise TemplateError(f"unsupported operator {operator!r}")  # pragma: no cover


def _guard_str_method(owner: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run a str method that can make a long string, checking the result size first."""
    if name == "join":
        return _bounded_join(owner, args[0] if args else kwargs.get("iterable", ()))
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        if isinstance(width, int):
            _check_length(width, f"str.{name}()")
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tabsize, int):
            _check_length(len(owner) + owner.count("\t") * tabsize, "str.expandtabs()")
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str):
        _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else -1)
    result = getattr(owner, name)(*args, **kwargs)
    if isinstance(result, str):
        _produce(len(result))
    return result


_GUARDED_STR_METHODS: Final = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join"}
)


def _check_replace(text: str, old: str, new: Any, count: Any) -> None:
    if not isinstance(new, str):
        return
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _check_length(len(text) + hits * (len(new) - len(old)), "the replaced string")


def _bounded_join(separator: str, iterable: Any) -> str:
    items = iterable if isinstance(iterable, list | tuple) else list(iterable)
    _charge(len(items))
    texts = [_to_text(item) for item in items]
    total = sum(len(text) for text in texts) + len(separator) * max(len(texts) - 1, 0)
    _check_length(total, "the joined string")
    _produce(total)
    return separator.join(texts)


# -- jinja filters for the hardening pass -----------------------------------------------------
@pass_context
def _loop_guard(_context: Context, iterable: Any) -> Iterator[Any]:
    state = _RENDER.get()
    if state is None:  # pragma: no cover - only rendered through Template
        yield from iterable
        return
    for count, item in enumerate(iterable, 1):
        if count > MAX_LOOP_ITEMS:
            raise TemplateError(f"a loop took more than {MAX_LOOP_ITEMS} items")
        state.work -= 1
        if state.work < 0:
            _too_much_work()
        yield item


@pass_context
def _tick(_context: Context, _value: Any) -> str:
    _charge(1)
    return ""


def _concat(items: list[Any]) -> str:
    texts = [_to_text(item) for item in items]
    total = sum(len(text) for text in texts)
    _check_length(total, "the joined string")
    _produce(total)
    return "".join(texts)


def _container(value: Any) -> Any:
    _check_container(value)
    return value


def _finalize(value: Any) -> Any:
    if isinstance(value, _CONTAINER_TYPES):
        _check_container(value)
    return value


def _bounded_concat(parts: Iterable[str]) -> str:
    """``environment.concat``: joins the output of ``{% set %}`` blocks and macros."""
    pieces = parts if isinstance(parts, list) else list(parts)
    total = 0
    for piece in pieces:
        total += len(piece)
    _check_length(total, "a block's output")
    _produce(total)
    return "".join(pieces)


class _Harden(NodeTransformer):
    """Rewrites a parsed template so that loops, ``~`` and container literals are bounded."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        lineno = node.lineno
        node.iter = nodes.Filter(node.iter, _LOOP_FILTER, [], [], None, None, lineno=lineno)
        if node.recursive:  # recursive calls iterate what they are given: count each item
            tick = nodes.Filter(nodes.Const(None), _TICK_FILTER, [], [], None, None)
            node.body.insert(0, nodes.ExprStmt(tick, lineno=lineno))
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        items = nodes.List(list(node.nodes), lineno=node.lineno)
        return nodes.Filter(items, _CONCAT_FILTER, [], [], None, None, lineno=node.lineno)

    def _guard(self, node: nodes.Expr) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(node, _CONTAINER_FILTER, [], [], None, None, lineno=node.lineno)

    def visit_List(self, node: nodes.List) -> nodes.Node:
        return self._guard(node)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Node:
        return self._guard(node)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        if node.ctx != "load":  # an assignment target: {% for a, b in … %}
            self.generic_visit(node)
            return node
        return self._guard(node)


# -- the sandbox ------------------------------------------------------------------------------
class _LoggingUndefined(jinja2.Undefined):
    """Home Assistant's lenient undefined: ``{{ missing }}`` renders empty and logs a warning;
    using it further (``missing.attr``, ``missing + 1``) is an error."""

    __slots__ = ()

    def _warn(self) -> None:
        state = _RENDER.get()
        source = _shorten(state.source) if state is not None else "?"
        _LOGGER.warning(
            "Template variable warning: %s when rendering %r", self._undefined_message, source
        )

    def __str__(self) -> str:
        self._warn()
        return super().__str__()

    def __iter__(self) -> Iterator[Any]:
        self._warn()
        return super().__iter__()

    def __bool__(self) -> bool:
        self._warn()
        return super().__bool__()


_BLOCKED_ATTRIBUTES: Final = frozenset({"translate", "maketrans", "fromkeys"})


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with unsafe access raising and every render bounded."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=_LoggingUndefined,
            finalize=_finalize,
            extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do"],
            autoescape=False,
            cache_size=0,
            auto_reload=False,
        )
        self.concat = _bounded_concat  # type: ignore[method-assign]
        # ids of our own functions: called directly, without the generic sandbox checks
        self.trusted: set[int] = set()

    # Unsafe attribute access raises instead of rendering as an empty string.
    def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr in _BLOCKED_ATTRIBUTES:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) in _DICT_CLASSES and attribute not in _DICT_ATTRIBUTES:
            # trigger.to_state, trigger.event.data.camera: Jinja would try (and fail) an
            # attribute lookup first; a dict's own methods still take the normal path
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        if obj.__class__ in _STATE_CLASSES:  # fast path for states.lock.gate_north.state
            if attribute[:1] == "_":
                self.unsafe_undefined(obj, attribute)
            try:
                return getattr(obj, attribute)
            except AttributeError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _check_brace_format(value.__self__)

        def checked(*args: Any, **kwargs: Any) -> str:
            for arg in (*args, *kwargs.values()):
                if isinstance(arg, _CONTAINER_TYPES):
                    _check_container(arg)
            return _checked_str(wrapped(*args, **kwargs), "the formatted string")

        return checked

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return _binop(operator, left, right)

    def call(
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if id(__obj) in __self.trusted:  # our leaf functions: loops around them are counted
            if kwargs:
                kwargs.pop("_loop_vars", None)
                kwargs.pop("_block_vars", None)
            return __obj(*args, **kwargs)
        state = _RENDER.get()
        if state is not None:  # macros, methods, callables from variables
            state.work -= CALL_COST
            if state.work < 0:
                _too_much_work()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", None) in _GUARDED_STR_METHODS:
            kwargs.pop("_loop_vars", None)
            kwargs.pop("_block_vars", None)
            return _guard_str_method(owner, __obj.__name__, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _Harden().visit(tree)
        return tree


class _RenderContext(Context):
    """A Jinja render context made cheaply (this is most of the fixed cost of a render).

    It sets exactly what :class:`jinja2.runtime.Context` sets in ``__init__`` (Jinja 3.1),
    differently in two ways: the sandbox's globals are shared as the read-only ``parent``
    (Jinja copies them for every render; a template's ``{% set %}`` writes go to ``vars``,
    never to the parent), and the variables start in ``vars``, which Jinja also looks up
    first, so they shadow globals exactly as when Jinja merges them.
    """

    def __init__(
        self,
        environment: _Sandbox,
        variables: Mapping[str, Any] | None,
        blocks: dict[str, Callable[[Context], Iterator[str]]],
    ) -> None:
        self.parent = environment.globals
        self.vars = dict(variables) if variables else {}
        self.environment = environment
        self.eval_ctx = nodes.EvalContext(environment)
        self.exported_vars = set()
        self.name = None
        self.globals_keys = set()
        self.blocks = {name: [block] for name, block in blocks.items()} if blocks else {}


# -- template state objects -------------------------------------------------------------------
def _collect(entity_id: str) -> None:
    info = _info()
    if info is not None:
        info.entities.add(entity_id)


def _canonical(entity_id: str) -> str | None:
    if valid_entity_id(entity_id):
        return entity_id
    try:
        return normalize_entity_id(entity_id)
    except InvalidEntityId:
        return None


class TemplateState:
    """A state as templates see it: created on access, it records in the render's
    :class:`RenderInfo` that the entity was read when one of its fields is used."""

    __slots__ = ("_collect", "_state")

    def __init__(self, state: State, collect: bool = True) -> None:
        self._state = state
        self._collect = collect

    def _read(self) -> State:
        if self._collect:
            _collect(self._state.entity_id)
        return self._state

    @property
    def entity_id(self) -> str:
        return self._state.entity_id

    @property
    def state(self) -> str:
        return self._read().state

    @property
    def attributes(self) -> Mapping[str, Any]:
        return self._read().attributes

    @property
    def last_changed(self) -> datetime:
        return self._read().last_changed

    @property
    def last_updated(self) -> datetime:
        return self._read().last_updated

    @property
    def context(self) -> Any:
        return self._read().context

    @property
    def domain(self) -> str:
        return self._read().domain

    @property
    def object_id(self) -> str:
        return self._read().object_id

    @property
    def name(self) -> str:
        return self._read().name

    @property
    def state_with_unit(self) -> str:
        state = self._read()
        unit = state.attributes.get("unit_of_measurement")
        return f"{state.state} {unit}" if unit else state.state

    def as_dict(self) -> dict[str, Any]:
        return self._read().as_dict()

    def __getitem__(self, key: str) -> Any:
        if key in _STATE_FIELDS or key in ("entity_id", "state_with_unit"):
            return getattr(self, key)
        raise KeyError(key)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TemplateState):
            other = other._state
        return self._read() == other

    def __hash__(self) -> int:
        return hash((self._state.entity_id, self._state.last_updated_timestamp))

    def __repr__(self) -> str:
        state = self._state
        return f"<template TemplateState({state.entity_id}={state.state})>"


class DomainStates:
    """``states.lock``: one domain's states by attribute, iterable in entity id order."""

    __slots__ = ("_domain", "_hub")

    def __init__(self, hub: Hub, domain: str) -> None:
        self._hub = hub
        self._domain = domain

    def __getattr__(self, name: str) -> TemplateState | None:
        if name[:1] == "_" or name in _RESERVED_NAMES:
            raise AttributeError(name)
        return _state_by_id(self._hub, f"{self._domain}.{name}")

    def __getitem__(self, name: str) -> TemplateState | None:
        return _state_by_id(self._hub, f"{self._domain}.{name}")

    def _mark(self) -> None:
        info = _info()
        if info is not None:
            info.domains.add(self._domain)

    def __iter__(self) -> Iterator[TemplateState]:
        self._mark()
        states = sorted(self._hub.states.all(self._domain), key=_entity_id_key)
        return (TemplateState(state, collect=False) for state in states)

    def __len__(self) -> int:
        self._mark()
        return len(self._hub.states.entity_ids(self._domain))

    def __repr__(self) -> str:
        return f"<template DomainStates({self._domain!r})>"


class AllStates:
    """``states``: call it (``states('lock.x')``), take a domain (``states.lock``) or an entity
    (``states.lock.x``, ``states['lock.x']``), or iterate every state in entity id order."""

    __slots__ = ("_hub",)

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def __getattr__(self, name: str) -> DomainStates | TemplateState | None:
        if name[:1] == "_" or name in _RESERVED_NAMES:
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> DomainStates | TemplateState | None:
        if "." in name:
            return _state_by_id(self._hub, name)
        if not _DOMAIN_RE.match(name):
            raise TemplateError(f"Invalid domain name {name!r}")
        return DomainStates(self._hub, name)

    def _mark(self) -> None:
        info = _info()
        if info is not None:
            info.all_states = True

    def __iter__(self) -> Iterator[TemplateState]:
        self._mark()
        states = sorted(self._hub.states.all(), key=_entity_id_key)
        return (TemplateState(state, collect=False) for state in states)

    def __len__(self) -> int:
        self._mark()
        return len(self._hub.states)

    def __call__(self, entity_id: Any, rounded: bool = False, with_unit: bool = False) -> str:
        state = _lookup(self._hub, entity_id)
        if state is None:
            return "unknown"
        value = state.state
        if rounded:
            precision = state.attributes.get("display_precision")
            if isinstance(precision, int) and not isinstance(precision, bool):
                with contextlib.suppress(ValueError):
                    value = f"{float(value):.{max(0, min(precision, 20))}f}"
        if with_unit and (unit := state.attributes.get("unit_of_measurement")):
            return f"{value} {unit}"
        return value

    def __repr__(self) -> str:
        return "<template AllStates>"


_STATE_CLASSES: Final = frozenset({TemplateState, DomainStates, AllStates, State, EventContext})
_DICT_CLASSES: Final[tuple[type, ...]] = (dict, ReadOnlyDict)
_DICT_ATTRIBUTES: Final = frozenset(dir(dict))


def _entity_id_key(state: State) -> str:
    return state.entity_id


def _state_by_id(hub: Hub, entity_id: str) -> TemplateState | None:
    state = hub.states.get(entity_id)
    if state is None:
        canonical = _canonical(entity_id)
        if canonical is None:
            raise TemplateError(f"Invalid entity ID {entity_id!r}")
        _collect(canonical)
        return None
    return TemplateState(state)


def _lookup(hub: Hub, entity_id: Any) -> State | None:
    """The state of ``entity_id`` (a string, any case), recorded as read; None if none."""
    if entity_id.__class__ is not str:
        if isinstance(entity_id, TemplateState | State):
            entity_id = entity_id.entity_id
        elif not isinstance(entity_id, str):
            return None
    state = hub.states.get(entity_id)
    render = _RENDER.get()
    if render is not None and render.info is not None:
        canonical = state.entity_id if state is not None else _canonical(entity_id)
        if canonical is not None:
            render.info.entities.add(canonical)
    return state


# -- result parsing ---------------------------------------------------------------------------
# "Simple" ints and floats: -1.0, 1, +5, 5. - but not 0123 (a code, not a number) or 1e5
_IS_NUMERIC: Final = re.compile(r"^[+-]?(?!0\d)\d*(?:\.\d*)?$")


def _literal(text: str) -> Any:
    """Home Assistant's parse of a rendered string (``ast.literal_eval`` with its guards)."""
    try:
        result = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text
    if result is None or isinstance(result, bool):
        return result
    if isinstance(result, int | float):
        if _IS_NUMERIC.match(text) is None:  # 1e5, 0x10, 1_000, 0123 keep their spelling
            return text
        if isinstance(result, int) and abs(result) > _JS_SAFE_INT:
            # Beyond 2**53 a JSON/JavaScript reader (frontend, MQTT) cannot hold the number
            # exactly; such long digit strings are identifiers (resident IDs, card numbers).
            return text
        return result
    if isinstance(result, list | dict | tuple | set):
        return result
    return text  # strings (quotes would be lost), complex, bytes, Ellipsis


_literal_cached: Callable[[str], Any] = lru_cache(maxsize=PARSE_CACHE_SIZE)(_literal)
_CACHED_TEXT_LENGTH: Final = 64  # numbers, booleans, short states; long texts are not kept


def parse_result(text: str) -> Any:
    """Turn a rendered (stripped) string into int/float/bool/None/list/dict/tuple when it is
    such a Python literal, as Home Assistant does; otherwise return the string."""
    if not text:
        return text
    first = text[0]
    if first.isalpha() and not text.startswith(("True", "False", "None")):
        return text  # "unlocked", "North gate": no literal starts with a letter
    if first in "[{(" or "," in text:
        return _literal(text)  # containers are mutable: parse afresh, never share
    if len(text) > _CACHED_TEXT_LENGTH:
        return _literal(text)
    return _literal_cached(text)


_parse_text: Final = parse_result  # for Template.render, whose flag has the same name


def is_template_string(value: str) -> bool:
    """True if ``value`` contains Jinja syntax (``{{``, ``{%`` or ``{#``)."""
    return "{" in value and ("{{" in value or "{%" in value or "{#" in value)


def result_as_boolean(value: Any) -> bool:
    """Home Assistant's truth of a template result: True/'true'/'yes'/'on'/'enable'/'1'/a
    non-zero number are true; everything else (None, 'off', 'no', lists …) is false."""
    if value is None:
        return False
    result = _boolean(value)
    return False if result is None else result


# -- the template -----------------------------------------------------------------------------
class Template:
    """One template source. Compiled on first render; renders on the hub's event loop."""

    __slots__ = ("_compiled", "_env", "is_static", "source")

    def __init__(self, source: str, env: TemplateEnvironment) -> None:
        if not isinstance(source, str):
            raise TypeError(f"a template must be a string, got {type(source).__name__}")
        self.source = source
        self.is_static = not is_template_string(source)
        self._env = env
        self._compiled: jinja2.Template | None = None

    def ensure_valid(self) -> None:
        """Compile now (``check-config``, the automation editor): raises :class:`TemplateError`
        on a syntax error. Rendering does this by itself when needed."""
        if not self.is_static and self._compiled is None:
            self._compile()

    def render(
        self, variables: Mapping[str, Any] | None = None, *, parse_result: bool = True
    ) -> Any:
        """Render with ``variables`` (``this``, ``trigger`` …). With ``parse_result`` the text
        becomes a number, bool, None, list or dict when it spells one (Home Assistant's rules)."""
        text = self.source.strip() if self.is_static else self._render(variables, None)
        return _parse_text(text) if parse_result else text

    def render_with_info(
        self, variables: Mapping[str, Any] | None = None, *, parse_result: bool = True
    ) -> tuple[Any, RenderInfo]:
        """Render and report what was read (see :class:`RenderInfo`). On failure the
        :class:`TemplateError` carries the partial info as ``render_info``."""
        info = RenderInfo()
        if self.is_static:
            text = self.source.strip()
        else:
            try:
                text = self._render(variables, info)
            except TemplateError as err:
                err.render_info = info
                raise
        return (_parse_text(text) if parse_result else text), info

    def _compile(self) -> jinja2.Template:
        sandbox = self._env.sandbox
        try:
            code = sandbox.compile(self.source)
        except jinja2.TemplateSyntaxError as err:
            raise TemplateError(
                f"syntax error: {err.message} (line {err.lineno})", self.source
            ) from None
        except TemplateError as err:  # pragma: no cover - the hardening pass raises none
            err.source = self.source
            raise
        compiled = jinja2.Template.from_code(sandbox, code, sandbox.globals, None)
        self._compiled = compiled
        return compiled

    def _render(self, variables: Mapping[str, Any] | None, info: RenderInfo | None) -> str:
        compiled = self._compiled or self._compile()
        sandbox = self._env.sandbox
        token = _RENDER.set(_RenderState(self.source, info))
        try:
            context = _RenderContext(sandbox, variables, compiled.blocks)
            pieces: list[str] = []
            size = 0
            for piece in compiled.root_render_func(context):
                size += len(piece)
                if size > MAX_OUTPUT:
                    raise TemplateError(
                        f"template output exceeded the maximum size of {MAX_OUTPUT} characters"
                    )
                pieces.append(piece)
        except TemplateError as err:
            if err.source is None:
                err.source = self.source
            raise
        except Exception as err:
            raise TemplateError(f"{type(err).__name__}: {err}", self.source) from err
        finally:
            _RENDER.reset(token)
        text = pieces[0] if len(pieces) == 1 else "".join(pieces)
        return text.strip()

    def __repr__(self) -> str:
        return f"Template({_shorten(self.source, 80)!r})"


_parser: Any = None


def syntax_error(source: str) -> str | None:
    """What is wrong with the syntax of ``source`` (with its line in the template), or None.
    Needs no hub: ``check-config`` and the editor use it; unknown functions and filters are
    found only when a template renders."""
    global _parser  # noqa: PLW0603 - one parsing environment, built on first use
    if _parser is None:
        from jinja2 import Environment

        _parser = Environment(extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do"])
    from jinja2 import TemplateSyntaxError

    try:
        _parser.parse(source)
    except TemplateSyntaxError as err:
        return f"{err.message} (template line {err.lineno})"
    return None


class TemplateEnvironment:
    """The hub's templates: one per hub (``hub.templates``), holding the sandbox with the
    hub-bound functions and a bounded cache of :class:`Template` objects by source."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._templates: OrderedDict[str, Template] = OrderedDict()
        self._sandbox: _Sandbox | None = None

    @property
    def sandbox(self) -> _Sandbox:
        """The Jinja environment, built on first compile."""
        if self._sandbox is None:
            self._sandbox = _build_sandbox(self._hub)
        return self._sandbox

    def template(self, source: str) -> Template:
        """The :class:`Template` for ``source`` (shared while it stays in the cache)."""
        templates = self._templates
        found = templates.get(source)
        if found is not None:
            templates.move_to_end(source)
            return found
        created = Template(source, self)
        templates[source] = created
        if len(templates) > MAX_CACHED_TEMPLATES:
            templates.popitem(last=False)
        return created

    def render_complex(self, value: Any, variables: Mapping[str, Any] | None = None) -> Any:
        """Render every template string (and :class:`Template`) nested in dicts and lists, as
        in service ``data:``; keys are rendered as text. Static strings and other values are
        returned unchanged; containers are copied, never changed in place."""
        if isinstance(value, str):
            if "{" in value and is_template_string(value):
                return self.template(value).render(variables)
            return value
        if isinstance(value, Mapping):
            return {
                (
                    self.template(key).render(variables, parse_result=False)
                    if isinstance(key, str) and "{" in key and is_template_string(key)
                    else key
                ): self.render_complex(item, variables)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.render_complex(item, variables) for item in value]
        if isinstance(value, Template):
            return value.render(variables)
        return value

    def state_object(self, state: State) -> TemplateState:
        """``state`` as templates see it (for a ``state`` variable, as numeric_state does)."""
        return TemplateState(state)


# -- functions, filters and tests -------------------------------------------------------------
def _raise_no_default(function: str, value: Any) -> NoReturn:
    raise ValueError(f"{function} got invalid input {value!r} and no default was given")


def _boolean(value: Any) -> bool | None:
    """Home Assistant's ``cv.boolean``; None when ``value`` is not a boolean spelling."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.lower().strip()
        if text in ("1", "true", "yes", "on", "enable"):
            return True
        if text in ("0", "false", "no", "off", "disable"):
            return False
        return None
    if isinstance(value, int | float):
        return value != 0
    return None


def forgiving_boolean(value: Any, default: Any = _SENTINEL) -> Any:
    result = _boolean(value)
    if result is None:
        if default is _SENTINEL:
            _raise_no_default("bool", value)
        return default
    return result


def forgiving_float(value: Any, default: Any = _SENTINEL) -> Any:
    try:
        return float(value)
    except (ValueError, TypeError):
        if default is _SENTINEL:
            _raise_no_default("float", value)
        return default


def forgiving_int(value: Any, default: Any = _SENTINEL, base: int = 10) -> Any:
    result = jinja_filters.do_int(value, default=default, base=base)
    if result is _SENTINEL:
        _raise_no_default("int", value)
    return result


def is_number(value: Any) -> bool:
    try:
        number = float(value)
    except (ValueError, TypeError):
        return False
    return math.isfinite(number)


def forgiving_round(
    value: Any, precision: int = 0, method: str = "common", default: Any = _SENTINEL
) -> Any:
    try:
        multiplier = float(10**precision)
        number = float(value)
        if method == "ceil":
            number = math.ceil(number * multiplier) / multiplier
        elif method == "floor":
            number = math.floor(number * multiplier) / multiplier
        elif method == "half":
            number = round(number * 2) / 2
        else:
            number = round(number, precision)
        return int(number) if precision == 0 else number
    except (ValueError, TypeError, OverflowError):
        if default is _SENTINEL:
            _raise_no_default("round", value)
        return default


def multiply(value: Any, amount: Any, default: Any = _SENTINEL) -> Any:
    try:
        return float(value) * amount
    except (ValueError, TypeError):
        if default is _SENTINEL:
            _raise_no_default("multiply", value)
        return default


def iif(value: Any, if_true: Any = True, if_false: Any = False, if_none: Any = _SENTINEL) -> Any:
    """Immediate if: ``iif(cond, a, b)`` / ``cond | iif(a, b)``; ``if_none`` when value is None."""
    if value is None and if_none is not _SENTINEL:
        return if_none
    return if_true if value else if_false


@lru_cache(maxsize=256)
def _regex(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def regex_match(value: Any, find: str = "", ignorecase: bool = False) -> bool:
    text = value if isinstance(value, str) else _to_text(value)
    return bool(_regex(find, re.IGNORECASE if ignorecase else 0).match(text))


def regex_search(value: Any, find: str = "", ignorecase: bool = False) -> bool:
    text = value if isinstance(value, str) else _to_text(value)
    return bool(_regex(find, re.IGNORECASE if ignorecase else 0).search(text))


def regex_replace(
    value: Any = "", find: str = "", replace: str = "", ignorecase: bool = False
) -> str:
    text = value if isinstance(value, str) else _to_text(value)
    pattern = _regex(find, re.IGNORECASE if ignorecase else 0)
    if "\\" not in replace:  # a literal replacement: the result's length is known beforehand
        if len(text) + (len(text) + 1) * len(replace) > MAX_STRING:
            count = matched = 0
            for match in pattern.finditer(text):
                count += 1
                matched += match.end() - match.start()
            _check_length(len(text) - matched + count * len(replace), "the replaced string")
        return _checked_str(pattern.sub(replace, text), "the replaced string")
    budget = [MAX_STRING - len(text)]

    def substitute(match: re.Match[str]) -> str:
        _charge(CALL_COST)  # a Python call per match, with group expansion
        piece = match.expand(replace)
        budget[0] -= len(piece) - (match.end() - match.start())
        if budget[0] < 0:
            _check_length(MAX_STRING + 1, "the replaced string")
        return piece

    return _checked_str(pattern.sub(substitute, text), "the replaced string")


def regex_findall(value: Any, find: str = "", ignorecase: bool = False) -> list[Any]:
    text = value if isinstance(value, str) else _to_text(value)
    return _regex(find, re.IGNORECASE if ignorecase else 0).findall(text)


def regex_findall_index(
    value: Any, find: str = "", index: int = 0, ignorecase: bool = False
) -> Any:
    return regex_findall(value, find, ignorecase)[index]


def _json_default(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, TemplateState | State):
        return value.as_dict()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(
    value: Any, ensure_ascii: bool = False, pretty_print: bool = False, sort_keys: bool = False
) -> str:
    if isinstance(value, _CONTAINER_TYPES):
        _check_container(value)
    if ensure_ascii:
        text = json.dumps(
            value,
            ensure_ascii=True,
            indent=2 if pretty_print else None,
            sort_keys=sort_keys,
            default=_json_default,
        )
    else:
        option = orjson.OPT_NON_STR_KEYS
        if pretty_print:
            option |= orjson.OPT_INDENT_2
        if sort_keys:
            option |= orjson.OPT_SORT_KEYS
        text = orjson.dumps(value, option=option, default=_json_default).decode()
    return _checked_str(text, "the JSON text")


def from_json(value: Any, default: Any = _SENTINEL) -> Any:
    try:
        return orjson.loads(value)
    except (orjson.JSONDecodeError, TypeError):
        if default is _SENTINEL:
            _raise_no_default("from_json", value)
        return default


def slugify(value: Any, separator: str = "_") -> str:
    """``"North Gate #2"`` -> ``"north_gate_2"`` (ASCII letters and digits only)."""
    if value is None or value == "":
        return ""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", separator, text.lower()).strip(separator)
    return slug or "unknown"


def _format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    if args and kwargs:
        raise jinja2.exceptions.FilterArgumentError(
            "can't handle positional and keyword arguments at once"
        )
    return _percent_format(str(value), kwargs or args)


def _center_filter(value: Any, width: int = 80) -> str:
    _check_length(width if isinstance(width, int) else 0, "center()")
    return _checked_str(jinja_filters.do_center(value, width), "center()")


def _indent_filter(s: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    pad = len(width) if isinstance(width, str) else width
    _check_length(len(str(s)) + (str(s).count("\n") + 1) * max(pad, 0), "indent()")
    return _checked_str(jinja_filters.do_indent(s, width, first, blank), "indent()")


@jinja2.pass_eval_context
def _replace_filter(
    eval_ctx: jinja2.nodes.EvalContext, s: str, old: str, new: str, count: int | None = None
) -> str:
    _check_replace(str(s), str(old), str(new), -1 if count is None else count)
    return _checked_str(jinja_filters.do_replace(eval_ctx, s, old, new, count), "replace()")


@jinja2.pass_eval_context
def _join_filter(
    eval_ctx: jinja2.nodes.EvalContext, value: Any, d: str = "", attribute: Any = None
) -> str:
    if attribute is not None:
        getter = jinja_filters.make_attrgetter(eval_ctx.environment, attribute)
        value = map(getter, value)
    return _bounded_join(str(d), value)


@jinja2.pass_environment
def _sum_filter(
    environment: jinja2.Environment, iterable: Any, attribute: Any = None, start: Any = 0
) -> Any:
    _charge_sized(iterable)
    if attribute is not None:
        iterable = map(jinja_filters.make_attrgetter(environment, attribute), iterable)
    total = start
    for item in iterable:
        total = _binop("+", total, item)
    return total


def _batch_filter(value: Any, linecount: int, fill_with: Any = None) -> Any:
    if isinstance(linecount, int) and linecount > MAX_LOOP_ITEMS:
        raise TemplateError(f"batch size {linecount} is too large (limit {MAX_LOOP_ITEMS})")
    _charge_sized(value)
    return jinja_filters.do_batch(value, linecount, fill_with)


def _slice_filter(value: Any, slices: int, fill_with: Any = None) -> Any:
    if isinstance(slices, int) and slices > MAX_LOOP_ITEMS:
        raise TemplateError(f"slice count {slices} is too large (limit {MAX_LOOP_ITEMS})")
    _charge_sized(value)
    return jinja_filters.do_slice(value, slices, fill_with)


def _string_filter(value: Any) -> str:
    return _to_text(value)


def _pprint_filter(value: Any) -> str:
    if isinstance(value, _CONTAINER_TYPES):
        _check_container(value)
    return _checked_str(jinja_filters.do_pprint(value), "pprint")


def _bounded_range(*args: int) -> range:
    # At most MAX_LOOP_ITEMS items (Jinja's MAX_RANGE); whatever walks it is charged.
    return safe_range(*args)


def _bounded_dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    result = dict(*args, **kwargs)
    _check_container(result)
    return result


def _charged(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a Jinja filter that walks its input so the walk is charged to the work budget."""
    index = 0 if getattr(function, "jinja_pass_arg", None) is None else 1

    @wraps(function)  # copies jinja_pass_arg too
    def charged(*args: Any, **kwargs: Any) -> Any:
        if len(args) > index:
            _charge_sized(args[index])
        return function(*args, **kwargs)

    return charged


_WALKING_FILTERS: Final = (
    "dictsort",
    "groupby",
    "list",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "reverse",
    "select",
    "selectattr",
    "sort",
    "unique",
)


def _contextual(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter/test reading hub state or time: ``pass_context`` stops Jinja from computing it
    once at compile time (constant folding) when its arguments are literals."""

    @pass_context
    @wraps(function)
    def contextual(_context: Context, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return contextual


class _Functions:
    """The hub-bound template functions (one instance per hub)."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    # -- states
    def is_state(self, entity_id: Any, value: Any) -> bool:
        state = _lookup(self._hub, entity_id)
        if state is None:
            return False
        return state.state == value or (isinstance(value, list) and state.state in value)

    def state_attr(self, entity_id: Any, name: str) -> Any:
        state = _lookup(self._hub, entity_id)
        return None if state is None else state.attributes.get(name)

    def is_state_attr(self, entity_id: Any, name: str, value: Any) -> bool:
        state = _lookup(self._hub, entity_id)
        if state is None or name not in state.attributes:
            return False
        return bool(state.attributes[name] == value)

    def has_value(self, entity_id: Any) -> bool:
        state = _lookup(self._hub, entity_id)
        return state is not None and state.state not in _UNAVAILABLE

    def expand(self, *args: Any) -> list[TemplateState]:
        search: list[Any] = list(args)
        found: dict[str, State] = {}
        seen: set[str] = set()
        while search:
            _charge(1)
            item = search.pop()
            if isinstance(item, str):
                state = _lookup(self._hub, item)
                if state is None:
                    continue
            elif isinstance(item, TemplateState):
                state = item._read()
            elif isinstance(item, State):
                state = item
                _collect(state.entity_id)
            elif isinstance(item, Iterable):
                search.extend(item)
                continue
            else:
                continue
            if state.entity_id in seen:
                continue
            seen.add(state.entity_id)
            members = state.attributes.get("entity_id") if state.domain == "group" else None
            if isinstance(members, list | tuple):
                search.extend(members)
            elif isinstance(members, str):
                search.append(members)
            else:
                found[state.entity_id] = state
        return [TemplateState(found[key]) for key in sorted(found)]

    # -- places
    def place_name(self, place_id: Any) -> str | None:
        place = self._hub.places.get(str(place_id))
        return None if place is None else place.name

    def place_id(self, entity_id: Any) -> str | None:
        if isinstance(entity_id, TemplateState):
            entity_id = entity_id.entity_id
        if not isinstance(entity_id, str):
            return None
        canonical = _canonical(entity_id)
        return None if canonical is None else self._hub.places.place_of(canonical)

    def place_entities(self, place_id: Any) -> list[str]:
        try:
            return sorted(self._hub.places.entities_in(str(place_id)))
        except KeyError:  # UnknownPlace
            return []

    # -- time
    def _now(self) -> datetime:
        info = _info()
        if info is not None:
            info.has_time = True
        return datetime.fromtimestamp(self._hub.clock.time(), self._hub.config.tzinfo)

    def now(self) -> datetime:
        return self._now()

    def utcnow(self) -> datetime:
        return self._now().astimezone(UTC)

    def today_at(self, value: str = "") -> datetime:
        now = self._now()
        midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
        if not value:
            return midnight
        try:
            at = parse_time_of_day(value)
        except ValueError:
            raise ValueError(
                f"could not convert {type(value).__name__} to datetime: {value!r}"
            ) from None
        return datetime.combine(now.date(), at, tzinfo=now.tzinfo)

    def as_local(self, value: datetime) -> datetime:
        tz = self._hub.config.tzinfo
        if value.tzinfo is None:
            return value.replace(tzinfo=tz)
        return value.astimezone(tz)

    def as_timestamp(self, value: Any, default: Any = _SENTINEL) -> Any:
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self._hub.config.tzinfo)
            return moment.timestamp()
        except (ValueError, TypeError, OverflowError):
            if default is _SENTINEL:
                _raise_no_default("as_timestamp", value)
            return default

    def as_datetime(self, value: Any, default: Any = _SENTINEL) -> Any:
        if type(value) is datetime:
            return value
        if type(value) is date:
            return datetime.combine(value, time())
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (ValueError, TypeError, OverflowError, OSError):
            pass
        try:
            return datetime.fromisoformat(value)
        except (ValueError, TypeError):
            if default is _SENTINEL:
                if isinstance(value, str):
                    return None  # Home Assistant's behaviour for unparsable strings
                _raise_no_default("as_datetime", value)
            return default

    def relative_time(self, value: Any) -> Any:
        """How long ago ``value`` was, in its largest unit ("2 hours"); other values as given."""
        if not isinstance(value, datetime):
            return value
        now = self._now()
        if value.tzinfo is None:
            value = value.replace(tzinfo=now.tzinfo)
        if value > now:
            return value
        seconds = round((now - value).total_seconds())
        for unit, size in (
            ("year", 365 * 86400),
            ("month", 30 * 86400),
            ("day", 86400),
            ("hour", 3600),
            ("minute", 60),
        ):
            if seconds >= size:
                count = round(seconds / size)
                return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
        return f"{seconds} second" if seconds == 1 else f"{seconds} seconds"

    def timestamp_custom(
        self,
        value: Any,
        date_format: str = "%Y-%m-%d %H:%M:%S",
        local: bool = True,
        default: Any = _SENTINEL,
    ) -> Any:
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
            if local:
                moment = moment.astimezone(self._hub.config.tzinfo)
            return _checked_str(moment.strftime(date_format), "the formatted date")
        except (ValueError, TypeError, OverflowError, OSError):
            if default is _SENTINEL:
                _raise_no_default("timestamp_custom", value)
            return default

    def timestamp_local(self, value: Any, default: Any = _SENTINEL) -> Any:
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
            return moment.astimezone(self._hub.config.tzinfo).isoformat()
        except (ValueError, TypeError, OverflowError, OSError):
            if default is _SENTINEL:
                _raise_no_default("timestamp_local", value)
            return default

    def timestamp_utc(self, value: Any, default: Any = _SENTINEL) -> Any:
        try:
            return datetime.fromtimestamp(float(value), UTC).isoformat()
        except (ValueError, TypeError, OverflowError, OSError):
            if default is _SENTINEL:
                _raise_no_default("timestamp_utc", value)
            return default


def strptime(value: str, fmt: str, default: Any = _SENTINEL) -> Any:
    try:
        return datetime.strptime(value, fmt)
    except (ValueError, TypeError, AttributeError):
        if default is _SENTINEL:
            _raise_no_default("strptime", value)
        return default


def _min_max(builtin: Callable[..., Any], name: str) -> Callable[..., Any]:
    @jinja2.pass_environment
    def min_max(environment: jinja2.Environment, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{name} expected at least 1 argument, got 0")
        if len(args) == 1:
            if isinstance(args[0], Iterable):
                _charge_sized(args[0])
                return builtin(environment, args[0], **kwargs)
            raise TypeError(f"{type(args[0]).__name__!r} object is not iterable")
        return builtin(environment, args, **kwargs)

    return min_max


def _contains(value: Any, item: Any) -> bool:
    return item in value


def _is_defined(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return value


def _build_sandbox(hub: Hub) -> _Sandbox:
    sandbox = _Sandbox()
    functions = _Functions(hub)
    states = AllStates(hub)
    globals_: dict[str, Any] = sandbox.globals
    filters = sandbox.filters
    tests = sandbox.tests

    # bounded replacements for Jinja's own globals and filters
    globals_["range"] = _bounded_range
    globals_["dict"] = _bounded_dict
    globals_.pop("lipsum", None)  # lipsum(10**7) would build a huge text
    for name in _WALKING_FILTERS:
        filters[name] = _charged(filters[name])
    filters["format"] = _format_filter
    filters["center"] = _center_filter
    filters["indent"] = _indent_filter
    filters["replace"] = _replace_filter
    filters["join"] = _join_filter
    filters["sum"] = _sum_filter
    filters["batch"] = _batch_filter
    filters["slice"] = _slice_filter
    filters["string"] = _string_filter
    filters["pprint"] = _pprint_filter
    filters["tojson"] = to_json
    filters[_LOOP_FILTER] = _loop_guard
    filters[_TICK_FILTER] = _tick
    filters[_CONCAT_FILTER] = _concat
    filters[_CONTAINER_FILTER] = _container

    # pure helpers: the same as function (global) and filter
    for name, function in (
        ("float", forgiving_float),
        ("int", forgiving_int),
        ("bool", forgiving_boolean),
        ("iif", iif),
        ("is_number", is_number),
        ("regex_match", regex_match),
        ("regex_search", regex_search),
        ("regex_replace", regex_replace),
        ("regex_findall", regex_findall),
        ("regex_findall_index", regex_findall_index),
        ("slugify", slugify),
        ("to_json", to_json),
        ("from_json", from_json),
        ("multiply", multiply),
        ("strptime", strptime),
    ):
        globals_[name] = function
        filters[name] = function
    filters["round"] = forgiving_round
    filters["contains"] = _contains
    filters["is_defined"] = _is_defined
    globals_["timedelta"] = timedelta
    globals_["zip"] = zip
    globals_["min"] = _min_max(jinja_filters.do_min, "min")
    globals_["max"] = _min_max(jinja_filters.do_max, "max")
    tests["is_number"] = is_number
    tests["match"] = regex_match
    tests["search"] = regex_search
    tests["contains"] = _contains

    # hub-bound: functions, and filters/tests marked contextual (never constant-folded)
    globals_["states"] = states
    filters["states"] = _contextual(states)
    for name in (
        "is_state",
        "state_attr",
        "is_state_attr",
        "has_value",
        "expand",
        "place_name",
        "place_id",
        "place_entities",
        "now",
        "utcnow",
        "today_at",
        "as_local",
        "as_timestamp",
        "as_datetime",
        "relative_time",
    ):
        globals_[name] = getattr(functions, name)
    for name in (
        "state_attr",
        "has_value",
        "expand",
        "place_name",
        "place_id",
        "place_entities",
        "today_at",
        "as_local",
        "as_timestamp",
        "as_datetime",
        "relative_time",
        "timestamp_custom",
        "timestamp_local",
        "timestamp_utc",
    ):
        filters[name] = _contextual(getattr(functions, name))
    for name in ("is_state", "is_state_attr", "has_value"):
        tests[name] = _contextual(getattr(functions, name))

    # our own functions skip the generic sandbox call checks (they are safe by construction)
    sandbox.trusted.update(
        id(value)
        for value in globals_.values()
        if not isinstance(value, type) and getattr(value, "jinja_pass_arg", None) is None
    )
    return sandbox
