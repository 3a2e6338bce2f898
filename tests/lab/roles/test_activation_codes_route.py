"""The lab-only GET /_lab/ssm/activation-codes that the secrets scenario searches logs and files with: every code
handed out since the last reset, deleted activations' included (AWS shows a code only once, at creation)."""


def test_codes_of_created_and_deleted_activations_until_reset(lab_aws):
    ssm = lab_aws.client("ssm")
    first = ssm.create_activation(IamRole="ecsAnywhereRole")
    second = ssm.create_activation(IamRole="ecsAnywhereRole", RegistrationLimit=3)
    ssm.delete_activation(ActivationId=first["ActivationId"])

    assert lab_aws.control("GET", "/_lab/ssm/activation-codes") == {
        "codes": [first["ActivationCode"], second["ActivationCode"]]}
    assert lab_aws.counters().keys() == {"CreateActivation", "DeleteActivation"}  # a control call, not counted

    lab_aws.reset()
    assert lab_aws.control("GET", "/_lab/ssm/activation-codes") == {"codes": []}
