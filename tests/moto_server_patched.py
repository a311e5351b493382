"""Run moto_server with two fixes that the generated CloudFormation cannot avoid.

Usage: python tests/moto_server_patched.py -H 127.0.0.1 -p PORT (moto_server's options).

moto 5.2.5 (pinned in requirements-dev.txt):
- gives a stack created through a change set (what `aws cloudformation deploy`
  does) no Outputs: ChangeSet.apply() builds the resources but never rebuilds
  the stack's OutputMap, which was made from the empty template of the
  REVIEW_IN_PROGRESS stack;
- resolves `!Ref` of an AWS::EFS::AccessPoint to the Python object rather than
  its ID, because moto's AccessPoint has no physical_resource_id; CloudFormation
  has no other way to name the access point in a task definition.

Both are emulator gaps, not template problems: real CloudFormation does both.
Everything else moto does is left as it is.
"""

from moto.cloudformation import models as cloudformation
from moto.cloudformation.parsing import OutputMap
from moto.efs.models import AccessPoint
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

if __name__ == "__main__":
    main()
