"""Run moto_server with two fixes that the generated CloudFormation cannot avoid.

Usage: python tests/moto_server_patched.py -H 127.0.0.1 -p PORT (moto_server's options).

moto 5.2.5 (pinned in requirements-dev.txt):
- gives a stack created through a change set (what `aws cloudformation deploy`
  does) no Outputs: ChangeSet.apply() builds the resources but never rebuilds
  the stack's OutputMap, which was made from the empty template of the
  REVIEW_IN_PROGRESS stack;
- resolves `!Ref` of an AWS::EFS::AccessPoint to the Python object rather than
  its ID, because moto's AccessPoint has no physical_resource_id; CloudFormation
  has no other way to name the access point in a task definition;
- refuses a change set that changes nothing with a ValidationError ("No updates
  are to be performed."), which is UpdateStack's answer: AWS creates the change
  set FAILED with "didn't contain changes", which `aws cloudformation deploy
  --no-fail-on-empty-changeset` reads as success. moto's backend does that
  already; its response layer checks first;
- hands a List parameter kept with UsePreviousValue (what `aws cloudformation
  deploy` sends for the parameters it is not given, such as SubnetIds on an
  update) back to its parser as the list it resolved, which the parser splits
  as a string and fails on: it is joined again here, as AWS stores it;
- counts a parameter that the create left at its default as changed when an
  update keeps it with UsePreviousValue, and so updates every resource that
  names one, which its update handlers (the listener's among them) cannot:
  the defaults count as given here, as CloudFormation stores them;
- fails RunTask (make run-task) with a TypeError on a Fargate task definition whose
  container leaves its memory to the task's (TaskMemory), as the generated one does:
  such a container counts as needing none here, as ECS counts only the task's size;
- keeps a list item that is `!If [..., !Ref AWS::NoValue]` as null, where
  CloudFormation leaves it out, and then fails to create a task definition with a
  null volume: the item is left out here;
- creates an AWS::RDS::DBInstance without three of its properties:
  ManageMasterUserPassword (so RDS's secret is never made, and
  `!GetAtt DB.MasterUserSecret.SecretArn`, which it does not know either, cannot be
  resolved), VPCSecurityGroups (it reads a VpcSecurityGroupIds that CloudFormation
  does not have) and DeletionProtection: they are passed on here, as CloudFormation
  does, and the attribute is the secret's ARN;
- reads `!GetAtt Database.Endpoint.Address` as the attribute "Endpoint" of Database,
  splitting the short form at every dot, where CloudFormation splits at the first:
  RDS's attributes (Endpoint.Address, MasterUserSecret.SecretArn) have dots;
- re-registers a task definition that a stack update changes with CloudFormation's
  PascalCase keys (Name, Image) where its create, and ECS, use camelCase (name,
  image), so that an updated revision's containers have no name: they are remapped
  here, as the create does;
- runs no process, so no container ever exits and every container of a stopped task
  reads exit code 0: a StopTask whose reason ends in `exited with N` (what a test
  gives for the end of the process it stands in for) sets the app container's exit
  code to N, as ECS reports a process's own.

All eleven are emulator gaps, not template problems: real AWS does all eleven.
Everything else moto does is left as it is.
"""

import copy
import re

from moto.cloudformation import models as cloudformation
from moto.cloudformation import parsing
from moto.cloudformation import responses as cloudformation_responses
from moto.cloudformation import utils as cloudformation_utils
from moto.cloudformation.parsing import OutputMap, ResourceMap
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs import models as ecs
from moto.efs.models import AccessPoint
from moto.rds import models as rds
from moto.server import main

_apply = cloudformation.ChangeSet.apply


def _apply_and_rebuild_outputs(self) -> None:
    _apply(self)
    self.stack.template = self.template
    self.stack._parse_template()
    self.stack.output_map = OutputMap(
        self.stack.resource_map, self.stack.template_dict, self.stack.stack_id
    )


cloudformation.ChangeSet.apply = _apply_and_rebuild_outputs
AccessPoint.physical_resource_id = property(lambda self: self.access_point_id)

_create_change_set = CloudFormationResponse.create_change_set


def _create_change_set_even_if_empty(self):
    # The instance attribute shadows the check for this call only; UpdateStack keeps it.
    self._validate_different_update = lambda *_: None
    return _create_change_set(self)


CloudFormationResponse.create_change_set = _create_change_set_even_if_empty


def _as_stored(parameters: dict) -> dict:
    return {
        key: ",".join(value) if isinstance(value, list) else value
        for key, value in parameters.items()
    }


_load_parameters = ResourceMap.load_parameters


def _load_previous_list_values(self) -> None:
    self.input_parameters = _as_stored(self.input_parameters)
    _load_parameters(self)


ResourceMap.load_parameters = _load_previous_list_values

_update = ResourceMap.update


