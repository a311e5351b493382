"""README.md's `make help` block is what `make help` prints, so the index cannot go stale."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The Makefile's help target: grep -E '^[a-z-]+:.*## ' | awk -F ':.*## ' (greedy, as awk's is).
HELP_COMMENT = re.compile(r"^([a-z-]+):.*## (.*)$", re.MULTILINE)
# The README's block: a ```text fence of "  make <target>  <description>" lines.
HELP_BLOCK = re.compile(r"^```text\n((?:  make .*\n)+)```$", re.MULTILINE)
HELP_LINE = re.compile(r"  make (\S+) +(.*)")


def test_readme_lists_the_make_targets_of_the_makefile():
    """README.md lists the help targets of the Makefile, with their descriptions, in order."""
    makefile = (ROOT / "Makefile").read_text()
    expected = [(target, text.strip()) for target, text in HELP_COMMENT.findall(makefile)]
    block = HELP_BLOCK.search((ROOT / "README.md").read_text())
    assert block, "README.md has no ```text block of `make help` lines"
    listed = [HELP_LINE.fullmatch(line).groups() for line in block[1].splitlines()]
    assert listed == expected, "copy `make help`'s output into README.md's block"
