"""Train the Rasa model only when its inputs changed; reuse a cached model when possible.

The fingerprint covers everything that shapes the model (config, domain, training data, the
custom NLU code and the versions of the ML packages). A model trained for the same fingerprint
is kept in the cache directory, so a fresh clone on the same machine (CI) does not train again.

Rasa lives in its own Python 3.10 environment (settings.rasa_python): this tool runs there
only `rasa train` and a one-line query for the package versions, never imports Rasa itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path

from bot.core.config import PROJECT_ROOT, Settings, load_settings

MODEL_INPUTS = (
    "config.yml",
    "domain.yml",
    "data/**/*.yml",
    # The tokenizer component, its fold() and lemma lookup, the vendored stop words; not
    # danish_nlu/version_channel.py, which shapes no model.
    "danish_nlu/__init__.py",
    "danish_nlu/text.py",
    "danish_nlu/tokenizer.py",
    "danish_nlu/stop_words.txt",
)


# The packages whose versions change what training produces.
MODEL_PACKAGES = ("rasa", "tensorflow", "spacy", "spacy-lookups-data", "scikit-learn")


def rasa_package_versions(rasa_python: Path) -> dict[str, str]:
    """The versions of MODEL_PACKAGES in the Rasa environment."""
    code = (
        "import json, sys; from importlib import metadata; "
        "print(json.dumps({p: metadata.version(p) for p in sys.argv[1:]}))"
    )
    result = subprocess.run(
        [str(rasa_python), "-c", code, *MODEL_PACKAGES],
        capture_output=True, text=True, check=True, timeout=120,
    )
    return json.loads(result.stdout)


def fingerprint(
    versions: dict[str, str], root: Path = PROJECT_ROOT, config: str = "config.yml"
) -> str:
    """The model's cache key, from the Rasa environment's package ``versions``."""
    digest = hashlib.sha256(config.encode())
    for package in MODEL_PACKAGES:
        digest.update(f"{package}=={versions[package]}".encode())
    for pattern in MODEL_INPUTS:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_model(settings: Settings, force: bool = False, config: str = "config.yml") -> Path:
    model = settings.model_path
    stamp = model.with_suffix("").with_suffix(".fingerprint")
    wanted = fingerprint(rasa_package_versions(settings.rasa_python), config=config)
    if not force and model.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        print(f"Model is up to date ({model.name}, {wanted}).")
        return model
    cached = settings.cache_dir / "models" / f"{wanted}.tar.gz"
    model.parent.mkdir(parents=True, exist_ok=True)
    if not force and cached.exists():
        shutil.copyfile(cached, model)
        print(f"Model taken from the cache ({cached}).")
    else:
        _train(settings.rasa_python, model, config)
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model, cached)
    stamp.write_text(wanted + "\n")
    return model


def _train(rasa_python: Path, model: Path, config: str) -> None:
    started = time.monotonic()
    command = [
        str(rasa_python), "-m", "rasa", "train",
        "--config", config, "--domain", "domain.yml", "--data", "data",
        "--out", str(model.parent), "--fixed-model-name", model.name.removesuffix(".tar.gz"),
    ]
    print("Training the model (data, domain or config changed) ...", flush=True)
    subprocess.run(command, cwd=PROJECT_ROOT, check=True)
    print(f"Training took {time.monotonic() - started:.0f} s.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    parser.add_argument("--config", default="config.yml")
    args = parser.parse_args(argv)
    ensure_model(load_settings(), force=args.force, config=args.config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
