"""Task definition look-ups as AWS answers them: a bare family is its latest ACTIVE revision, and
ListTaskDefinitions filters, sorts and pages (API_DescribeTaskDefinition, API_ListTaskDefinitions)."""
import pytest
from botocore.exceptions import ClientError

from lab.aws._ecs_testing import CLUSTER, document_instance, error_of, external_task_definition


def register(ecs, family, revisions):
    return [external_task_definition(ecs, family=family, cpu=100 + number)["taskDefinitionArn"]
            for number in range(revisions)]


def test_bare_family_is_the_latest_active_revision(ecs):
    arns = register(ecs, "web", 3)
    ecs.deregister_task_definition(taskDefinition=arns[2])

    described = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    assert (described["revision"], described["status"]) == (2, "ACTIVE")
    # A named revision is still described, INACTIVE or not.
    assert ecs.describe_task_definition(taskDefinition="web:3")["taskDefinition"]["status"] == "INACTIVE"
    # And the next registration still numbers after the deregistered one.
    assert external_task_definition(ecs, family="web")["revision"] == 4


def test_run_task_by_family_uses_the_latest_active_revision(ecs):
    document_instance(ecs, CLUSTER)
    arns = register(ecs, "web", 2)
    ecs.deregister_task_definition(taskDefinition=arns[1])
    [task] = ecs.run_task(cluster=CLUSTER, taskDefinition="web", launchType="EXTERNAL")["tasks"]
    assert task["taskDefinitionArn"] == arns[0]


def test_family_without_active_revision_is_a_client_exception(ecs):
    for arn in register(ecs, "web", 2):
        ecs.deregister_task_definition(taskDefinition=arn)
    with pytest.raises(ClientError) as excinfo:
        ecs.describe_task_definition(taskDefinition="web")
    assert error_of(excinfo) == ("ClientException", "Unable to describe task definition.")


def families_and_revisions(arns):
    return [arn.rsplit("/", 1)[-1] for arn in arns]


def test_list_task_definitions_pages_with_max_results(ecs):
    register(ecs, "web", 3)
    register(ecs, "api", 2)
    first = ecs.list_task_definitions(maxResults=2)
    assert families_and_revisions(first["taskDefinitionArns"]) == ["api:1", "api:2"]
    second = ecs.list_task_definitions(maxResults=2, nextToken=first["nextToken"])
    assert families_and_revisions(second["taskDefinitionArns"]) == ["web:1", "web:2"]
    third = ecs.list_task_definitions(maxResults=2, nextToken=second["nextToken"])
    assert families_and_revisions(third["taskDefinitionArns"]) == ["web:3"]
    assert "nextToken" not in third


def test_list_task_definitions_paginator_filters_and_sorts(ecs):
    arns = register(ecs, "web", 3) + register(ecs, "api", 2)
    ecs.deregister_task_definition(taskDefinition=arns[1])
    paginator = ecs.get_paginator("list_task_definitions")

    def listed(**arguments):
        pages = list(paginator.paginate(PaginationConfig={"PageSize": 1}, **arguments))
        return [name for page in pages for name in families_and_revisions(page["taskDefinitionArns"])], len(pages)

    assert listed() == (["api:1", "api:2", "web:1", "web:3"], 4)
    assert listed(sort="DESC") == (["web:3", "web:1", "api:2", "api:1"], 4)
    assert listed(familyPrefix="web") == (["web:1", "web:3"], 2)
    assert listed(status="INACTIVE") == (["web:2"], 1)
    # familyPrefix is the full family name, not a prefix of it.
    assert listed(familyPrefix="we") == ([], 1)


def test_list_task_definitions_default_page_is_100(ecs):
    register(ecs, "web", 101)
    first = ecs.list_task_definitions()
    assert len(first["taskDefinitionArns"]) == 100 and first["nextToken"]
    assert families_and_revisions(ecs.list_task_definitions(nextToken=first["nextToken"])["taskDefinitionArns"]) == ["web:101"]


@pytest.mark.parametrize("arguments, field", [
    ({"maxResults": 101}, "maxResults"),
    ({"status": "GONE"}, "status"),
    ({"sort": "UP"}, "sort"),
])
def test_list_task_definitions_rejects_bad_input(ecs, arguments, field):
    with pytest.raises(ClientError) as excinfo:
        ecs.list_task_definitions(**arguments)
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException" and message.startswith(field)


def test_next_token_only_resumes_its_own_listing(ecs):
    register(ecs, "web", 3)
    token = ecs.list_task_definitions(maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as excinfo:
        ecs.list_task_definitions(maxResults=1, nextToken=token, sort="DESC")
    assert error_of(excinfo)[0] == "InvalidParameterException"