def _update_keeping_defaults_as_given(self, template, parameters=None) -> None:
    declared = self._template.get("Parameters", {})
    resolved = {key: self.resolved_parameters[key] for key in declared}
    self.input_parameters = {**_as_stored(resolved), **self.input_parameters}
    _update(self, template, parameters)


ResourceMap.update = _update_keeping_defaults_as_given
cloudformation.Stack.has_parameters = lambda self, other: (
    _as_stored(self.parameters) == (_as_stored(other))
)
cloudformation.Stack.stack_parameters = property(
    lambda self: _as_stored(self.resource_map.resolved_parameters)
)

_requirements = ecs.EC2ContainerServiceBackend._calculate_task_resource_requirements
_MEMORY_KEYS = {"Memory", "MemoryReservation", "memory", "memoryReservation"}


def _requirements_with_task_level_memory(task_definition):
    sized = copy.copy(task_definition)
    sized.container_definitions = [
        container if _MEMORY_KEYS & set(container) else {**container, "memory": 0}
        for container in task_definition.container_definitions
    ]
    return _requirements(sized)


ecs.EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(
    _requirements_with_task_level_memory
)

_clean_json = parsing.clean_json


def _clean_json_without_novalue_items(resource_json, resources_map):
    cleaned = _clean_json(resource_json, resources_map)
    if isinstance(resource_json, list) and isinstance(cleaned, list):
        return [item for item in cleaned if item is not None]
    return cleaned


# clean_json calls itself through the module's name, so nested lists are cleaned too.
parsing.clean_json = _clean_json_without_novalue_items

_create_instance = rds.DBInstance.create_from_cloudformation_json.__func__


def _as_bool(value) -> bool:
    return str(value).lower() == "true"


def _create_instance_with_its_properties(cls, resource_name, cloudformation_json, *args, **kwargs):
    properties = cloudformation_json["Properties"]
    backend = rds.rds_backends[args[0]][args[1]]
    create = backend.create_db_instance

    def create_as_cloudformation_does(db_kwargs):
        return create(
            {
                **db_kwargs,
                "manage_master_user_password": _as_bool(properties.get("ManageMasterUserPassword")),
                "deletion_protection": _as_bool(properties.get("DeletionProtection")),
                "vpc_security_group_ids": properties.get("VPCSecurityGroups", []),
            }
        )

    # The instance attribute shadows the backend's method for this create only.
    backend.create_db_instance = create_as_cloudformation_does
    try:
        return _create_instance(cls, resource_name, cloudformation_json, *args, **kwargs)
    finally:
        del backend.create_db_instance


rds.DBInstance.create_from_cloudformation_json = classmethod(_create_instance_with_its_properties)
_has_attribute = rds.DBInstance.has_cfn_attr.__func__
_SECRET_ARN = "MasterUserSecret.SecretArn"
rds.DBInstance.has_cfn_attr = classmethod(
    lambda cls, attribute: attribute == _SECRET_ARN or _has_attribute(cls, attribute)
)
_get_attribute = rds.DBInstance.get_cfn_attribute


def _get_attribute_with_the_secret(self, attribute):
    if attribute == _SECRET_ARN:
        return self.master_user_secret.secret_arn
    return _get_attribute(self, attribute)


rds.DBInstance.get_cfn_attribute = _get_attribute_with_the_secret

_yaml_tag_constructor = cloudformation_utils.yaml_tag_constructor


def _yaml_tag_constructor_splitting_getatt_once(loader, tag, node):
    if tag == "!GetAtt" and isinstance(node.value, str):
        return {"Fn::GetAtt": node.value.split(".", 1)}
    return _yaml_tag_constructor(loader, tag, node)


# Imported by name where templates are read: each module's name is replaced.
cloudformation.yaml_tag_constructor = _yaml_tag_constructor_splitting_getatt_once
cloudformation_responses.yaml_tag_constructor = _yaml_tag_constructor_splitting_getatt_once

_update_task_definition = ecs.TaskDefinition.update_from_cloudformation_json.__func__


def _update_task_definition_in_camelcase(cls, cloudformation_json, **kwargs):
    properties = dict(cloudformation_json["Properties"])
    for key in ("ContainerDefinitions", "Volumes"):
        properties[key] = remap_nested_keys(properties.get(key, []), pascal_to_camelcase)
    remapped = {**cloudformation_json, "Properties": properties}
    return _update_task_definition(cls, cloudformation_json=remapped, **kwargs)


ecs.TaskDefinition.update_from_cloudformation_json = classmethod(
    _update_task_definition_in_camelcase
)

_stop_task = ecs.EC2ContainerServiceBackend.stop_task


def _stop_task_with_the_exit_code(self, cluster_str, task_str, reason):
    task = _stop_task(self, cluster_str, task_str, reason)
    exited = re.search(r"exited with (\d+)$", reason or "")
    if exited:
        for container in task.containers:
            container.exitCode = int(exited[1])
    return task


ecs.EC2ContainerServiceBackend.stop_task = _stop_task_with_the_exit_code

if __name__ == "__main__":
    main()
