"""ecs_task_definition in playbooks against the lab endpoint: the seed's JSON registers once and then reports
ok, an env change makes a new revision, check mode changes nothing, diff shows the change, bad input makes no
AWS call (the lab's counters prove it)."""

# The AWS docs' example from the issue, unchanged except for its two placeholders.
SEED_JSON = (
    '{"family":"my-task-definition","containerDefinitions":[{"name":"my-container","image":"<image>","cpu":256,'
    '"memory":512,"essential":true,"portMappings":[{"containerPort":80,"hostPort":80}],"logConfiguration":'
    '{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/my-container","awslogs-region":"<region>",'
    '"awslogs-stream-prefix":"ecs"}}}]}'
).replace("<image>", "public.ecr.aws/nginx/nginx:1.27").replace("<region>", "us-east-1")


def _seed_task(name, **extra):
    return {"name": name, "fleetops.ecs_anywhere.ecs_task_definition": dict({"task_definition": SEED_JSON}, **extra)}


def _web_task(name, environment, **extra):
    arguments = {"family": "web", "containers": [{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 128,
                                                  "port_mappings": [{"container_port": 80}], "environment": environment}]}
    arguments.update(extra)
    return {"name": name, "fleetops.ecs_anywhere.ecs_task_definition": arguments}


def _revisions(lab, family):
    return lab.client("ecs").list_task_definitions(familyPrefix=family)["taskDefinitionArns"]


def test_seed_json_registers_once_then_reports_ok(lab_aws, run_play):
    result = run_play([_seed_task("register"), _seed_task("again")])
    assert result.returncode == 0, result.output
    assert result["register"]["changed"] is True
    assert result["register"]["task_definition"]["revision"] == 1
    assert result["again"]["changed"] is False
    assert result["again"]["task_definition"]["task_definition_arn"] == result["register"]["task_definition"]["task_definition_arn"]
    assert lab_aws.counters() == {"DescribeTaskDefinition": 2, "RegisterTaskDefinition": 1}
    assert len(_revisions(lab_aws, "my-task-definition")) == 1


def test_check_mode_changes_nothing_and_diff_shows_the_new_definition(lab_aws, run_play):
    result = run_play([_seed_task("would register")], check=True, diff=True)
    assert result.returncode == 0, result.output
    task = result["would register"]
    assert task["changed"] is True
    assert task["diff"]["before"] == {}
    assert task["diff"]["after"]["containerDefinitions"][0]["portMappings"] == [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]
    assert "RegisterTaskDefinition" not in lab_aws.counters()
    assert _revisions(lab_aws, "my-task-definition") == []


def test_environment_change_makes_a_new_revision_and_diff_shows_it(lab_aws, run_play):
    first = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    changed = [{"name": "B", "value": "2"}, {"name": "A", "value": "3"}]
    result = run_play([
        _web_task("register", first),
        _web_task("reordered", list(reversed(first))),
    ])
    assert result.returncode == 0, result.output
    assert result["reordered"]["changed"] is False

    checked = run_play([_web_task("env change in check mode", changed)], check=True, diff=True)
    assert checked["env change in check mode"]["changed"] is True
    assert checked["env change in check mode"]["changes"] == ["containerDefinitions[web].environment"]
    diff = checked["env change in check mode"]["diff"]
    assert diff["before"]["containerDefinitions"][0]["environment"] == first
    assert diff["after"]["containerDefinitions"][0]["environment"] == [{"name": "A", "value": "3"}, {"name": "B", "value": "2"}]
    assert len(_revisions(lab_aws, "web")) == 1

    applied = run_play([_web_task("env change", changed), _web_task("env change again", changed)])
    assert applied["env change"]["changed"] is True
    assert applied["env change"]["task_definition"]["revision"] == 2
    assert applied["env change again"]["changed"] is False
    assert len(_revisions(lab_aws, "web")) == 2


