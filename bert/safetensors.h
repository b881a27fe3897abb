// bert/safetensors.h — read and write Hugging Face safetensors checkpoints.
//
// Format (huggingface/safetensors README and its reference reader, safetensors/src/tensor.rs):
//
//   8 bytes   N, little-endian u64: the header length (at most 100,000,000)
//   N bytes   UTF-8 JSON object: {"name": {"dtype": "F32", "shape": [2, 3],
//                                           "data_offsets": [begin, end]}, ...,
//                                  "__metadata__": {"key": "value", ...}}   (optional)
//   the rest  the data buffer; offsets are relative to its first byte; row-major,
//             little-endian elements
//
// The reader checks the header as strictly as the reference does, and a little more: the
// tensors' byte ranges, sorted by offset, must tile the data buffer exactly (no overlap,
// no hole, no trailing bytes), each range must hold exactly numel * element size bytes,
// and shape * element size must not overflow. Beyond the reference it also rejects
// duplicate JSON keys (serde keeps the last silently), keys other than dtype / shape /
// data_offsets in a tensor entry (serde ignores them), and JSON nested deeper than any
// header needs. Every failure throws bertlab::Error naming the file, the tensor and what
// was wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace bertlab::safetensors {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference's MAX_HEADER_SIZE

// One header entry, as the file states it.
struct TensorInfo {
  std::string dtype;   // "F32", "F16", "BF16", "F64", "I64", "I32", ... (any reference dtype)
  Shape shape;         // [] for a 0-d tensor
  uint64_t begin = 0;  // byte range [begin, end) in the data buffer (after the header)
  uint64_t end = 0;
};

// A checkpoint opened for reading: the file is mapped read-only (mmap) and its header
// checked once, here; load() then copies (and converts) one tensor at a time. As with any
// mmap reader, a file truncated by another process while it is open ends this one with
// SIGBUS on the next load(); save() never does that to a file (it renames a new one over it).
class File {
 public:
  explicit File(const std::string& path);
  // The same checks over bytes in memory (the fuzz target uses it); `name` stands in for
  // the path in error messages.
  static File from_memory(std::vector<uint8_t> bytes, std::string name = "<memory>");

  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  const std::string& path() const { return path_; }
  // Tensor names in header order (the order of the JSON object's keys; files written by
  // the reference list them by offset, ours in the order save() was given).
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const { return infos_.count(name) != 0; }
  const TensorInfo& info(const std::string& name) const;  // throws for an unknown name
  // The "__metadata__" object (empty when the file has none).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // A new CPU tensor with the values of `name`:
  //   load(name)      BF16 as bfloat16 (bit for bit), the other floating dtypes (F64, F32,
  //                   F16) as float32, integer dtypes (I64, I32, I16, I8, U32, U16, U8, BOOL)
  //                   as int64;
  //   load(name, to)  as `to`: floating dtypes to float32, float64 or bfloat16 (narrowing
  //                   rounds to nearest-even, once), integer dtypes to int64, float32,
  //                   float64 or bfloat16.
  // F16 and BF16 widen exactly (subnormals, infinities, NaN and -0 included). Other
  // dtypes (U64, F8_*, F4, F6_*, C64) are recognised in the header but not loadable.
  Tensor load(const std::string& name) const;
  Tensor load(const std::string& name, DType to) const;

 private:
  File() = default;
  void parse_header();  // fills names_, infos_, metadata_ from bytes_ / size_
  [[noreturn]] void fail_at(const std::string& what) const;
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& what) const;

  std::string path_;
  const uint8_t* bytes_ = nullptr;  // the whole file
  size_t size_ = 0;
  bool mapped_ = false;          // bytes_ is an mmap of size_ bytes (else owned_ holds them)
  std::vector<uint8_t> owned_;   // from_memory
  uint64_t data_start_ = 0;      // 8 + header length
  std::vector<std::string> names_;
  std::unordered_map<std::string, TensorInfo> infos_;
  std::map<std::string, std::string> metadata_;
};

// Writes `tensors` (float32 as F32, float64 as F64, int64 as I64; any device, any layout)
// to `path`. The header lists them in the order given (so File::names() gives that order
// back) after "__metadata__" (omitted when `metadata` is empty), and is padded with spaces
// to a multiple of 8 bytes; the data follow with wider elements first (stable), as the
// reference writer lays them out, so that each tensor starts aligned to its element size. The write is atomic: the bytes go to `path + ".tmp.<pid>"`, which
// is fsync'ed and then renamed over `path`; on any failure the temporary file is removed,
// `path` is left as it was, and bertlab::Error names the path and the system's reason.
void save(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
          const std::map<std::string, std::string>& metadata = {});

// Element conversions, exposed for the tests.
float half_to_float(uint16_t h);      // IEEE 754 binary16 -> binary32, exact
float bfloat16_to_float(uint16_t b);  // bfloat16 -> binary32, exact
// The size in bits of one element of a safetensors dtype, or 0 for an unknown name.
int dtype_bits(const std::string& dtype);

}  // namespace bertlab::safetensors
