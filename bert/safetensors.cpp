// bert/safetensors.cpp — the safetensors reader (mmap + strict header checks + dtype
// conversion) and the atomic writer. Format and rules: see bert/safetensors.h; the checks
// follow the reference reader (huggingface/safetensors, safetensors/src/tensor.rs:
// read_metadata and Metadata::validate).
#include "bert/safetensors.h"

#include "autograd/bfloat16.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace bertlab::safetensors {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian elements; this reader copies them as they are");

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------
// dtypes: every name the reference knows, with its size in bits.

int dtype_bits(const std::string& d) {
  static const std::unordered_map<std::string, int> bits = {
      {"BOOL", 8},    {"F4", 4},       {"F6_E2M3", 6},  {"F6_E3M2", 6},  {"U8", 8},
      {"I8", 8},      {"F8_E5M2", 8},  {"F8_E4M3", 8},  {"F8_E8M0", 8},  {"I16", 16},
      {"U16", 16},    {"F16", 16},     {"BF16", 16},    {"I32", 32},     {"U32", 32},
      {"F32", 32},    {"C64", 64},     {"F64", 64},     {"I64", 64},     {"U64", 64},
  };
  auto it = bits.find(d);
  return it == bits.end() ? 0 : it->second;
}

float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf, NaN
  if (exp != 0)  // normal: rebias the exponent from 15 to 127, widen the mantissa
    return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
  // zero or subnormal: mant * 2^-24, exact in float32
  float v = (float)mant * 0x1p-24f;
  return sign ? -v : v;
}

float bfloat16_to_float(uint16_t b) { return std::bit_cast<float>((uint32_t)b << 16); }

// ---------------------------------------------------------------------------------------
// Opening

namespace {

const char* json_kind(const json& j) {
  switch (j.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    case json::value_t::number_unsigned: return "a non-negative integer";
    case json::value_t::number_integer: return "a negative integer";
    case json::value_t::number_float: return "a non-integer number";
    default: return "an unusual JSON value";
  }
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

std::string shape_text(const std::vector<uint64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::string range_text(uint64_t b, uint64_t e) { return shape_text({b, e}); }

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Parses JSON as nlohmann does, but also rejects a key repeated in one object (nlohmann
// would keep the last), records the order of the top-level keys, and refuses nesting
// deeper than kMaxDepth (a header needs 3: object, entry, shape).
struct HeaderParser {
  static constexpr int kMaxDepth = 16;
  std::vector<std::unordered_set<std::string>> open_objects;
  std::vector<std::string> top_keys;
  std::string current_top_key;
  std::string error;  // set before throwing out of the callback

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxDepth) {
          error = "header nests JSON " + std::to_string(kMaxDepth) +
                  " levels deep; a safetensors header needs 3";
          throw Error(error);
        }
        open_objects.emplace_back();  // an array holds no keys but keeps the stack in step
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key: {
        const std::string& k = parsed.get_ref<const std::string&>();
        if (!open_objects.empty() && !open_objects.back().insert(k).second) {
          error = depth == 1 ? "duplicate key " + in_quotes(k) + " in the header"
                             : "duplicate key " + in_quotes(k) + " inside the entry " +
                                   in_quotes(current_top_key);
          throw Error(error);
        }
        if (depth == 1) {
          top_keys.push_back(k);
          current_top_key = k;
        }
        break;
      }
      case json::parse_event_t::value: break;
    }
    return true;
  }
};

}  // namespace

void File::fail_at(const std::string& what) const { throw Error(path_ + ": " + what); }
void File::fail_tensor(const std::string& name, const std::string& what) const {
  throw Error(path_ + ": tensor " + in_quotes(name) + ": " + what);
}

