#!/usr/bin/env bash
# The GPU checklist in one command, for a machine with an NVIDIA GPU and CuPy:
#   bash benchmarks/gpu_check.sh [env] [tests] [full] [dist] [bench] [train] [profile]
# (no argument: env tests dist bench train; `full` runs the whole suite, CPU tests too). Logs and results go to $OUT (default /tmp/gradkit-gpu-check);
# the end of each log is printed. Runs from a source checkout (PYTHONPATH=.) with the system
# python3, so nothing has to be installed beyond CuPy, pytest and (for comparisons) PyTorch.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gradkit-gpu-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=${PYTHON:-python3}
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(env tests dist bench train)

for step in "${steps[@]}"; do
  echo "=== $step ($(date +%T))"
  case $step in
    env)
      nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv
      $PY -c "import sys, numpy, cupy; print(sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', cupy.__version__)"
      $PY -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())" || true
      $PY -c "import gradkit as gk; print('gradkit cuda available:', gk.cuda.is_available())"
      command -v mpiexec || echo "no mpiexec"
      ;;
    tests)
      timeout 480 $PY -m pytest tests -k "cuda or gpu" -q -n 8 -p no:cacheprovider --ignore=tests/distributed \
        -rfE --maxfail=60 >"$OUT/cuda_tests.log" 2>&1
      echo "pytest exit $?"; grep -E "passed|failed|error" "$OUT/cuda_tests.log" | tail -3
      grep -E "^(FAILED|ERROR)" "$OUT/cuda_tests.log" | head -60
      ;;
    full)
      timeout 540 $PY -m pytest tests -q -n 8 -p no:cacheprovider -rfE >"$OUT/full_tests.log" 2>&1
      echo "pytest exit $?"; grep -E "passed|failed|error" "$OUT/full_tests.log" | tail -3
      grep -E "^(FAILED|ERROR)" "$OUT/full_tests.log" | head -60
      ;;
    dist)
      timeout 240 $PY -m pytest tests/distributed/test_gpu.py -q -p no:cacheprovider -rfEs \
        >"$OUT/dist_gpu.log" 2>&1
      echo "pytest exit $?"; tail -15 "$OUT/dist_gpu.log"
      ;;
    bench)
      timeout 420 $PY benchmarks/gpu.py --repeats "${REPEATS:-5}" --json "$OUT/gpu.json" \
        >"$OUT/gpu_bench.log" 2>&1
      echo "bench exit $?"; tail -25 "$OUT/gpu_bench.log"
      ;;
    train)
      rm -rf /tmp/gk-run
      timeout 300 $PY -m gradkit train --dataset mnist --device cuda --out /tmp/gk-run --quiet \
        >"$OUT/train_cuda.log" 2>&1
      echo "train exit $?"; tail -12 "$OUT/train_cuda.log"
      cp /tmp/gk-run/history.json "$OUT/train_history.json" 2>/dev/null || true
      ;;
    profile)
      timeout 240 $PY benchmarks/gpu_profile.py >"$OUT/profile.log" 2>&1
      echo "profile exit $?"; tail -60 "$OUT/profile.log"
      ;;
    *) echo "unknown step $step"; exit 2 ;;
  esac
done
