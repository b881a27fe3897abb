#!/usr/bin/env bash
# tests/cuda/emu/run.sh — builds the CUDA tests (tests/cuda) against the kernels of cuda/*.cu
# run by a small emulator on the CPU (fake/emu.h), and runs them. Extra arguments go to the
# doctest binary (e.g. -tc="*layer_norm*").
#
# This checks the kernels' logic where there is no GPU: indexing, grid-stride loops, the
# row-group and split reductions, barrier placement (a barrier not every thread reaches is a
# deadlock here), the allocator, the GEMM argument translation (on OpenBLAS, column-major),
# and the host code around the launches. It is NOT a GPU test: it cannot see races that a
# sequential order hides, the GPU's math library, launch resource limits or performance.
# The real check is tools/gpu_check.sh on a machine with a GPU.
#
# g++ only (no nvcc); builds in build-emu/ (about 2 minutes on 2 cores).
#
# BERTLAB_EMU_ORDER=forward|reverse|shuffle (and BERTLAB_EMU_SEED=N for shuffle) picks the order
# in which each block's threads run between barriers (fake/emu.cpp): a kernel that reads another
# thread's write without a barrier between them passes in one order and fails in another.
#
# `run.sh --build OUT` only builds, into OUT (its objects in OUT's folder): the meson build does
# this (tests/cuda/meson.build) and runs the result in all three orders (suite 'cuda').
set -euo pipefail
OUT=""
if [ "${1:-}" = "--build" ]; then
  OUT=$(realpath -m "$2")
  shift 2
fi
cd "$(dirname "$0")/../../.."
B=build-emu
[ -z "$OUT" ] || B=$(dirname "$OUT")/emu
rm -rf "$B/cuda" "$B/obj"  # (no stale copies of a removed or skipped file)
mkdir -p "$B/cuda" "$B/obj"

# 1. cuda/*.cu with each  kernel<<<grid, block, smem, stream>>>(args);  rewritten as
#    emu_launch(grid, block, smem, stream, [&] { kernel(args); });
python3 - "$B" <<'PY'
import glob, os, re, sys
out = sys.argv[1] + "/cuda/"
launch = re.compile(r"(?P<k>[A-Za-z_]\w*(?:<[^<>;{}]*>)?)\s*<<<(?P<cfg>.*?)>>>\s*\((?P<args>.*?)\);", re.S)
# (nccl.cu talks to the real NCCL library: the emulator links cuda/no_nccl.cpp instead)
for f in sorted(set(glob.glob("cuda/*.cu")) - {"cuda/nccl.cu"} | set(glob.glob("cuda/*.cuh"))):
    s = launch.sub(lambda m: "emu_launch(%s, [&] { %s(%s); });" % (m["cfg"], m["k"], m["args"]), open(f).read())
    open(out + os.path.basename(f), "w").write(s)
PY

# 2. compile: the emulated backend, and the CPU code with the project's own flags (the CPU's
#    random fills are contracted into FMAs at -O2 and above, and the kernels match that)
multiarch=$(g++ -print-multiarch 2>/dev/null || true)
BLAS_INC=/usr/include/$multiarch/openblas-openmp
BLAS_LIB=/usr/lib/$multiarch/openblas-openmp
[ -e "$BLAS_INC/cblas.h" ] || { BLAS_INC=$(pkg-config --variable=includedir openblas); BLAS_LIB=$(pkg-config --variable=libdir openblas); }
EMU_FLAGS=(-x c++ -std=c++20 -O1 -g -fopenmp -w -include tests/cuda/emu/fake/emu.h -I"$B" -Itests/cuda/emu/fake -I. -I"$BLAS_INC")
CPU_FLAGS=(-std=c++20 -O3 -march=native -fopenmp -Wno-unused-parameter -I. -I"$BLAS_INC")
jobs=()
compile() {  # compile <object> <flags and source...>
  local obj=$1; shift
  g++ "$@" -c -o "$B/obj/$obj" &
  jobs+=($!)
  if [ ${#jobs[@]} -ge "$(nproc)" ]; then wait "${jobs[0]}"; jobs=("${jobs[@]:1}"); fi
}
for f in "$B"/cuda/*.cu; do compile "cu_$(basename "$f" .cu).o" "${EMU_FLAGS[@]}" "$f"; done
compile emu.o -std=c++20 -O1 -g tests/cuda/emu/fake/emu.cpp
compile no_nccl.o "${CPU_FLAGS[@]}" cuda/no_nccl.cpp
# test_bert_cuda.cpp is its own executable (with main() and the BERT model): not part of test_cuda
for f in autograd/*.cpp ops/*.cpp ops/cpu/*.cpp tests/gradcheck.cpp $(ls tests/cuda/*.cpp | grep -v test_bert_cuda.cpp); do
  compile "$(echo "$f" | tr '/' '_' | sed 's/\.cpp$/.o/')" "${CPU_FLAGS[@]}" "$f"
done
for j in "${jobs[@]}"; do wait "$j"; done
g++ -fopenmp "$B"/obj/*.o -L"$BLAS_LIB" -lopenblas -Wl,-rpath,"$BLAS_LIB" -o "$B/test_cuda_emu"

# 3. run
if [ -n "$OUT" ]; then
  cp "$B/test_cuda_emu" "$OUT"
  exit 0
fi
"$B/test_cuda_emu" "$@"