File::File(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_at(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    fail_at(std::string("cannot stat: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail_at("not a regular file");
  }
  size_ = (size_t)st.st_size;
  if (size_ > 0) {  // mmap of 0 bytes is an error; an empty file fails the checks below
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      fail_at(std::string("cannot mmap: ") + std::strerror(e));
    }
    bytes_ = (const uint8_t*)p;
    mapped_ = true;
  }
  ::close(fd);  // the mapping keeps the file open
  try {
    parse_header();
  } catch (...) {
    if (mapped_) ::munmap((void*)bytes_, size_);
    mapped_ = false;
    bytes_ = nullptr;
    throw;
  }
}

File File::from_memory(std::vector<uint8_t> bytes, std::string name) {
  File f;
  f.path_ = std::move(name);
  f.owned_ = std::move(bytes);
  f.bytes_ = f.owned_.data();
  f.size_ = f.owned_.size();
  f.parse_header();
  return f;
}

File::File(File&& o) noexcept { *this = std::move(o); }

File& File::operator=(File&& o) noexcept {
  if (this == &o) return *this;
  if (mapped_) ::munmap((void*)bytes_, size_);
  path_ = std::move(o.path_);
  owned_ = std::move(o.owned_);  // a moved vector keeps its buffer, so bytes_ stays valid
  bytes_ = o.bytes_;
  size_ = o.size_;
  mapped_ = o.mapped_;
  data_start_ = o.data_start_;
  names_ = std::move(o.names_);
  infos_ = std::move(o.infos_);
  metadata_ = std::move(o.metadata_);
  o.bytes_ = nullptr;
  o.size_ = 0;
  o.mapped_ = false;
  return *this;
}

File::~File() {
  if (mapped_) ::munmap((void*)bytes_, size_);
}

void File::parse_header() {
  // 1. The length field and the header's bounds (reference: HeaderTooSmall, HeaderTooLarge,
  //    InvalidHeaderLength).
  if (size_ < 8)
    fail_at("file is " + std::to_string(size_) +
            " bytes, too short for the 8-byte header length");
  uint64_t n = read_u64_le(bytes_);
  if (n > kMaxHeaderBytes)
    fail_at("header length " + std::to_string(n) + " exceeds the limit of " +
            std::to_string(kMaxHeaderBytes) + " bytes");
  if (n > size_ - 8)
    fail_at("header length " + std::to_string(n) + " runs past the end of the file (" +
            std::to_string(size_ - 8) + " bytes follow the length field)");
  data_start_ = 8 + n;
  const uint64_t data_size = size_ - data_start_;

  // 2. JSON (nlohmann rejects ill-formed UTF-8 in strings, as the reference's from_utf8 does).
  const char* text = (const char*)bytes_ + 8;
  HeaderParser hp;
  json header;
  try {
    header = json::parse(text, text + n, std::ref(hp), /*allow_exceptions=*/true);
  } catch (const Error&) {
    fail_at(hp.error);
  } catch (const json::exception& e) {
    fail_at(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail_at(std::string("header is ") + json_kind(header) + ", not a JSON object");

  // 3. Each entry, in header order.
  struct Range {
    uint64_t begin, end;
    size_t index;  // in names_
  };
  std::vector<Range> ranges;
  for (const std::string& key : hp.top_keys) {
    const json& entry = header.at(key);
    if (key == "__metadata__") {
      if (!entry.is_object())
        fail_at(std::string("\"__metadata__\" is ") + json_kind(entry) +
                ", not an object of strings");
      for (const auto& [mk, mv] : entry.items()) {
        if (!mv.is_string())
          fail_at("\"__metadata__\" value for key " + in_quotes(mk) + " is " + json_kind(mv) +
                  ", not a string");
        metadata_[mk] = mv.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object())
      fail_tensor(key, std::string("entry is ") + json_kind(entry) + ", not an object");
    for (const auto& [field, value] : entry.items())
      if (field != "dtype" && field != "shape" && field != "data_offsets")
        fail_tensor(key, "unexpected key " + in_quotes(field) +
                             " (an entry holds exactly dtype, shape and data_offsets)");
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(field)) fail_tensor(key, std::string("missing \"") + field + "\"");

    // dtype
    const json& jd = entry["dtype"];
    if (!jd.is_string()) fail_tensor(key, std::string("dtype is ") + json_kind(jd) + ", not a string");
    std::string dtype = jd.get<std::string>();
    int bits = dtype_bits(dtype);
    if (bits == 0) fail_tensor(key, "unknown dtype " + in_quotes(dtype));

    // shape: non-negative integers whose product times the element size fits in 64 bits
    // (reference: ValidationOverflow, with the same left-to-right checked products).
    const json& js = entry["shape"];
    if (!js.is_array()) fail_tensor(key, std::string("shape is ") + json_kind(js) + ", not an array");
    std::vector<uint64_t> dims;
    for (size_t i = 0; i < js.size(); ++i) {
      const json& v = js[i];
      if (!v.is_number_unsigned())
        fail_tensor(key, "shape entry " + std::to_string(i) + " is " + json_kind(v) + " (" +
                             v.dump() + "), not a non-negative integer");
      uint64_t d = v.get<uint64_t>();
      if (d > (uint64_t)std::numeric_limits<int64_t>::max())
        fail_tensor(key, "shape entry " + std::to_string(i) + " is " + std::to_string(d) +
                             ", larger than a tensor dimension can be");
      dims.push_back(d);
    }
    uint64_t numel = 1, nbits = 0;
    bool overflow = false;
    for (uint64_t d : dims) overflow = overflow || __builtin_mul_overflow(numel, d, &numel);
    overflow = overflow || __builtin_mul_overflow(numel, (uint64_t)bits, &nbits);
    if (overflow)
      fail_tensor(key, dtype + " shape " + shape_text(dims) +
                           ": the size in bytes overflows 64 bits");
    if (nbits % 8 != 0)
      fail_tensor(key, dtype + " shape " + shape_text(dims) + " is " + std::to_string(nbits) +
                           " bits, not a whole number of bytes");
    const uint64_t nbytes = nbits / 8;

    // data_offsets: [begin, end], inside the data buffer, holding exactly nbytes.
    const json& jo = entry["data_offsets"];
    if (!jo.is_array() || jo.size() != 2)
      fail_tensor(key, "data_offsets is " + (jo.is_array() ? "an array of " + std::to_string(jo.size()) + " values" : std::string(json_kind(jo))) +
                           ", not [begin, end]");
    for (size_t i = 0; i < 2; ++i)
      if (!jo[i].is_number_unsigned())
        fail_tensor(key, std::string("data_offsets ") + (i ? "end" : "begin") + " is " +
                             json_kind(jo[i]) + " (" + jo[i].dump() +
                             "), not a non-negative integer");
    uint64_t b = jo[0].get<uint64_t>(), e = jo[1].get<uint64_t>();
    if (b > e) fail_tensor(key, "data_offsets " + range_text(b, e) + ": begin is after end");
    if (e > data_size)
      fail_tensor(key, "data_offsets " + range_text(b, e) + " run past the end of the " +
                           std::to_string(data_size) + "-byte data buffer");
    if (e - b != nbytes)
      fail_tensor(key, "data_offsets " + range_text(b, e) + " hold " + std::to_string(e - b) +
                           " bytes but " + dtype + " shape " + shape_text(dims) + " needs " +
                           std::to_string(nbytes));

    TensorInfo info;
    info.dtype = std::move(dtype);
    info.shape.assign(dims.begin(), dims.end());
    info.begin = b;
    info.end = e;
    ranges.push_back({b, e, names_.size()});
    names_.push_back(key);
    infos_.emplace(key, std::move(info));
  }

  // 4. Sorted by offset, the ranges must tile the data buffer: each starts where the one
  //    before ended (reference: InvalidOffset), and the last ends at the end of the file
  //    (reference: MetadataIncompleteBuffer).
  std::stable_sort(ranges.begin(), ranges.end(), [](const Range& x, const Range& y) {
    return x.begin != y.begin ? x.begin < y.begin : x.end < y.end;
  });
  uint64_t cursor = 0;
  const Range* last = nullptr;  // the range that moved the cursor last
  for (const Range& r : ranges) {
    const std::string& name = names_[r.index];
    if (r.begin < cursor)
      fail_tensor(name, "data_offsets " + range_text(r.begin, r.end) + " overlap tensor " +
                            in_quotes(names_[last->index]) + " " + range_text(last->begin, last->end));
    if (r.begin > cursor)
      fail_tensor(name, "data_offsets " + range_text(r.begin, r.end) + " leave a hole: bytes " +
                            range_text(cursor, r.begin) +
                            " of the data buffer belong to no tensor");
    if (r.end > cursor) last = &r;
    cursor = r.end;
  }
  if (cursor != data_size)
    fail_at("the tensors cover " + std::to_string(cursor) + " bytes but the data buffer holds " +
            std::to_string(data_size) + " (trailing bytes belong to no tensor)");
}

const TensorInfo& File::info(const std::string& name) const {
  auto it = infos_.find(name);
  if (it == infos_.end()) fail_tensor(name, "no such tensor in the file");
  return it->second;
}

// ---------------------------------------------------------------------------------------
// Loading: one element conversion loop per (source dtype, target type).

namespace {

template <typename S>
S read_le(const uint8_t* p) {
  S v;
  std::memcpy(&v, p, sizeof(S));  // the data may be unaligned (header length not a multiple of 8)
  return v;
}

// dst[i] = convert(src element i); n elements. Into bfloat16 every value goes through double
// (exact for every source type), which then rounds once, to nearest-even.
template <typename T, typename S, typename F>
void convert_loop(T* dst, const uint8_t* src, int64_t n, F convert) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, bfloat16>)
      dst[i] = bfloat16((double)convert(read_le<S>(src + i * (int64_t)sizeof(S))));
    else
      dst[i] = (T)convert(read_le<S>(src + i * (int64_t)sizeof(S)));
  }
}

template <typename T>
bool convert_float_source(const std::string& dtype, T* dst, const uint8_t* src, int64_t n) {
  auto same = [](auto v) { return v; };
  if (dtype == "F32") convert_loop<T, float>(dst, src, n, same);
  else if (dtype == "F64") convert_loop<T, double>(dst, src, n, same);
  else if (dtype == "F16") convert_loop<T, uint16_t>(dst, src, n, half_to_float);
  else if (dtype == "BF16") {
    if constexpr (std::is_same_v<T, bfloat16>) std::memcpy(dst, src, (size_t)n * 2);  // bit for bit, NaN payloads too
    else convert_loop<T, uint16_t>(dst, src, n, bfloat16_to_float);
  } else return false;
  return true;
}

template <typename T>
bool convert_int_source(const std::string& dtype, T* dst, const uint8_t* src, int64_t n) {
  auto same = [](auto v) { return v; };
  if (dtype == "I64") convert_loop<T, int64_t>(dst, src, n, same);
  else if (dtype == "I32") convert_loop<T, int32_t>(dst, src, n, same);
  else if (dtype == "I16") convert_loop<T, int16_t>(dst, src, n, same);
  else if (dtype == "I8") convert_loop<T, int8_t>(dst, src, n, same);
  else if (dtype == "U32") convert_loop<T, uint32_t>(dst, src, n, same);
  else if (dtype == "U16") convert_loop<T, uint16_t>(dst, src, n, same);
  else if (dtype == "U8") convert_loop<T, uint8_t>(dst, src, n, same);
  else if (dtype == "BOOL") convert_loop<T, uint8_t>(dst, src, n, [](uint8_t v) { return v != 0; });
  else return false;
  return true;
}

bool is_float_dtype(const std::string& d) {
  return d == "F32" || d == "F64" || d == "F16" || d == "BF16";
}
bool is_int_dtype(const std::string& d) {
  return d == "I64" || d == "I32" || d == "I16" || d == "I8" || d == "U32" || d == "U16" ||
         d == "U8" || d == "BOOL";
}

}  // namespace

