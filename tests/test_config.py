"""ModelConfig validation, presets, parameter counts, HF config.json round trip, key=value overrides."""
import dataclasses

import pytest

from jaxformer.config import ModelConfig, param_count, parse_overrides, preset, from_hf_config, to_hf_config


@pytest.mark.parametrize("name, billions", [("codegen-350M", 0.357), ("codegen-2B", 2.779),
                                            ("codegen-6B", 7.064), ("codegen-16B", 16.03)])
def test_preset_param_counts_match_reference(name, billions):
    digits = 2 if name == "codegen-16B" else 3
    assert round(param_count(preset(name)) / 1e9, digits) == billions


def test_preset_dimensions_and_variant_names():
    cfg = preset("codegen-350M")
    assert (cfg.n_layer, cfg.n_embd, cfg.n_head, cfg.rotary_dim) == (20, 1024, 16, 32)
    assert (cfg.vocab_size, cfg.n_positions, cfg.mlp_dim, cfg.head_dim) == (51200, 2048, 4096, 64)
    assert preset("codegen-350M-mono") == preset("codegen-350M-nl") == preset("Salesforce/codegen-350M-multi") == cfg
    assert preset("codegen-6B-mono").n_layer == 33
    tiny = preset("tiny")
    assert tiny.vocab_size >= 50295 and tiny.n_layer == 2 and tiny.n_embd == 64


def test_unknown_preset_lists_valid_names():
    with pytest.raises(ValueError, match="codegen-3B.*codegen-350M.*tiny"):
        preset("codegen-3B")


@pytest.mark.parametrize("changes, field", [
    ({"n_head": 6, "n_embd": 96}, "n_head"),  # not a multiple of mp_num=4
    ({"n_embd": 66}, "n_embd"),
    ({"rotary_dim": 7}, "rotary_dim"),
    ({"rotary_dim": 32}, "rotary_dim"),  # > head_dim 16
    ({"n_layer": 0}, "n_layer"),
    ({"vocab_size": -1}, "vocab_size"),
    ({"n_inner": 0}, "n_inner"),
    ({"dtype": "float16"}, "dtype"),
    ({"param_dtype": "f32"}, "param_dtype"),
    ({"eos_token_id": 51200}, "eos_token_id"),
    ({"layer_norm_epsilon": 0.0}, "layer_norm_epsilon"),
    ({"scan_layers": "yes"}, "scan_layers"),
])
def test_invalid_config_names_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        preset("tiny").replace(**changes)


def test_config_is_frozen_and_mlp_dim_follows_n_embd():
    cfg = preset("tiny")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_layer = 3
    assert cfg.replace(n_embd=128).mlp_dim == 512  # n_inner=None is resolved lazily, not frozen in
    assert cfg.replace(n_inner=100).mlp_dim == 100


def test_hf_config_round_trip():
    cfg = preset("codegen-350M").replace(n_inner=3000, layer_norm_epsilon=1e-6, eos_token_id=2)
    hf = to_hf_config(cfg)
    assert hf["model_type"] == "codegen" and hf["tie_word_embeddings"] is False
    assert from_hf_config(hf) == cfg
    # runtime-only fields are not part of config.json
    assert from_hf_config(to_hf_config(cfg.replace(scan_layers=True))) == cfg


def test_hf_config_matches_transformers():
    transformers = pytest.importorskip("transformers")
    cfg = preset("codegen-2B")
    hf = transformers.CodeGenConfig(**{k: v for k, v in to_hf_config(cfg).items() if k != "architectures"})
    assert (hf.n_layer, hf.n_embd, hf.n_head, hf.rotary_dim, hf.vocab_size) == (32, 2560, 32, 64, 51200)
    assert from_hf_config(hf.to_dict()) == cfg


@pytest.mark.parametrize("hf, message", [
    ({"model_type": "gptj"}, "model_type 'gptj'"),
    ({}, "model_type None"),
    ({"model_type": "codegen", "n_embd": 64}, "missing field.*vocab_size"),
])
def test_bad_hf_config_is_named(hf, message):
    with pytest.raises(ValueError, match=message):
        from_hf_config(hf, source="x/config.json")


def test_bad_hf_config_values_name_file_and_field():
    hf = to_hf_config(preset("tiny"))
    with pytest.raises(ValueError, match="x/config.json.*activation_function 'relu'"):
        from_hf_config({**hf, "activation_function": "relu"}, source="x/config.json")
    with pytest.raises(ValueError, match="x/config.json.*tie_word_embeddings"):
        from_hf_config({**hf, "tie_word_embeddings": True}, source="x/config.json")
    with pytest.raises(ValueError, match="x/config.json.*n_head"):
        from_hf_config({**hf, "n_head": 2}, source="x/config.json")


def test_parse_overrides():
    cfg = parse_overrides(preset("tiny"), ["n_layer=4", "dtype=bfloat16", "scan_layers=true",
                                           "layer_norm_epsilon=1e-6", "n_inner=none"])
    assert (cfg.n_layer, cfg.dtype, cfg.scan_layers, cfg.layer_norm_epsilon, cfg.n_inner) == \
        (4, "bfloat16", True, 1e-6, None)
    assert parse_overrides(cfg, ["n_inner=512", "remat=0"]).n_inner == 512
    with pytest.raises(ValueError, match="unknown config field 'n_layers'"):
        parse_overrides(cfg, ["n_layers=4"])
    with pytest.raises(ValueError, match="'n_layer4'"):
        parse_overrides(cfg, ["n_layer4"])
    with pytest.raises(ValueError, match="n_layer='four'"):
        parse_overrides(cfg, ["n_layer=four"])
    with pytest.raises(ValueError, match="scan_layers='maybe'"):
        parse_overrides(cfg, ["scan_layers=maybe"])
    with pytest.raises(ValueError, match="rotary_dim"):
        parse_overrides(cfg, ["rotary_dim=9"])
