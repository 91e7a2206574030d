"""Every model setting is declared once (topicvae/models/settings.py): the models' constructors,
their checks, the ``topicvae train`` flags and docs/settings.md are all made from that declaration."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from topicvae.errors import ConfigError
from topicvae.interfaces.cli import TRAIN_FLAGS, build_parser
from topicvae.models import settings
from topicvae.runs import MODELS, model_class

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_docs_settings_md_is_the_declaration():
    assert DOCS.read_text() == settings.table(), "run: python -m topicvae.models.settings > docs/settings.md"


def test_each_registered_model_takes_exactly_its_declared_settings_with_their_defaults():
    assert set(MODELS) == set(settings.MODELS)
    for name in MODELS:
        cls = model_class(name)
        assert cls.name == name
        model = cls()
        assert cls.param_names() == settings.names(name)
        assert {k: getattr(model, k) for k in cls.param_names()} == settings.defaults(name)
        assert list(inspect.signature(cls).parameters) == settings.names(name)  # help() shows them


@pytest.mark.parametrize("model", settings.MODELS)
def test_every_default_passes_its_own_check_and_a_wrong_value_is_named_in_one_line(model):
    cls = model_class(model)
    assert settings.check(model, settings.defaults(model)) is None
    with pytest.raises(ConfigError, match=r"^n_topics must be a whole number, 2 or more, got 1$"):
        cls(1).check_params()
    other = next(s.name for s in settings.SETTINGS.values() if model not in s.models)
    with pytest.raises(ConfigError, match=rf"^{other} is a setting of .*, not of {model}$"):
        cls(**{other: settings.SETTINGS[other].default_of(settings.SETTINGS[other].models[0])})


def test_each_flag_of_train_reads_what_its_setting_accepts():
    """Every setting with a flag has it on ``topicvae train``, and the flag's text becomes a value the
    setting's check accepts; a value outside it is refused by argparse with the declaration's reason."""
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {a.dest: a for a in train._actions}
    samples = {"hidden": "64,32", "encoder_scale": "on", "topic_init": "random", "encoder_vocabulary": "all", "encoder_input": "counts",
               "likelihood": "bernoulli", "device": "cpu"}
    for name, setting in settings.SETTINGS.items():
        if not setting.flag:  # (seed_topics comes from --seed-topics FILE, n_topics from --topics)
            assert name not in TRAIN_FLAGS
            continue
        action = flags[name]
        assert action.option_strings == [setting.option]
        kind = setting.flag_kind or setting.kind
        text = samples.get(name, "0.5" if getattr(kind, "below", None) == 1 else "3")
        value = action.type(text)
        assert all(setting.kind_of(m).accepts(value) for m in setting.models), (name, value)
        if hasattr(kind, "minimum"):
            with pytest.raises(Exception, match="expected"):
                action.type("-5")


def test_no_function_of_the_package_runs_over_60_lines_without_a_one_line_reason():
    """A function longer than 60 lines says why on the line above it (``# (N lines: ...)``)."""
    import ast

    package = Path(__file__).resolve().parents[1] / "topicvae"
    long = []
    for path in sorted(package.rglob("*.py")):
        lines = path.read_text().split("\n")
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60:
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if not lines[first - 2].strip().startswith("# ("):
                    long.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.name}")
    assert not long, long
