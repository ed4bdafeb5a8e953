#!/usr/bin/env bash
# Installs the whole mmssl stack into .venv at the repo root (docs/en/get_started.md).
#
#   bash tools/setup_env.sh            # idempotent; a second run on the same machine takes seconds
#
# mmcv 2.1.0 has no wheel for torch 2.14, so it is built from its sdist with two source fixes. The wheel is
# cached under $MMSSL_CACHE (default ~/.cache/mmssl) so the ~15 minute build happens once per machine.
# Environment knobs: PYTHON (interpreter for the venv, default python3.11), MMSSL_CACHE, FORCE_CUDA (0/1).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo/.venv"
cache="${MMSSL_CACHE:-$HOME/.cache/mmssl}"
python_bin="${PYTHON:-python3.11}"
force_cuda="${FORCE_CUDA:-0}"
mkdir -p "$cache"

log() { printf '[setup_env] %s\n' "$*" >&2; }

install_fashion_mnist() {
    if [ -d /usr/share/datasets/fashion-mnist ]; then return; fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        log "installing Debian package dataset-fashion-mnist"
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null ||
            log "WARNING: could not install dataset-fashion-mnist; pass --idx-dir to the demo converter"
    else
        log "apt-get unavailable: install Fashion-MNIST idx files yourself for the demo"
    fi
}

# The stamp records every input of the install; an unchanged stamp means nothing to do.
stamp_inputs() {
    cat "$repo"/requirements/*.txt "$repo/setup.py" "$repo/tools/setup_env.sh"
    echo "force_cuda=$force_cuda"
}
stamp_value=$(stamp_inputs | sha256sum | cut -d' ' -f1)
stamp_file="$venv/.mmssl-setup-stamp"

install_fashion_mnist

if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp_value" ] && [ -x "$venv/bin/python" ]; then
    log "environment up to date ($venv)"
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv with $python_bin"
    "$python_bin" -m venv "$venv"
fi
py="$venv/bin/python"
pip_install() { "$py" -m pip install --disable-pip-version-check -q "$@"; }

# mmcv's setup.py imports pkg_resources, which setuptools 81 removed.
pip_install -U -r "$repo/requirements/build.txt"
pip_install -r "$repo/requirements/runtime.txt"

torch_version=$("$py" -c 'import torch; print(torch.__version__.split("+")[0])')
wheel_dir="$cache/mmcv-2.1.0-torch$torch_version-cuda$force_cuda"
if ! ls "$wheel_dir"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    log "building mmcv 2.1.0 with ops (once per machine, ~15 min on 2 cores)"
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    "$py" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: --no-build-isolation \
        -d "$build" mmcv==2.1.0
    tar -xzf "$build"/mmcv-2.1.0.tar.gz -C "$build"
    src="$build/mmcv-2.1.0"
    # torch 2.14 headers require C++20.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    # numpy 2: np.uint8 of a negative float overflows; numpy 1 wrapped it modulo 256.
    sed -i 's/np\.uint8(hue_factor \* 255)/np.uint8(int(hue_factor * 255) % 256)/' "$src/mmcv/image/photometric.py"
    grep -q 'int(hue_factor \* 255) % 256' "$src/mmcv/image/photometric.py" ||
        { log "ERROR: hue fix did not apply to mmcv/image/photometric.py"; exit 1; }
    grep -q -- '-std=c++20' "$src/setup.py" || { log "ERROR: C++20 fix did not apply to setup.py"; exit 1; }
    (cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA="$force_cuda" MAX_JOBS="$(nproc)" \
        "$py" -m pip wheel --disable-pip-version-check -q --no-build-isolation --no-deps -w "$build/dist" .)
    # Debug symbols make the wheel 32 MB; stripped it is ~1.4 MB.
    whl=$(ls "$build"/dist/mmcv-2.1.0-*.whl)
    "$py" -m wheel unpack -d "$build/unpacked" "$whl"
    find "$build/unpacked" -name '_ext*.so' -exec strip --strip-debug {} +
    rm "$whl"
    "$py" -m wheel pack -d "$build/dist" "$build"/unpacked/mmcv-2.1.0
    whl=$(ls "$build"/dist/mmcv-2.1.0-*.whl)
    mkdir -p "$wheel_dir.tmp" && cp "$whl" "$wheel_dir.tmp/" && mv "$wheel_dir.tmp" "$wheel_dir"
fi
pip_install "$(ls "$wheel_dir"/mmcv-2.1.0-*.whl)"

pip_install -r "$repo/requirements/dense.txt" -r "$repo/requirements/tools.txt" -r "$repo/requirements/tests.txt"
pip_install --no-build-isolation --no-deps -e "$repo"
"$py" -c 'import mmcv.ops, mmssl; print("mmcv", mmcv.__version__, "ops ok; mmssl", mmssl.__version__)'
echo "$stamp_value" > "$stamp_file"
log "done: activate with 'source $venv/bin/activate'"
