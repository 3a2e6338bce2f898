"""The lab's subset of the ECS cluster query language (lab.aws.ecs_query), evaluated on plain facts."""
import datetime

import pytest

from lab.aws.ecs_query import MISSING, QuerySyntaxError, compile_expression

FACTS = {
    "attribute:ecs.os-type": "linux",
    "attribute:role": "web",
    "attribute:flag": None,
    "attribute:slots": "8",
    "ec2InstanceId": "mi-0123456789abcdef0",
    "agentConnected": "true",
    "registeredAt": datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.timezone.utc),
}


def holds(expression):
    return compile_expression(expression)(lambda subject: FACTS.get(subject, MISSING))


@pytest.mark.parametrize("expression, expected", [
    ("attribute:ecs.os-type == linux", True),
    ("attribute:ecs.os-type equals 'linux'", True),
    ("attribute:role != web", False),
    ("attribute:role not_equals db", True),
    ("attribute:missing != web", True),
    ("attribute:missing == web", False),
    ("attribute:flag exists", True),
    ("attribute:flag == ''", False),
    ("attribute:missing exists", False),
    ("attribute:missing !exists", True),
    ("attribute:role not_exists", False),
    ("ec2InstanceId in [mi-0123456789abcdef0, mi-1]", True),
    ("ec2InstanceId in (mi-1, mi-2)", False),
    ("ec2InstanceId !in [mi-1]", True),
    ("ec2InstanceId not_in [mi-0123456789abcdef0]", False),
    ("attribute:role =~ w*", True),
    ("attribute:role matches *b", True),
    ("attribute:role =~ d*", False),
    ("attribute:role !~ d*", True),
    ("attribute:slots >= 8", True),
    ("attribute:slots > 10", False),
    ("agentConnected == true", True),
    ("agentConnected == false", False),
    ("registeredAt < 2026-06-01", True),
    ("registeredAt >= 2026-05-01T12:00:00Z", True),
    ("registeredAt > 2026-05-01T13:00:00+00:00", False),
    ("registeredAt == 2026-05-01T12:00:00", True),
    ("attribute:role == web and agentConnected == true", True),
    ("attribute:role == db && agentConnected == true", False),
    ("attribute:role == db or attribute:ecs.os-type == linux", True),
    ("attribute:role == db || attribute:role == cache", False),
    ("not attribute:role == db", True),
    ("!(attribute:role == web)", False),
    ("attribute:role == db and agentConnected == true or attribute:flag exists", True),
    ("attribute:role == db and (agentConnected == true or attribute:flag exists)", False),
    ("not attribute:role == web or attribute:role == web", True),
])
def test_expressions(expression, expected):
    assert holds(expression) is expected


@pytest.mark.parametrize("expression", [
    "", "   ", "attribute: == x", "task:group == web", "ec2InstanceType == t3.micro", "attribute:role ==",
    "attribute:role == web and", "(attribute:role == web", "attribute:role == web)", "attribute:role ~ web",
    "attribute:role in web", "attribute:role in [web", "registeredAt < yesterday", "registeredAt =~ 2026*",
    "attribute:role == web attribute:role == db", "'attribute:role' == web",
])
def test_unsupported_or_malformed(expression):
    with pytest.raises(QuerySyntaxError):
        compile_expression(expression)
