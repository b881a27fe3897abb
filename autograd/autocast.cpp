// autograd/autocast.cpp — see autocast.h.
#include "autograd/autocast.h"

#include <functional>
#include <map>
#include <mutex>

namespace bertlab {

static thread_local DType g_autocast = DType::Float32;

DType autocast_dtype() { return g_autocast; }

void set_autocast_dtype(DType t) {
  if (t != DType::Float32 && t != DType::BFloat16)
    fail(std::string("autocast: the compute dtype must be float32 or bfloat16, got ") + dtype_name(t));
  g_autocast = t;
}

AutocastGuard::AutocastGuard(DType t) : prev_(g_autocast) { set_autocast_dtype(t); }
AutocastGuard::~AutocastGuard() { g_autocast = prev_; }

DType parse_compute_dtype(const std::string& s, const std::string& what) {
  if (s == "float32" || s == "fp32") return DType::Float32;
  if (s == "bfloat16" || s == "bf16") return DType::BFloat16;
  fail(what + " must be float32 or bfloat16, got \"" + s.substr(0, 40) + "\"");
}

Tensor to_bf16(const Tensor& x) {
  if (x.dtype() == DType::BFloat16) return x.contiguous();
  if (x.device() != Device::CPU || x.dtype() != DType::Float32) return x.to(DType::BFloat16).contiguous();
  Tensor c = x.contiguous();
  Tensor out = empty(c.shape(), DType::BFloat16);
  const int64_t n = c.numel(), chunk = 16384;
  const float* src = c.data<float>();
  bfloat16* dst = out.data<bfloat16>();
#pragma omp parallel for schedule(static) if (n > 4 * chunk)
  for (int64_t i = 0; i < n; i += chunk) float_to_bf16(src + i, dst + i, std::min(chunk, n - i));
  return out;
}

Tensor round_to_bf16(const Tensor& x) {
  if (x.device() != Device::CPU || x.dtype() != DType::Float32)
    fail(std::string("round_to_bf16: expected a float32 CPU tensor, got ") + dtype_name(x.dtype()) + " on " +
         device_name(x.device()));
  Tensor c = x.contiguous();
  Tensor out = empty(c.shape());
  const int64_t n = c.numel();
  const float* src = c.data<float>();
  float* dst = out.data<float>();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_bits_to_float(float_to_bf16_bits(src[i]));
  return out;
}

namespace {

struct CacheEntry {
  std::weak_ptr<Storage> storage;
  uint64_t version;
  int64_t offset;
  Shape shape, strides;
  int kind;  // which derived form (cached_derived's `kind`)
  Tensor copy;
};
std::mutex g_mu;
std::map<const Storage*, std::vector<CacheEntry>> g_cache;
int64_t g_builds = 0;

}  // namespace

Tensor cached_derived(const Tensor& w, int kind, const std::function<Tensor()>& make) {
  const std::shared_ptr<Storage>& st = w.impl()->storage;
  std::lock_guard<std::mutex> lock(g_mu);
  auto& entries = g_cache[st.get()];
  for (auto it = entries.begin(); it != entries.end();) {
    auto live = it->storage.lock();
    if (live != st) {  // a freed storage whose address was reused
      it = entries.erase(it);
      continue;
    }
    if (it->kind == kind && it->offset == w.offset() && it->shape == w.shape() && it->strides == w.strides()) {
      if (it->version == st->version) return it->copy;
      it = entries.erase(it);  // written since: rebuild below
      continue;
    }
    ++it;
  }
  Tensor copy = make();
  entries.push_back({st, st->version, w.offset(), w.shape(), w.strides(), kind, copy});
  ++g_builds;
  // drop entries of storages that are gone (a model freed), so the cache does not grow
  for (auto it = g_cache.begin(); it != g_cache.end();) {
    bool any = false;
    for (auto& e : it->second) any = any || !e.storage.expired();
    it = any ? std::next(it) : g_cache.erase(it);
  }
  return copy;
}

Tensor cached_bf16(const Tensor& w) { return cached_derived(w, kCachedBf16, [&] { return to_bf16(w); }); }
Tensor cached_bf16_f32(const Tensor& w) { return cached_derived(w, kCachedBf16AsF32, [&] { return round_to_bf16(w); }); }

int64_t cached_bf16_builds() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_builds;
}

void clear_bf16_cache() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_cache.clear();
}

}  // namespace bertlab
