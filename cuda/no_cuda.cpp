// cuda/no_cuda.cpp — the CUDA API in a build without CUDA: nothing is available, and every
// call that would touch a device throws "built without CUDA".
#include "autograd/tensor.h"
#include "cuda/attention.h"
#include "cuda/copy.h"
#include "cuda/cuda.h"
#include "cuda/elementwise.h"
#include "cuda/gemm.h"
#include "cuda/optim.h"
#include "cuda/reduce.h"
#include "cuda/cross_entropy.h"
#include "cuda/dropout.h"
#include "cuda/embedding.h"
#include "cuda/index.h"
#include "cuda/layernorm.h"
#include "cuda/softmax.h"

namespace bertlab::cuda {

[[noreturn]] static void no_cuda(const char* what) {
  fail(std::string(what) + ": bertlab was built without CUDA (configure with -Dcuda=enabled on a machine with nvcc)");
}

bool built() { return false; }
bool available() { return false; }
int device_count() { return 0; }
std::string device_name() { return "none"; }
void require(const char* what) { no_cuda(what); }

void* malloc(size_t) { no_cuda("cuda::malloc"); }
void free(void*) {}
void empty_cache() {}
AllocatorStats allocator_stats() { return {}; }
void memcpy_h2d(void*, const void*, size_t) { no_cuda("memcpy_h2d"); }
void memcpy_d2h(void*, const void*, size_t) { no_cuda("memcpy_d2h"); }
void memcpy_d2d(void*, const void*, size_t) { no_cuda("memcpy_d2d"); }
void memset_zero(void*, size_t) { no_cuda("memset_zero"); }
void synchronize() {}
void set_device(int) {}
bool nccl_built() { return false; }
std::string nccl_unique_id() { no_cuda("NCCL"); }
void nccl_init(int, int, const std::string&) { no_cuda("NCCL"); }
void nccl_allreduce_sum(void*, size_t, bool) { no_cuda("NCCL"); }
void nccl_broadcast(void*, size_t) { no_cuda("NCCL"); }
void profiler_start() {}
void profiler_stop() {}

void copy_strided(void*, DType, const Layout&, const void*, DType, const Layout&) { no_cuda("copy"); }
void fill(void*, DType, const Layout&, double) { no_cuda("fill"); }
void fill_random(void*, DType, int64_t, uint64_t, uint64_t, RandomKind, double, double) { no_cuda("random"); }
void accumulate(void*, DType, int64_t, const void*) { no_cuda("accumulate"); }

void unary(UnaryOp, DType, int64_t, const void*, void*, double) { no_cuda("unary op"); }
void unary_backward(UnaryBackOp, DType, int64_t, const void*, const void*, void*, double) { no_cuda("unary backward"); }
void binary(BinaryOp, DType, const Layout&, void*, const void*, const Layout&, const void*, const Layout&) { no_cuda("binary op"); }

void reduce(ReduceOp, DType, int64_t, int64_t, int64_t, const void*, void*, int64_t*) { no_cuda("reduce"); }
void reduce_max_backward(DType, int64_t, int64_t, int64_t, const void*, const int64_t*, void*) { no_cuda("max backward"); }

void gemm(DType, bool, bool, int64_t, int64_t, int64_t, double, const void*, int64_t, int64_t, const void*, int64_t,
          int64_t, double, void*, int64_t, int64_t, int64_t) { no_cuda("gemm"); }
void gemm(DType, bool, bool, int64_t, int64_t, int64_t, double, const void*, int64_t, const void*, int64_t, double,
          void*, int64_t, int64_t, const BatchStrides&) { no_cuda("gemm"); }
void set_allow_tf32(bool) {}
bool allow_tf32() { return false; }

void softmax_forward(DType, void*, const void*, int64_t, int64_t, bool) { no_cuda("softmax"); }
void softmax_backward(DType, void*, const void*, const void*, int64_t, int64_t, bool) { no_cuda("softmax backward"); }

void layernorm_forward(DType, void*, void*, void*, const void*, const void*, const void*, int64_t, int64_t, double) {
  no_cuda("layer_norm");
}
void layernorm_backward(DType, void*, void*, void*, const void*, const void*, const void*, const void*, const void*,
                        int64_t, int64_t) { no_cuda("layer_norm backward"); }

void embedding_forward(DType, void*, const int64_t*, const void*, int64_t, int64_t, int64_t) { no_cuda("embedding"); }
void embedding_backward(DType, void*, const int64_t*, const void*, int64_t, int64_t, int64_t) { no_cuda("embedding backward"); }

void dropout_apply(DType, void*, const void*, int64_t, double, uint64_t, uint64_t) { no_cuda("dropout"); }

void cross_entropy_forward(DType, void*, void*, const void*, const int64_t*, int64_t, int64_t, int64_t) {
  no_cuda("cross_entropy");
}
void cross_entropy_backward(DType, void*, const void*, const void*, const void*, const int64_t*, int64_t, int64_t,
                            int64_t) { no_cuda("cross_entropy backward"); }

int64_t first_bad_index(const int64_t*, int64_t, int64_t, bool, int64_t) { no_cuda("index check"); }
void set_deferred_index_checks(bool) {}
bool deferred_index_checks() { return false; }
void check_index_deferred(const int64_t*, int64_t, int64_t, bool, int64_t, std::function<std::string(int64_t)>) {
  no_cuda("index check");
}
void raise_deferred_index_errors() {}
void index_select_forward(DType, void*, const void*, const int64_t*, int64_t, int64_t, int64_t, int64_t) {
  no_cuda("index_select");
}
void index_select_backward(DType, void*, const void*, const int64_t*, int64_t, int64_t, int64_t, int64_t) {
  no_cuda("index_select backward");
}
void gather_forward(DType, void*, const void*, const Layout&, const int64_t*, const Layout&, int) { no_cuda("gather"); }
void gather_backward(DType, void*, const Layout&, const void*, const int64_t*, const Layout&, int) {
  no_cuda("gather backward");
}
void where(DType, const Layout&, void*, const void*, const Layout&, const void*, const Layout&, const void*,
           const Layout&) { no_cuda("where"); }

void adamw_step(DType, int64_t, void*, const void*, void*, void*, double, double, double, double, double, double,
                double) { no_cuda("adamw"); }
void sum_squares(DType, int64_t, const void*, double*) { no_cuda("sum_squares"); }
void clip_coefficient(const double*, int64_t, double, double*, double*) { no_cuda("clip_coefficient"); }
void scale_by_device_scalar(DType, int64_t, void*, const double*) { no_cuda("scale_by_device_scalar"); }

void attention_forward(DType, const AttnArgs&) { no_cuda("scaled_dot_product_attention"); }
void attention_backward(DType, const AttnArgs&, const AttnGrads&) { no_cuda("scaled_dot_product_attention backward"); }

}  // namespace bertlab::cuda
