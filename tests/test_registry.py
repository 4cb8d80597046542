"""checkpoints.registry: --model names -> directories, the download step, the offline message.

The hub is forced offline (HF_HUB_OFFLINE=1) in every test, so nothing here touches the network.
"""
import pathlib

import pytest

from checkpoints import registry


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(registry.CACHE_ENV, raising=False)


@pytest.fixture(scope="module")
def fake_model(tmp_path_factory) -> pathlib.Path:
    """A tiny HF-format directory written by save_hf (random weights, the codegen tokenizer)."""
    from flax import nnx

    from jaxformer import config, hf, model, tokenizer

    cfg = config.ModelConfig()
    _, params = nnx.split(model.CodeGen(cfg, rngs=nnx.Rngs(0)))
    return hf.save_hf(cfg, params, tmp_path_factory.mktemp("fake") / "tiny", tokenizer=tokenizer.load("codegen"))


def test_the_codegen_family_is_registered_with_repo_ids_and_presets():
    from jaxformer import config

    assert len(registry.REGISTRY) == 12
    entry = registry.REGISTRY["codegen-350M-mono"]
    assert entry.repo_id == "Salesforce/codegen-350M-mono" and entry.preset == "codegen-350M"
    assert registry.REGISTRY["codegen-16B-nl"].repo_id == "Salesforce/codegen-16B-nl"
    for e in registry.REGISTRY.values():
        assert config.preset(e.preset).n_head % config.MP_NUM == 0
    assert config.preset(registry.REGISTRY["codegen-6B-multi"].preset).n_layer == 33


def test_a_path_resolves_to_itself(fake_model):
    assert registry.resolve(str(fake_model)) == fake_model


def test_a_registry_name_resolves_to_the_cache_dir(fake_model, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "codegen-350M-mono").symlink_to(fake_model, target_is_directory=True)
    assert registry.resolve("codegen-350M-mono", cache_dir_override=cache) == cache / "codegen-350M-mono"
    monkeypatch.setenv(registry.CACHE_ENV, str(cache))
    assert registry.resolve("Salesforce/codegen-350M-mono") == cache / "codegen-350M-mono"


def test_offline_gives_one_line_naming_the_repo_and_the_flag(tmp_path):
    incomplete = tmp_path / "codegen-2B-multi"
    incomplete.mkdir()
    (incomplete / "config.json").write_text("{}")  # no weights: not a model directory
    with pytest.raises(registry.ModelUnavailable) as err:
        registry.resolve("codegen-2B-multi", cache_dir_override=tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert "Salesforce/codegen-2B-multi" in message and "--model DIR" in message and "HF_HUB_OFFLINE" in message
    assert str(tmp_path / "codegen-2B-multi") in message


def test_the_cli_prints_the_offline_message_without_a_traceback(tmp_path, monkeypatch, capsys):
    from jaxformer import cli

    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path))
    code = cli.main(["sample", "--model", "codegen-350M-mono", "--prompt", "def f():"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith("jaxformer: error: model codegen-350M-mono is not on disk")
    assert "Salesforce/codegen-350M-mono" in err


def test_unknown_names_list_what_is_valid():
    with pytest.raises(registry.UnknownModel, match="codegen-5B-mono.*embedded model.*registry name"):
        registry.resolve("codegen-5B-mono")


def test_a_registry_name_must_hold_its_architecture(fake_model, tmp_path):
    from jaxformer import sampling

    (tmp_path / "codegen-350M-nl").symlink_to(fake_model, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(registry.CACHE_ENV, str(tmp_path))
        with pytest.raises(ValueError, match="codegen-350M-nl: config.json has n_layer=2, .* n_layer=20"):
            sampling.load("codegen-350M-nl")
        cfg, _, params, tok = sampling.load(str(tmp_path / "codegen-350M-nl"))  # by path: no check
    assert cfg.n_layer == 2 and tok is not None