def test_bad_input_makes_no_aws_call(lab_aws, run_play):
    bad = {"ignore_errors": True}
    result = run_play([
        dict(_web_task("memory too small", [], containers=[{"name": "web", "image": "nginx", "memory": 2}]), **bad),
        dict(_web_task("duplicate names", [], containers=[{"name": "a", "image": "x", "memory": 64},
                                                         {"name": "a", "image": "y", "memory": 64}]), **bad),
        dict(_web_task("conflicting host ports", [], containers=[
            {"name": "a", "image": "x", "memory": 64, "portMappings": [{"containerPort": 80, "hostPort": 80}]},
            {"name": "b", "image": "y", "memory": 64, "portMappings": [{"containerPort": 81, "hostPort": 80}]}]), **bad),
        dict(_seed_task("awslogs without region", task_definition=SEED_JSON.replace('"awslogs-region":"us-east-1",', "")), **bad),
        dict(_seed_task("unknown key", task_definition=SEED_JSON.replace('"essential"', '"esential"')), **bad),
        dict(_web_task("awsvpc on EXTERNAL", [], network_mode="awsvpc"), **bad),
        dict(_web_task("missing image", [], containers=[{"name": "web", "memory": 64}]), **bad),
    ])
    messages = dict((name, task.get("msg")) for name, task in result.on().items())
    assert messages == {
        "memory too small": "containers[0].memory: 2 MiB is below the 6 MiB minimum",
        "duplicate names": "containers[1].name: 'a' is already the name of containers[0]",
        "conflicting host ports": "containers[1].portMappings[0]: host port 80/tcp is already used by containers[0].portMappings[0]",
        "awslogs without region":
            "task_definition.containerDefinitions[0].logConfiguration.options: the awslogs log driver needs 'awslogs-region'",
        "unknown key": messages["unknown key"],
        "awsvpc on EXTERNAL": "network_mode: awsvpc is not supported on EXTERNAL (ECS Anywhere) instances; use bridge, host or none",
        "missing image": "containers[0].image: required",
    }
    assert messages["unknown key"].startswith("task_definition.containerDefinitions[0].esential: unknown key")
    assert all(task["failed"] for task in result.on().values())
    assert lab_aws.counters() == {}


def test_absent_deregisters_every_revision_then_reports_ok(lab_aws, run_play):
    ecs = lab_aws.client("ecs")
    for value in range(3):
        ecs.register_task_definition(family="job", requiresCompatibilities=["EXTERNAL"],
                                     containerDefinitions=[{"name": "job", "image": "busybox", "memory": 32,
                                                            "environment": [{"name": "N", "value": str(value)}]}])
    task = {"fleetops.ecs_anywhere.ecs_task_definition": {"family": "job", "state": "absent"}}
    result = run_play([dict(task, name="deregister"), dict(task, name="deregister again")])
    assert result.returncode == 0, result.output
    assert len(result["deregister"]["task_definition_arns"]) == 3
    assert result["deregister again"]["changed"] is False
    assert _revisions(lab_aws, "job") == []


def test_tags_only_change_does_not_make_a_revision(lab_aws, run_play):
    result = run_play([
        _web_task("register", [], tags={"team": "ops"}),
        _web_task("retag", [], tags={"team": "dev"}),
    ])
    assert result.returncode == 0, result.output
    assert result["retag"]["changed"] is True
    assert result["retag"]["changes"] == ["tags"]
    arn = result["register"]["task_definition"]["task_definition_arn"]
    assert result["retag"]["task_definition"]["task_definition_arn"] == arn
    assert lab_aws.client("ecs").list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "dev"}]


def test_validate_images_checks_the_ecr_tag_before_registering(lab_aws, run_play):
    ecr = lab_aws.client("ecr")
    ecr.create_repository(repositoryName="team/app")
    manifest = '{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}'
    ecr.put_image(repositoryName="team/app", imageManifest=manifest, imageTag="1.4")
    registry = "123456789012.dkr.ecr.{0}.amazonaws.com/team/app".format(lab_aws.region)
    role = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"

    def task(name, image):
        return dict(_web_task(name, [], containers=[{"name": "app", "image": image, "memory": 64}],
                              validate_images=True, execution_role_arn=role), ignore_errors=True)

    result = run_play([task("missing tag", registry + ":9.9"), task("existing tag", registry + ":1.4")])
    assert result["missing tag"]["failed"] is True
    assert result["missing tag"]["msg"] == (
        "containers[0].image: tag '9.9' not found in ECR repository team/app of registry 123456789012")
    assert result["existing tag"]["changed"] is True
    assert result["existing tag"]["task_definition"]["revision"] == 1
    assert len(_revisions(lab_aws, "web")) == 1
