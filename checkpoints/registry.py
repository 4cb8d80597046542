"""Model names -> model directories: the embedded models under checkpoints/ and the CodeGen family.

    resolve("tiny-python")          # checkpoints/tiny-python/ (ships with the package)
    resolve("codegen-350M-mono")    # $CODELM_CHECKPOINTS/codegen-350M-mono/, else a download of
                                    # Salesforce/codegen-350M-mono, else ModelUnavailable
    resolve("path/to/dir")          # any HF-format directory

Resolution order for a spec:
  1. an existing directory (a path) is used as is;
  2. an embedded model: the name of a directory under checkpoints/ holding config.json;
  3. a registry name (`codegen-350M-mono`, also as `Salesforce/codegen-350M-mono`):
     a. `<cache dir>/<name>/` when complete (config.json + weights); the cache dir is `cache_dir=`, else
        $CODELM_CHECKPOINTS, else ~/.cache/codelm/checkpoints;
     b. online: huggingface_hub.snapshot_download of the repo's config, weights and tokenizer files into
        `<cache dir>/<name>.partial/` (rerun resumes), renamed to `<name>/` when complete;
     c. offline (HF_HUB_OFFLINE=1) or the hub unreachable: ModelUnavailable, one line naming the repo to
        download and how to pass it (--model DIR or $CODELM_CHECKPOINTS).
ModelUnavailable and UnknownModel are OSErrors, which the CLI dispatch prints as one line (exit 2).
Only standard library imports at module level: `--help` and registry lookups stay fast.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib

EMBEDDED_DIR = pathlib.Path(__file__).resolve().parent
CACHE_ENV = "CODELM_CHECKPOINTS"
DEFAULT_CACHE = pathlib.Path("~/.cache/codelm/checkpoints")
HUB_TIMEOUT_S = 10.0
HF_ORG = "Salesforce"
SIZES = ("350M", "2B", "6B", "16B")
VARIANTS = ("nl", "multi", "mono")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
TOKENIZER_PATTERNS = ["tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json",
                      "special_tokens_map.json", "added_tokens.json"]


class UnknownModel(OSError):
    """A --model spec that is no directory, embedded model or registry name."""


class ModelUnavailable(OSError):
    """A registry model that is not on disk and cannot be downloaded now."""


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str      # registry name, e.g. "codegen-350M-mono"
    repo_id: str   # Hugging Face repository id
    preset: str    # jaxformer.config preset with this architecture, e.g. "codegen-350M"
    training: str  # the data the checkpoint was trained on (REFERENCE: NL -> Multi -> Mono)


_TRAINING = {"nl": "ThePile", "multi": "ThePile, then BigQuery (6 languages)",
             "mono": "ThePile, then BigQuery, then BigPython"}
REGISTRY: dict[str, Entry] = {
    f"codegen-{size}-{variant}": Entry(f"codegen-{size}-{variant}", f"{HF_ORG}/codegen-{size}-{variant}",
                                       f"codegen-{size}", _TRAINING[variant])
    for size in SIZES for variant in VARIANTS
}


def cache_dir(override: str | os.PathLike | None = None) -> pathlib.Path:
    """Where registry models are looked for and downloaded to."""
    chosen = override if override is not None else os.environ.get(CACHE_ENV) or DEFAULT_CACHE
    return pathlib.Path(chosen).expanduser()


def is_model_dir(path: pathlib.Path) -> bool:
    """A complete HF-format model directory: config.json plus a weights file (or shard index)."""
    return (path / "config.json").is_file() and any((path / w).is_file() for w in WEIGHT_FILES)


def embedded_models() -> list[str]:
    """Names of the models shipped under checkpoints/."""
    return sorted(p.name for p in EMBEDDED_DIR.iterdir() if p.is_dir() and is_model_dir(p))


def registry_entry(spec: str) -> Entry | None:
    return REGISTRY.get(spec.removeprefix(f"{HF_ORG}/"))


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as set now (huggingface_hub itself reads it once, at import)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def unavailable_message(entry: Entry, cache: pathlib.Path, why: str) -> str:
    return (f"model {entry.name} is not on disk and {why}; download {entry.repo_id} "
            f"(huggingface-cli download {entry.repo_id} --local-dir DIR) and pass --model DIR, "
            f"or put it in {cache / entry.name} (${CACHE_ENV} sets the directory)")


def resolve(spec: str | os.PathLike, *, cache_dir_override: str | os.PathLike | None = None,
            download: bool = True) -> pathlib.Path:
    """The model directory a --model spec names (see the module docstring for the order)."""
    text = os.fspath(spec)
    path = pathlib.Path(text).expanduser()
    if path.is_dir():
        return path
    if text in embedded_models():
        return EMBEDDED_DIR / text
    entry = registry_entry(text)
    if entry is None:
        raise UnknownModel(f"model {text!r} is not a directory, an embedded model ({', '.join(embedded_models())}), "
                           f"a registry name (codegen-{{{','.join(SIZES)}}}-{{{','.join(VARIANTS)}}}) "
                           "or random:<preset>")
    cache = cache_dir(cache_dir_override)
    local = cache / entry.name
    if is_model_dir(local):
        return local
    if not download:
        raise ModelUnavailable(unavailable_message(entry, cache, "downloads are off"))
    if hub_offline():
        raise ModelUnavailable(unavailable_message(entry, cache, "the hub is offline (HF_HUB_OFFLINE=1)"))
    return fetch(entry, cache)


def fetch(entry: Entry, cache: pathlib.Path) -> pathlib.Path:
    """Download entry's config, weights (safetensors if the repo has them) and tokenizer into
    cache/<name>.partial, then rename it to cache/<name>. Any hub failure -> ModelUnavailable."""
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", str(int(HUB_TIMEOUT_S)))
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", str(int(HUB_TIMEOUT_S)))
    final, partial = cache / entry.name, cache / f"{entry.name}.partial"
    try:
        from huggingface_hub import HfApi, snapshot_download

        files = set(HfApi().list_repo_files(entry.repo_id))
        weights = ["model.safetensors*", "model-*.safetensors"] if any(f.endswith(".safetensors") for f in files) \
            else ["pytorch_model*.bin", "pytorch_model.bin.index.json"]
        partial.mkdir(parents=True, exist_ok=True)
        snapshot_download(entry.repo_id, local_dir=partial, etag_timeout=HUB_TIMEOUT_S,
                          allow_patterns=["config.json", *weights, *TOKENIZER_PATTERNS])
    except Exception as err:  # noqa: BLE001  (network, auth, hub errors: one line, never a traceback)
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelUnavailable(unavailable_message(entry, cache, f"the download failed ({reason[:160]})")) from None
    if not is_model_dir(partial):
        raise ModelUnavailable(unavailable_message(entry, cache, f"the download of {partial} has no config/weights"))
    partial.rename(final)
    return final


def check_architecture(entry: Entry, cfg) -> None:
    """A downloaded registry model must have its preset's dimensions (catches a wrong directory)."""
    from jaxformer import config

    want = config.preset(entry.preset)
    for field in ("n_layer", "n_embd", "n_head", "rotary_dim"):
        if getattr(cfg, field) != getattr(want, field):
            raise ValueError(f"model {entry.name}: config.json has {field}={getattr(cfg, field)}, "
                             f"but {entry.repo_id} has {field}={getattr(want, field)}")
