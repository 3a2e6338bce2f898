"""The subset of ECS's cluster query language the lab understands.

Used by ``ListContainerInstances(filter=...)`` and by ``memberOf`` placement constraints (RunTask and
task definitions). An expression is ``subject operator [argument]``; expressions join with
``and``/``&&``, ``or``/``||``, negate with ``not``/``!`` and group with parentheses. ``not`` binds
tighter than ``and``, which binds tighter than ``or``.

Subjects:

- ``attribute:NAME``: the container instance attribute NAME (``attribute:ecs.os-type``). An attribute
  set without a value exists but equals nothing.
- ``ec2InstanceId``: the instance id (``mi-...`` for external instances).
- ``agentConnected``: ``true`` or ``false``.
- ``registeredAt``: the registration time, compared with an ISO 8601 date or date-time
  (``2026-01-01`` or ``2026-01-01T10:00:00Z``; no zone means UTC).

Operators:

- ``==``/``equals``, ``!=``/``not_equals``: string equality (case-sensitive, as AWS), or time
  equality for ``registeredAt``. A missing attribute is not equal to anything, so ``!=`` holds for it.
- ``exists``, ``!exists``/``not_exists``: whether the subject has a value (no argument).
- ``in``, ``!in``/``not_in``: membership in a list ``[a, b]`` or ``(a, b)``.
- ``=~``/``matches``, ``!~``/``not_matches``: a wildcard pattern where ``*`` is any run of characters.
- ``<``, ``<=``, ``>``, ``>=``: ``registeredAt`` against a time; other subjects compare as numbers
  when both sides are numbers, else as strings.

Arguments are bare words (anything but blanks, brackets, parentheses and commas) or quoted with
``'`` or ``"``. Anything else, including AWS's ``task:group`` and ``ec2InstanceType`` subjects, is a
syntax error, so a caller learns the lab does not support it instead of getting a silent mismatch.
"""
import datetime
import functools
import re

SUBJECTS = ("ec2InstanceId", "agentConnected", "registeredAt")
MISSING = object()

_OPERATORS = {
    "==": "eq", "equals": "eq",
    "!=": "ne", "not_equals": "ne",
    "exists": "exists",
    "!exists": "not_exists", "not_exists": "not_exists",
    "in": "in",
    "!in": "not_in", "not_in": "not_in",
    "=~": "matches", "matches": "matches",
    "!~": "not_matches", "not_matches": "not_matches",
    "<": "lt", "<=": "le", ">": "gt", ">=": "ge",
}
_TOKEN = re.compile(r"""\s*(?:(?P<quoted>'[^']*'|"[^"]*")|(?P<punct>\(|\)|\[|\]|,|&&|\|\||==|!=|=~|!~|<=|>=|<|>)"""
                    r"""|(?P<word>[^\s()\[\],<>=!&|~'"][^\s()\[\],<>=&|~'"]*|![^\s()\[\],<>=&|~'"]+|!))""")


class QuerySyntaxError(ValueError):
    """The expression is not in the supported subset; the message says where."""


class _Token:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind, text, pos):
        self.kind, self.text, self.pos = kind, text, pos


