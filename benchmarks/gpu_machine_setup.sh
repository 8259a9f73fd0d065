# Sourced by the GPU scripts (gpu_paper_rows.sh, gpu_train_runs.sh): make a bare GPU machine,
# which has no network, ready to train. Installs the wheels carried in .whl/ (made by
# `bash benchmarks/gpu_paper_rows.sh --prepare`), builds the MNIST cache from the IDX files
# carried in .devdata/mnist/, and prints the GPU.
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
export RAM_ENV_DATA=${RAM_ENV_DATA:-/tmp/ram-env-data} PYTHONUNBUFFERED=1
export RAM_ENV_MNIST_DIR=${RAM_ENV_MNIST_DIR:-$PWD/.devdata/mnist}
python3 -m ram_env.data fetch --quiet || exit 1
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader 2>/dev/null
