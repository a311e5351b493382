"""Keep xdist_group's tests on one worker under pytest 9.2 (pytest-dev/pytest-xdist#1386).

xdist's loadgroup tells the controller an item's group by appending "@group" to the
item's node id on the worker. pytest 9.2 keeps node ids structured and no longer reads
the string xdist writes, so every group is silently spread over the workers: each
worker then bakes, lints and runs checkov for the same group. This plugin appends the
group to the structured id instead, as xdist's fix under review does (#1388); drop it
once an xdist release groups by itself (tests/test_conftest.py says when).
"""

import pytest

try:
    from _pytest.nodeid import NodeId
except ImportError:  # pytest before 9.2: xdist's own suffix still works
    NodeId = None


def group_names(item: pytest.Item) -> list[str]:
    """The item's xdist_group names, as xdist joins them."""
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return sorted(names)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # loadgroup is an option of xdist's workers only, set from --dist=loadgroup.
    if NodeId is None or not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = group_names(item)
        if names and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")