def _tokenize(text):
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QuerySyntaxError(f"unexpected character {text[pos:].strip()[:1]!r} at position {pos}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "quoted":
            value = value[1:-1]
        tokens.append(_Token(kind, value, match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self):
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("expression ends too early")
        self.index += 1
        return token

    def expect(self, text):
        token = self.take()
        if token.text != text or token.kind == "quoted":
            raise QuerySyntaxError(f"expected {text!r} at position {token.pos}, found {token.text!r}")

    def parse(self):
        if not self.tokens:
            raise QuerySyntaxError("empty expression")
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            raise QuerySyntaxError(f"unexpected {token.text!r} at position {token.pos}")
        return node

    def _is_keyword(self, *words):
        token = self.peek()
        return token is not None and token.kind != "quoted" and token.text.lower() in words

    def parse_or(self):
        node = self.parse_and()
        while self._is_keyword("or", "||"):
            self.take()
            left, right = node, self.parse_and()
            node = functools.partial(_either, left, right)
        return node

    def parse_and(self):
        node = self.parse_not()
        while self._is_keyword("and", "&&"):
            self.take()
            left, right = node, self.parse_not()
            node = functools.partial(_both, left, right)
        return node

    def parse_not(self):
        if self._is_keyword("not", "!"):
            self.take()
            inner = self.parse_not()
            return functools.partial(_negate, inner)
        if self._is_keyword("("):
            self.take()
            node = self.parse_or()
            self.expect(")")
            return node
        return self.parse_comparison()

    def parse_comparison(self):
        token = self.take()
        subject = _subject(token)
        op_token = self.take()
        operator = _OPERATORS.get(op_token.text if op_token.kind == "punct" else op_token.text.lower())
        if op_token.kind == "quoted" or operator is None:
            raise QuerySyntaxError(f"unknown operator {op_token.text!r} at position {op_token.pos}")
        if operator in ("exists", "not_exists"):
            argument = None
        elif operator in ("in", "not_in"):
            argument = self.parse_list()
        else:
            argument = self.parse_value()
        if subject == "registeredAt":
            argument = _time_argument(operator, argument)
        elif operator in ("matches", "not_matches"):
            argument = _wildcard(argument)
        return functools.partial(_compare, subject, operator, argument)

    def parse_value(self):
        token = self.take()
        if token.kind == "punct":
            raise QuerySyntaxError(f"expected a value at position {token.pos}, found {token.text!r}")
        return token.text

    def parse_list(self):
        opener = self.take()
        if opener.text not in ("[", "(") or opener.kind != "punct":
            raise QuerySyntaxError(f"expected '[' or '(' at position {opener.pos}")
        closer = "]" if opener.text == "[" else ")"
        values = [self.parse_value()]
        while self._is_keyword(","):
            self.take()
            values.append(self.parse_value())
        self.expect(closer)
        return frozenset(values)


def _subject(token):
    text = token.text
    if token.kind == "word":
        if text.startswith("attribute:") and len(text) > len("attribute:"):
            return text
        if text in SUBJECTS:
            return text
    raise QuerySyntaxError(f"unsupported subject {text!r} at position {token.pos}; the lab knows attribute:NAME, "
                           + ", ".join(SUBJECTS))


def _time_argument(operator, argument):
    if operator in ("exists", "not_exists"):
        return None
    values = argument if isinstance(argument, frozenset) else [argument]
    times = []
    for value in values:
        try:
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise QuerySyntaxError(f"registeredAt needs an ISO 8601 date or date-time, not {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        times.append(moment)
    if operator in ("matches", "not_matches"):
        raise QuerySyntaxError("registeredAt cannot be matched against a pattern")
    return frozenset(times) if isinstance(argument, frozenset) else times[0]


def _wildcard(pattern):
    return re.compile("".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern)) + r"\Z")


def _either(left, right, value_of):
    return left(value_of) or right(value_of)


def _both(left, right, value_of):
    return left(value_of) and right(value_of)


def _negate(inner, value_of):
    return not inner(value_of)


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _ordered(value, argument, operator):
    if isinstance(value, datetime.datetime):
        left, right = value, argument
    else:
        left, right = _number(value), _number(argument)
        if left is None or right is None:
            left, right = value, argument
    return {"lt": left < right, "le": left <= right, "gt": left > right, "ge": left >= right}[operator]


def _compare(subject, operator, argument, value_of):
    value = value_of(subject)
    present = value is not MISSING and value is not None
    if operator == "exists":
        return value is not MISSING
    if operator == "not_exists":
        return value is MISSING
    if operator in ("ne", "not_in", "not_matches"):
        positive = {"ne": "eq", "not_in": "in", "not_matches": "matches"}[operator]
        return not _compare(subject, positive, argument, value_of)
    if not present:
        return False
    if operator == "eq":
        return value == argument
    if operator == "in":
        return value in argument
    if operator == "matches":
        return bool(argument.match(str(value)))
    return _ordered(value, argument, operator)


@functools.lru_cache(maxsize=256)
def compile_expression(text):
    """A predicate ``fn(value_of) -> bool`` for the expression.

    ``value_of(subject)`` returns the subject's value for one container instance: a string, a
    timezone-aware datetime for ``registeredAt``, None for an attribute set without a value, or
    ``MISSING``. Raises QuerySyntaxError.
    """
    if not isinstance(text, str):
        raise QuerySyntaxError("the expression must be a string")
    return _Parser(text).parse()
