"""Train the Rasa model only when its inputs changed; reuse a cached model when possible.

The fingerprint covers everything that shapes the model (config, domain, training data, the
custom NLU code and the versions of the ML packages). A model trained for the same fingerprint
is kept in the cache directory, so a fresh clone on the same machine (CI) does not train again.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from bot.core.config import PROJECT_ROOT, get_settings

MODEL_INPUTS = (
    "config.yml",
    "domain.yml",
    "data/**/*.yml",
    # The tokenizer component, its fold() and lemma lookup, the vendored stop words.
    "danish_nlu/*.py",
    "danish_nlu/*.txt",
)


# The packages whose versions change what training produces.
MODEL_PACKAGES = ("rasa", "tensorflow", "spacy", "spacy-lookups-data", "scikit-learn")


def fingerprint(root: Path = PROJECT_ROOT, config: str = "config.yml") -> str:
    digest = hashlib.sha256(config.encode())
    for package in MODEL_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}".encode())
    for pattern in MODEL_INPUTS:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_model(force: bool = False, config: str = "config.yml") -> Path:
    settings = get_settings()
    model = settings.model_path
    stamp = model.with_suffix("").with_suffix(".fingerprint")
    wanted = fingerprint(config=config)
    if not force and model.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        print(f"Model is up to date ({model.name}, {wanted}).")
        return model
    cached = settings.cache_dir / "models" / f"{wanted}.tar.gz"
    model.parent.mkdir(parents=True, exist_ok=True)
    if not force and cached.exists():
        shutil.copyfile(cached, model)
        print(f"Model taken from the cache ({cached}).")
    else:
        _train(model, config)
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model, cached)
    stamp.write_text(wanted + "\n")
    return model


def _train(model: Path, config: str) -> None:
    started = time.monotonic()
    command = [
        sys.executable, "-m", "rasa", "train",
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
    ensure_model(force=args.force, config=args.config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