Tensor File::load(const std::string& name) const {
  const TensorInfo& in = info(name);
  return load(name, is_int_dtype(in.dtype) ? DType::Int64 : in.dtype == "BF16" ? DType::BFloat16 : DType::Float32);
}

Tensor File::load(const std::string& name, DType to) const {
  const TensorInfo& in = info(name);
  const bool fsrc = is_float_dtype(in.dtype), isrc = is_int_dtype(in.dtype);
  if (!fsrc && !isrc)
    fail_tensor(name, "dtype " + in.dtype +
                          " cannot be loaded (supported: F64, F32, F16, BF16, I64, I32, I16, "
                          "I8, U32, U16, U8, BOOL)");
  if (fsrc && to == DType::Int64)
    fail_tensor(name, "dtype " + in.dtype + " cannot be loaded as int64 (load it as float32, float64 or bfloat16)");
  if ((int64_t)in.shape.size() > kMaxDims)
    fail_tensor(name, "shape " + shape_str(in.shape) + " has more than " +
                          std::to_string(kMaxDims) + " dimensions");
  // A shape with a zero may multiply out (without the zero) past int64, and then the
  // strides of an empty tensor would overflow: refuse it.
  int64_t nonzero = 1;
  for (int64_t d : in.shape)
    if (d != 0 && __builtin_mul_overflow(nonzero, d, &nonzero))
      fail_tensor(name, "shape " + shape_str(in.shape) + " is too large for a tensor");

  Tensor out = empty(in.shape, to);
  const int64_t n = out.numel();
  const uint8_t* src = bytes_ + data_start_ + in.begin;
  switch (to) {
    case DType::Float32:
      fsrc ? convert_float_source(in.dtype, out.data<float>(), src, n)
           : convert_int_source(in.dtype, out.data<float>(), src, n);
      break;
    case DType::Float64:
      fsrc ? convert_float_source(in.dtype, out.data<double>(), src, n)
           : convert_int_source(in.dtype, out.data<double>(), src, n);
      break;
    case DType::BFloat16:
      fsrc ? convert_float_source(in.dtype, out.data<bfloat16>(), src, n)
           : convert_int_source(in.dtype, out.data<bfloat16>(), src, n);
      break;
    case DType::Int64: convert_int_source(in.dtype, out.data<int64_t>(), src, n); break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Saving

namespace {

// An open temporary file that removes itself unless committed.
struct TempFile {
  std::string path;
  int fd = -1;
  bool keep = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!keep && !path.empty()) ::unlink(path.c_str());
  }
};

[[noreturn]] void save_fail(const std::string& path, const std::string& what, int err) {
  throw Error("safetensors::save: cannot write " + in_quotes(path) + ": " + what +
              (err ? std::string(": ") + std::strerror(err) : std::string()));
}

void write_all(const std::string& path, int fd, const void* data, size_t n) {
  const char* p = (const char*)data;
  while (n > 0) {
    ssize_t w = ::write(fd, p, std::min<size_t>(n, 1u << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      save_fail(path, "write failed", errno);
    }
    if (w == 0) save_fail(path, "write made no progress", 0);
    p += w;
    n -= (size_t)w;
  }
}

const char* st_dtype(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::BFloat16: return "BF16";
  }
  return "?";
}

}  // namespace

