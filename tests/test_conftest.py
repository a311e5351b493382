"""The shared helpers in conftest.py do what the other tests rely on."""

import sys

import conftest
import pytest
import yaml
from conftest import (
    CI_FILES,
    PROJECT_TEMPLATE,
    CloudFormationLoader,
    run,
    skip_or_fail,
    tool_path,
)


def test_cloudformation_loader_gives_the_long_form_of_each_tag():
    """Short-form tags read as CloudFormation's JSON form, as the generated repo reads them."""
    text = """
        Name: !Sub "${AWS::StackName}-role"
        Pair: !Sub ["${A}", {A: !Ref Value}]
        Arn: !GetAtt Role.Arn
        Same: !GetAtt [Role, Arn]
        Chosen: !If [HasVolume, !Ref Volume, !Ref AWS::NoValue]
        Both: !And [!Condition HasVolume, !Equals [a, b]]
    """
    assert yaml.load(text, CloudFormationLoader) == {
        "Name": {"Fn::Sub": "${AWS::StackName}-role"},
        "Pair": {"Fn::Sub": ["${A}", {"A": {"Ref": "Value"}}]},
        "Arn": {"Fn::GetAtt": ["Role", "Arn"]},
        "Same": {"Fn::GetAtt": ["Role", "Arn"]},
        "Chosen": {"Fn::If": ["HasVolume", {"Ref": "Volume"}, {"Ref": "AWS::NoValue"}]},
        "Both": {"Fn::And": [{"Condition": "HasVolume"}, {"Fn::Equals": ["a", "b"]}]},
    }


def test_cloudformation_loader_builds_no_python_objects():
    """It is a SafeLoader: a Python tag is refused, not run."""
    assert issubclass(CloudFormationLoader, yaml.SafeLoader)
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("!!python/object/apply:os.getcwd []", CloudFormationLoader)


def test_run_failure_names_the_command_its_status_and_its_output():
    """A wrong exit status fails with the command line, both streams and the note."""
    script = "import sys; print('said'); sys.exit('complained')"
    with pytest.raises(AssertionError) as failure:
        run(sys.executable, "-c", script, note="rendered by every combination")
    message = str(failure.value)
    assert message.startswith(f"{sys.executable} -c ")
    assert "exited 1, expected 0" in message
    assert "said" in message and "complained" in message
    assert "rendered by every combination" in message


def test_run_checks_the_expected_status_or_none():
    """expect names the status to require; None returns whatever the command did."""
    script = "import sys; print('out'); sys.exit(3)"
    assert run(sys.executable, "-c", script, expect=3).stdout == "out\n"
    assert run(sys.executable, "-c", script, expect=None).returncode == 3
    with pytest.raises(AssertionError, match="exited 3, expected 0"):
        run(sys.executable, "-c", script)


def test_ci_files_are_template_files_and_only_ci_provider_none_has_none():
    """CI_FILES, read from the hook's table, names real files; each provider but none has some."""
    for provider, names in CI_FILES.items():
        assert bool(names) is (provider != "none"), provider
        for name in names:
            assert (PROJECT_TEMPLATE / name).is_file(), name


def test_skip_or_fail_skips_but_fails_in_ci(monkeypatch):
    """A missing prerequisite skips; with TEMPLATE_REQUIRE_ALL=1 the same message fails."""
    monkeypatch.delenv("TEMPLATE_REQUIRE_ALL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no engine"):
        skip_or_fail("no engine")
    monkeypatch.setenv("TEMPLATE_REQUIRE_ALL", "1")
    with pytest.raises(pytest.fail.Exception, match="required in CI: no engine"):
        skip_or_fail("no engine")


def test_tool_path_finds_the_npm_tools_before_path(monkeypatch, tmp_path):
    """A tool make install-tools put in .tools wins over one of that name on PATH."""
    tools, elsewhere = tmp_path / "tools", tmp_path / "elsewhere"
    for folder in (tools, elsewhere):
        folder.mkdir()
        (folder / "some-npm-tool").touch(mode=0o755)
    monkeypatch.setattr(conftest, "NPM_TOOLS", tools)
    monkeypatch.setenv("PATH", str(elsewhere))
    assert tool_path("some-npm-tool") == str(tools / "some-npm-tool")