void save(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
          const std::map<std::string, std::string>& metadata) {
  std::unordered_set<std::string> seen;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") save_fail(path, "\"__metadata__\" is reserved, not a tensor name", 0);
    if (!seen.insert(name).second) save_fail(path, "tensor name " + in_quotes(name) + " given twice", 0);
    if (!t.defined()) save_fail(path, "tensor " + in_quotes(name) + " is undefined", 0);
  }
  // The data: back to back from offset 0, wider elements first (stable, as the reference
  // orders them), so that each tensor starts aligned to its element size.
  std::vector<size_t> data_order(tensors.size());
  for (size_t i = 0; i < data_order.size(); ++i) data_order[i] = i;
  std::stable_sort(data_order.begin(), data_order.end(), [&](size_t a, size_t b) {
    return dtype_size(tensors[a].second.dtype()) > dtype_size(tensors[b].second.dtype());
  });
  std::vector<uint64_t> begin(tensors.size());
  uint64_t offset = 0;
  for (size_t i : data_order) {
    begin[i] = offset;
    offset += (uint64_t)tensors[i].second.numel() * dtype_size(tensors[i].second.dtype());
  }
  // The header: "__metadata__" first (as the reference writes it), then the tensors in the
  // order given.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i].second;
    uint64_t nbytes = (uint64_t)t.numel() * dtype_size(t.dtype());
    header[tensors[i].first] = {{"dtype", st_dtype(t.dtype())},
                                {"shape", t.shape()},
                                {"data_offsets", {begin[i], begin[i] + nbytes}}};
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name that is not valid UTF-8
    save_fail(path, std::string("cannot encode the header: ") + e.what(), 0);
  }
  text.resize((text.size() + 7) / 8 * 8, ' ');  // pad with spaces to 8-byte alignment
  if (text.size() > kMaxHeaderBytes)
    save_fail(path, "the header would be " + std::to_string(text.size()) + " bytes, over the " +
                        std::to_string(kMaxHeaderBytes) + "-byte limit readers enforce", 0);

  TempFile tmp;
  tmp.path = path + ".tmp." + std::to_string(::getpid());
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (tmp.fd < 0) {
    int e = errno;
    tmp.path.clear();  // nothing was created
    save_fail(path, "cannot create the temporary file " + in_quotes(path + ".tmp." + std::to_string(::getpid())), e);
  }
  uint64_t n = text.size();
  uint8_t len[8];
  std::memcpy(len, &n, 8);
  write_all(path, tmp.fd, len, 8);
  write_all(path, tmp.fd, text.data(), text.size());
  for (size_t i : data_order) {
    Tensor c = tensors[i].second.detach().to(Device::CPU).contiguous();  // one host copy at a time
    size_t nbytes = (size_t)c.numel() * dtype_size(c.dtype());
    if (nbytes) write_all(path, tmp.fd, c.raw_data(), nbytes);
  }
  if (::fsync(tmp.fd) != 0) save_fail(path, "fsync failed", errno);
  int fd = tmp.fd;
  tmp.fd = -1;
  if (::close(fd) != 0) save_fail(path, "close failed", errno);
  if (::rename(tmp.path.c_str(), path.c_str()) != 0)
    save_fail(path, "cannot rename the temporary file over it", errno);
  tmp.keep = true;
  // Make the rename itself durable: fsync the directory (best effort; some filesystems refuse).
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace bertlab::safetensors
