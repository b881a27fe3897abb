// tests/bert/test_safetensors.cpp — the safetensors reader and writer (bert/safetensors.h).
//
// Golden files in tests/bert/data/ were written by the reference implementation (Hugging
// Face `safetensors`, via tools/make_safetensors_golden.py); safetensors_golden.json holds
// their values, so these tests compare without Python. The writer's output is pinned byte
// for byte by tests/bert/data/written_by_bertlab.safetensors, which the same script reads
// back with the reference reader (--check-written). Regenerate that file with
// BERTLAB_REGEN_GOLDEN=1 when the writer's format changes on purpose.
#include <doctest/doctest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bert/safetensors.h"

using namespace bertlab;
namespace st = bertlab::safetensors;

namespace {

const std::string kData = "tests/bert/data/";  // tests run from the source root

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), (std::streamsize)bytes.size());
  REQUIRE(f.good());
}

// A fresh directory under $TMPDIR (or /tmp), removed with its files at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/bertlab_st_XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(path.c_str())) {
      while (dirent* e = ::readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
      ::closedir(d);
    }
    return out;
  }
};

// A safetensors file from a header text and `data_bytes` bytes of data (0, 1, 2, ...).
std::vector<uint8_t> make_file(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> b(8 + header.size() + data_bytes);
  uint64_t n = header.size();
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < data_bytes; ++i) b[8 + header.size() + i] = (uint8_t)i;
  return b;
}

uint32_t bits_of(float v) { return std::bit_cast<uint32_t>(v); }

// The sidecar's float64 value: a number, or "nan" / "inf" / "-inf".
double golden_value(const nlohmann::json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    FAIL("unexpected value string " << s);
  }
  return v.get<double>();
}

// The message of the bertlab::Error that f() throws ("<no error>" when it returns).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}
bool has(const std::string& msg, const std::string& fragment) {
  return msg.find(fragment) != std::string::npos;
}

// Same value, NaN matching NaN and -0 not matching +0.
bool same_double(double got, double want) {
  if (std::isnan(want)) return std::isnan(got);
  return got == want && std::signbit(got) == std::signbit(want);
}

}  // namespace

// ---------------------------------------------------------------------------------------
TEST_CASE("half and bfloat16 widen exactly, subnormals, infinities and NaN included") {
  CHECK(st::half_to_float(0x3c00) == 1.0f);
  CHECK(st::half_to_float(0xc000) == -2.0f);
  CHECK(st::half_to_float(0x7bff) == 65504.0f);
  CHECK(st::half_to_float(0x0001) == 0x1p-24f);  // smallest subnormal
  CHECK(st::half_to_float(0x03ff) == 1023 * 0x1p-24f);
  CHECK(st::half_to_float(0x0400) == 0x1p-14f);  // smallest normal
  CHECK(bits_of(st::half_to_float(0x8000)) == 0x80000000u);  // -0
  CHECK(st::half_to_float(0x7c00) == std::numeric_limits<float>::infinity());
  CHECK(st::half_to_float(0xfc00) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(st::half_to_float(0x7e00)));
  CHECK(bits_of(st::half_to_float(0xfd01)) == 0xffa02000u);  // sign and payload kept

  CHECK(st::bfloat16_to_float(0x3f80) == 1.0f);
  CHECK(st::bfloat16_to_float(0x0001) == 0x1p-133f);  // bfloat16's smallest subnormal
  CHECK(bits_of(st::bfloat16_to_float(0x8000)) == 0x80000000u);
  CHECK(std::isinf(st::bfloat16_to_float(0x7f80)));
  CHECK(std::isnan(st::bfloat16_to_float(0x7fc0)));

#if defined(__FLT16_MAX__)
  // All 65536 half values against the compiler's own _Float16 conversion.
  int mismatches = 0;
  for (uint32_t h = 0; h < 65536; ++h) {
    float want = (float)std::bit_cast<_Float16>((uint16_t)h);
    float got = st::half_to_float((uint16_t)h);
    bool ok = std::isnan(want) ? std::isnan(got) && std::signbit(got) == std::signbit(want)
                               : bits_of(got) == bits_of(want);
    if (!ok && ++mismatches <= 5) FAIL_CHECK("half 0x" << std::hex << h << ": got " << got << " want " << want);
  }
  CHECK(mismatches == 0);
#endif
}

// ---------------------------------------------------------------------------------------
TEST_CASE("golden files written by the reference load with exactly the recorded values") {
  nlohmann::json golden = nlohmann::json::parse(read_bytes(kData + "safetensors_golden.json"));
  REQUIRE(golden["files"].size() >= 9);
  for (const auto& [fname, want] : golden["files"].items()) {
    CAPTURE(fname);
    st::File f(kData + fname);
    CHECK(f.names() == want["header_order"].get<std::vector<std::string>>());
    std::map<std::string, std::string> meta;
    if (!want["metadata"].is_null()) meta = want["metadata"].get<std::map<std::string, std::string>>();
    CHECK(f.metadata() == meta);
    CHECK(f.names().size() == want["tensors"].size());

    for (const auto& [name, t] : want["tensors"].items()) {
      CAPTURE(name);
      const st::TensorInfo& info = f.info(name);
      CHECK(info.dtype == t["dtype"].get<std::string>());
      Shape shape = t["shape"].get<Shape>();
      CHECK(info.shape == shape);
      const auto& values = t["values"];
      if (t.contains("bits32")) {  // a floating dtype
        Tensor x = f.load(name);   // float32 by default, BF16 as bfloat16
        CHECK(x.dtype() == (info.dtype == "BF16" ? DType::BFloat16 : DType::Float32));
        CHECK(x.shape() == shape);
        std::vector<float> got = x.tolist<float>();
        auto bits = t["bits32"].get<std::vector<uint32_t>>();
        REQUIRE(got.size() == bits.size());
        for (size_t i = 0; i < got.size(); ++i)
          CHECK_MESSAGE(bits_of(got[i]) == bits[i], "element " << i << ": got " << got[i]);

        std::vector<double> got64 = f.load(name, DType::Float64).tolist<double>();
        REQUIRE(got64.size() == values.size());
        for (size_t i = 0; i < got64.size(); ++i)
          CHECK_MESSAGE(same_double(got64[i], golden_value(values[i])),
                        "element " << i << ": got " << got64[i]);
        CHECK_THROWS_WITH_AS(f.load(name, DType::Int64), doctest::Contains("cannot be loaded as int64"), Error);
      } else {  // an integer dtype
        Tensor x = f.load(name);
        CHECK(x.dtype() == DType::Int64);
        CHECK(x.shape() == shape);
        CHECK(x.tolist<int64_t>() == values.get<std::vector<int64_t>>());
        std::vector<double> as_double = f.load(name, DType::Float64).tolist<double>();
        for (size_t i = 0; i < as_double.size(); ++i)
          CHECK(as_double[i] == (double)values[i].get<int64_t>());
      }
    }
  }
}

TEST_CASE("a 0-d tensor loads as a scalar and an empty tensor keeps its shape") {
  st::File f(kData + "st_shapes.safetensors");
  Tensor s = f.load("scalar");
  CHECK(s.dim() == 0);
  CHECK(s.item() == 2.5);
  CHECK(f.load("scalar_f16").item() == -0.25);
  Tensor e = f.load("empty");
  CHECK(e.shape() == Shape{0, 3});
  CHECK(e.numel() == 0);
  CHECK(f.info("empty").begin == f.info("empty").end);
  CHECK(f.load("empty_i64").dtype() == DType::Int64);
}

TEST_CASE("unknown names and unloadable requests are refused with the name") {
  st::File f(kData + "st_f32.safetensors");
  CHECK_FALSE(f.contains("nope"));
  CHECK(f.contains("a"));
  CHECK_THROWS_WITH_AS(f.info("nope"), doctest::Contains("tensor \"nope\": no such tensor"), Error);
  CHECK_THROWS_WITH_AS(f.load("nope"), doctest::Contains("st_f32.safetensors: tensor \"nope\""), Error);
  CHECK_THROWS_WITH_AS(st::File(kData + "does_not_exist.safetensors"),
                       doctest::Contains("does_not_exist.safetensors: cannot open"), Error);

  // Valid in the header, not loadable: an F8 tensor and one with more dimensions than a Tensor.
  auto f8 = st::File::from_memory(
      make_file(R"({"q":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2), "f8.st");
  CHECK(f8.info("q").dtype == "F8_E4M3");
  CHECK_THROWS_WITH_AS(f8.load("q"), doctest::Contains("dtype F8_E4M3 cannot be loaded"), Error);
  auto deep = st::File::from_memory(make_file(
      R"({"d":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}})", 1));
  CHECK_THROWS_WITH_AS(deep.load("d"), doctest::Contains("more than 8 dimensions"), Error);
  // Zero elements, but the other dimensions multiply past int64: the header is valid (as
  // for the reference), the tensor cannot be made.
  auto wide = st::File::from_memory(make_file(
      R"({"w":{"dtype":"U8","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})", 0));
  CHECK_THROWS_WITH_AS(wide.load("w"), doctest::Contains("too large for a tensor"), Error);
}

// ---------------------------------------------------------------------------------------
TEST_CASE("save then load gives back names, order, dtypes, shapes, values and metadata") {
  TempDir dir;
  Tensor a = from_vector(std::vector<float>{1, -2, 3.5f, 0, -0.0f, 1e-40f}, {2, 3});
  Tensor b = from_vector(std::vector<double>{1.0 / 3, -1e300, 5e-324}, {3});
  Tensor c = from_vector(std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 0, 42,
                                              std::numeric_limits<int64_t>::max()}, {2, 2});
  Tensor s = scalar_tensor(7.0);
  Tensor e = zeros({3, 0});
  Tensor at = make_view(a, {3, 2}, {1, 3}, 0);  // a transposed: a strided view
  std::vector<std::pair<std::string, Tensor>> list = {
      {"z.last.alphabetically", a}, {"b", b}, {"c", c}, {"scalar", s}, {"empty", e}, {"a_t", at}};
  std::string path = dir / "model.safetensors";
  st::save(path, list, {{"format", "pt"}, {"ünï", "✓"}});

  st::File f(path);
  CHECK(f.names() == std::vector<std::string>{"z.last.alphabetically", "b", "c", "scalar", "empty", "a_t"});
  CHECK(f.metadata() == std::map<std::string, std::string>{{"format", "pt"}, {"ünï", "✓"}});
  CHECK(f.info("b").dtype == "F64");
  CHECK(f.info("c").dtype == "I64");
  CHECK(f.info("z.last.alphabetically").dtype == "F32");
  for (const auto& [name, t] : list) {
    CAPTURE(name);
    Tensor got = f.load(name, t.dtype());
    CHECK(got.shape() == t.shape());
    CHECK(got.dtype() == t.dtype());
    switch (t.dtype()) {
      case DType::Float32: {
        auto g = got.tolist<float>(), w = t.tolist<float>();
        REQUIRE(g.size() == w.size());
        for (size_t i = 0; i < g.size(); ++i) CHECK(bits_of(g[i]) == bits_of(w[i]));
        break;
      }
      case DType::Float64: {
        auto g = got.tolist<double>(), w = t.tolist<double>();
        REQUIRE(g.size() == w.size());
        for (size_t i = 0; i < g.size(); ++i) CHECK(std::bit_cast<uint64_t>(g[i]) == std::bit_cast<uint64_t>(w[i]));
        break;
      }
      case DType::Int64: CHECK(got.tolist<int64_t>() == t.tolist<int64_t>()); break;
      case DType::BFloat16: FAIL("no bfloat16 tensor in this list"); break;
    }
  }

  // The layout the reference writes: header padded with spaces to a multiple of 8, wider
  // elements first, so that every tensor starts aligned to its element size in the file.
  std::string bytes = read_bytes(path);
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  CHECK(bytes[8 + n - 1] != '\0');
  for (const auto& [name, t] : list) CHECK((8 + n + f.info(name).begin) % dtype_size(t.dtype()) == 0);
  CHECK(f.info("b").begin == 0);  // the first float64 tensor leads the data
  CHECK(f.info("a_t").end == bytes.size() - 8 - n);  // the last float32 one ends it
  CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});  // no temporary left

  // Saving again replaces the file.
  st::save(path, {{"only", ones({2})}});
  CHECK(st::File(path).names() == std::vector<std::string>{"only"});
  // No tensors at all is a valid file too.
  st::save(path, {});
  CHECK(st::File(path).names().empty());
}

TEST_CASE("save refuses duplicate, reserved and undefined tensors before touching the file") {
  TempDir dir;
  std::string path = dir / "x.safetensors";
  CHECK_THROWS_WITH_AS(st::save(path, {{"a", ones({1})}, {"a", ones({1})}}),
                       doctest::Contains("tensor name \"a\" given twice"), Error);
  CHECK_THROWS_WITH_AS(st::save(path, {{"__metadata__", ones({1})}}), doctest::Contains("reserved"), Error);
  CHECK_THROWS_WITH_AS(st::save(path, {{"u", Tensor()}}), doctest::Contains("undefined"), Error);
  CHECK_THROWS_WITH_AS(st::save(path, {{std::string("bad\xff"), ones({1})}}),
                       doctest::Contains("cannot encode the header"), Error);
  CHECK(dir.files().empty());
}

TEST_CASE("the writer's output is byte for byte the committed file the reference reader checks") {
  // tools/make_safetensors_golden.py --check-written opens the committed copy with the
  // Hugging Face reader; keep these tensors in step with written_expected() there.
  Tensor weight = from_vector(std::vector<float>{-1, -0.5f, 0, 0.5f, 1, 1.5f}, {2, 3});
  std::vector<std::pair<std::string, Tensor>> list = {
      {"weight", weight},
      {"bias", from_vector(std::vector<double>{1.0 / 3.0, -2.5e-300, 1e300}, {3})},
      {"ids", from_vector(std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -1, 0,
                                               std::numeric_limits<int64_t>::max()}, {4})},
      {"scalar", scalar_tensor(3.25)},
      {"empty", zeros({0, 4})},
      {"strided", make_view(weight, {3, 2}, {1, 3}, 0)},
  };
  std::map<std::string, std::string> meta = {{"format", "pt"}, {"producer", "bertlab"}};
  const std::string committed = kData + "written_by_bertlab.safetensors";
  if (const char* regen = std::getenv("BERTLAB_REGEN_GOLDEN"); regen && std::string(regen) == "1") {
    st::save(committed, list, meta);
    MESSAGE("rewrote " << committed);
  }
  TempDir dir;
  st::save(dir / "w.safetensors", list, meta);
  CHECK(read_bytes(dir / "w.safetensors") == read_bytes(committed));
}

// ---------------------------------------------------------------------------------------
TEST_CASE("a failed save leaves the target as it was and no temporary file behind") {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  write_bytes(path, "previous contents");
  std::vector<std::pair<std::string, Tensor>> big = {{"w", zeros({64, 1024})}};  // 256 KiB

  SUBCASE("into a directory that does not exist") {
    std::string missing = dir / "no/such/dir/model.safetensors";
    std::string msg = error_of([&] { st::save(missing, big); });
    CHECK_MESSAGE(has(msg, "cannot write \"" + missing + "\""), msg);
    CHECK_MESSAGE(has(msg, "No such file or directory"), msg);
  }
  SUBCASE("when the disk fills up mid-write (a file size limit stands in for a full disk)") {
    struct rlimit old {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    auto old_handler = ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG
    struct rlimit small = old;
    small.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string msg;
    try {
      st::save(path, big);
    } catch (const Error& e) {
      msg = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::signal(SIGXFSZ, old_handler);
    CHECK(msg.find("cannot write \"" + path + "\": write failed") != std::string::npos);
    CHECK(msg.find("File too large") != std::string::npos);
  }
  SUBCASE("when the rename fails (the target is a non-empty directory)") {
    std::string target = dir / "model.safetensors.d";
    REQUIRE(::mkdir(target.c_str(), 0755) == 0);
    write_bytes(target + "/keep", "x");
    CHECK_THROWS_WITH_AS(st::save(target, big), doctest::Contains("cannot rename"), Error);
    CHECK(read_bytes(target + "/keep") == "x");
    ::unlink((target + "/keep").c_str());
    ::rmdir(target.c_str());
  }
  SUBCASE("into a read-only directory") {
    if (::geteuid() == 0) {
      MESSAGE("running as root, which may write into a read-only directory: checking the "
              "non-existent-directory and full-disk cases instead");
    } else {
      std::string ro = dir / "ro";
      REQUIRE(::mkdir(ro.c_str(), 0555) == 0);
      CHECK_THROWS_WITH_AS(st::save(ro + "/m.safetensors", big), doctest::Contains("Permission denied"), Error);
      ::chmod(ro.c_str(), 0755);
      ::rmdir(ro.c_str());
    }
  }
  CHECK(read_bytes(path) == "previous contents");
  CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});
}

// ---------------------------------------------------------------------------------------
TEST_CASE("corrupted headers are rejected with a message naming the file, tensor and fault") {
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    std::string fragment;
  };
  auto file = [](const std::string& header, size_t data) { return make_file(header, data); };
  auto f32 = [](const std::string& name, const std::string& shape, const std::string& offsets) {
    return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
  };
  std::vector<uint8_t> long_header(16, 0);
  uint64_t past = 100;
  std::memcpy(long_header.data(), &past, 8);
  std::vector<uint8_t> over_limit(16, 0);
  uint64_t limit = st::kMaxHeaderBytes + 1;
  std::memcpy(over_limit.data(), &limit, 8);

  std::vector<Case> cases = {
      {"empty file", {}, "file is 0 bytes, too short for the 8-byte header length"},
      {"truncated length", {1, 0, 0}, "file is 3 bytes, too short"},
      {"header length past the end", long_header, "header length 100 runs past the end of the file (8 bytes follow"},
      {"header length over the limit", over_limit, "header length 100000001 exceeds the limit of 100000000 bytes"},
      {"bad JSON", file("{\"a\":", 0), "header is not valid JSON"},
      {"ill-formed UTF-8", file("{\"\xff\":1}", 0), "header is not valid JSON"},
      {"not an object", file("[1,2]", 0), "header is an array, not a JSON object"},
      {"entry not an object", file(R"({"a":[1]})", 0), "tensor \"a\": entry is an array, not an object"},
      {"missing key", file(R"({"a":{"dtype":"F32","shape":[1]}})", 4), "tensor \"a\": missing \"data_offsets\""},
      {"extra key", file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", 4), "tensor \"a\": unexpected key \"x\""},
      {"dtype not a string", file(R"({"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", 4), "dtype is a non-negative integer, not a string"},
      {"unknown dtype", file(R"({"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}})", 4), "tensor \"a\": unknown dtype \"F17\""},
      {"shape not an array", file(R"({"a":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})", 4), "shape is a non-negative integer, not an array"},
      {"negative shape", file("{" + f32("a", "[-1]", "[0,4]") + "}", 4), "tensor \"a\": shape entry 0 is a negative integer (-1)"},
      {"float shape", file("{" + f32("a", "[2, 1.5]", "[0,4]") + "}", 4), "shape entry 1 is a non-integer number (1.5)"},
      {"shape entry past int64", file(R"({"a":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,1]}})", 1), "larger than a tensor dimension can be"},
      {"shape overflow", file("{" + f32("a", "[4294967296,4294967296]", "[0,4]") + "}", 4), "F32 shape [4294967296, 4294967296]: the size in bytes overflows 64 bits"},
      {"shape times element size overflow", file("{" + f32("a", "[4611686018427387904]", "[0,4]") + "}", 4), "overflows 64 bits"},
      {"sub-byte dtype, odd bits", file(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", 2), "F4 shape [3] is 12 bits, not a whole number of bytes"},
      {"offsets not a pair", file("{" + f32("a", "[1]", "[0,4,8]") + "}", 4), "data_offsets is an array of 3 values, not [begin, end]"},
      {"negative offset", file("{" + f32("a", "[1]", "[-4,0]") + "}", 4), "data_offsets begin is a negative integer (-4)"},
      {"begin after end", file("{" + f32("a", "[0]", "[4,0]") + "}", 4), "data_offsets [4, 0]: begin is after end"},
      {"offsets out of range", file("{" + f32("a", "[25]", "[0,100]") + "}", 8), "tensor \"a\": data_offsets [0, 100] run past the end of the 8-byte data buffer"},
      {"size mismatch", file("{" + f32("a", "[3]", "[0,8]") + "}", 8), "data_offsets [0, 8] hold 8 bytes but F32 shape [3] needs 12"},
      {"overlap", file("{" + f32("a", "[2]", "[0,8]") + "," + f32("b", "[2]", "[4,12]") + "}", 12), "tensor \"b\": data_offsets [4, 12] overlap tensor \"a\" [0, 8]"},
      {"hole", file("{" + f32("a", "[1]", "[0,4]") + "," + f32("b", "[1]", "[8,12]") + "}", 12), "tensor \"b\": data_offsets [8, 12] leave a hole: bytes [4, 8]"},
      {"trailing bytes", file("{" + f32("a", "[1]", "[0,4]") + "}", 8), "the tensors cover 4 bytes but the data buffer holds 8"},
      {"duplicate tensor", file("{" + f32("a", "[1]", "[0,4]") + "," + f32("a", "[1]", "[4,8]") + "}", 8), "duplicate key \"a\" in the header"},
      {"duplicate field", file(R"({"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})", 4), "duplicate key \"dtype\" inside the entry \"a\""},
      {"metadata not an object", file(R"({"__metadata__":["x"]})", 0), "\"__metadata__\" is an array, not an object of strings"},
      {"non-string metadata", file(R"({"__metadata__":{"k":1}})", 0), "\"__metadata__\" value for key \"k\" is a non-negative integer, not a string"},
      {"deep nesting", file(std::string(40, '[') + std::string(40, ']'), 0), "levels deep"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    std::string msg = error_of([&] { st::File::from_memory(c.bytes, "bad.safetensors"); });
    CHECK_MESSAGE(has(msg, "bad.safetensors: "), msg);
    CHECK_MESSAGE(has(msg, c.fragment), msg);
  }
}

TEST_CASE("the size check reads as the error a user of a real checkpoint sees") {
  auto bytes = make_file(
      R"({"bert.pooler.dense.weight":{"dtype":"F32","shape":[768,768],"data_offsets":[0,100]}})", 100);
  CHECK_THROWS_WITH_AS(st::File::from_memory(bytes, "model.safetensors"),
                       "model.safetensors: tensor \"bert.pooler.dense.weight\": data_offsets [0, 100] "
                       "hold 100 bytes but F32 shape [768, 768] needs 2359296",
                       Error);
  // The same through a path on disk.
  TempDir dir;
  std::string path = dir / "model.safetensors";
  write_bytes(path, std::string(bytes.begin(), bytes.end()));
  std::string msg = error_of([&] { st::File f(path); });
  CHECK_MESSAGE(has(msg, path + ": tensor \"bert.pooler.dense.weight\""), msg);
}

TEST_CASE("valid edge cases the reference accepts are accepted") {
  // Tensors listed out of offset order, zero-size tensors sharing an offset, whitespace
  // around the JSON, an empty header object.
  auto f = st::File::from_memory(make_file(
      R"(  {"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
      R"("z0":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
      R"("z1":{"dtype":"I64","shape":[2,0],"data_offsets":[4,4]},)"
      R"("a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}    )", 8));
  CHECK(f.names() == std::vector<std::string>{"b", "z0", "z1", "a"});
  CHECK(f.load("a").tolist<int64_t>() == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(f.load("z1").shape() == Shape{2, 0});
  CHECK(st::File::from_memory(make_file("{}", 0)).names().empty());
  CHECK(st::File::from_memory(make_file("{}      ", 0)).metadata().empty());
}

TEST_CASE("bfloat16 tensors are saved as BF16 and loaded back bit for bit; narrowing rounds to nearest-even") {
  TempDir dir;
  const std::string path = dir.path + "/bf16.safetensors";
  // 1, 1 + 2^-7, a NaN with a payload, -0, bfloat16's smallest subnormal, infinity
  const std::vector<uint16_t> bits = {0x3f80, 0x3f81, 0x7fa5, 0x8000, 0x0001, 0x7f80};
  Tensor b = empty({2, 3}, DType::BFloat16);
  std::memcpy(b.raw_data(), bits.data(), bits.size() * 2);
  // float32 values on both sides of bfloat16 rounding ties: 1 + 2^-8 is a tie (to even: 1),
  // 1 + 3 * 2^-8 a tie (to even: 1 + 2^-6), 1 + 2^-8 + 2^-20 just above one (up: 1 + 2^-7)
  Tensor f = from_vector(std::vector<float>{1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f}, {3});
  st::save(path, {{"b", b}, {"f", f}});

  st::File file(path);
  CHECK(file.info("b").dtype == "BF16");
  CHECK(file.info("b").end - file.info("b").begin == 12);
  Tensor back = file.load("b");  // BF16 loads as bfloat16 by default, bit for bit (NaN payload too)
  REQUIRE(back.dtype() == DType::BFloat16);
  CHECK(back.shape() == Shape{2, 3});
  std::vector<uint16_t> got(6);
  std::memcpy(got.data(), back.raw_data(), 12);
  CHECK(got == bits);
  // widened to float32: exact
  std::vector<float> w = file.load("b", DType::Float32).tolist<float>();
  CHECK(w[0] == 1.0f);
  CHECK(w[1] == 1.0f + 0x1p-7f);
  CHECK(std::isnan(w[2]));
  CHECK(bits_of(w[3]) == 0x80000000u);
  CHECK(w[4] == 0x1p-133f);
  CHECK(std::isinf(w[5]));
  // float32 narrowed to bfloat16 on load
  Tensor n = file.load("f", DType::BFloat16);
  std::vector<uint16_t> nb(3);
  std::memcpy(nb.data(), n.raw_data(), 6);
  CHECK(nb == std::vector<uint16_t>{0x3f80, 0x3f82, 0x3f81});
  // the default load of F32 stays float32
  CHECK(file.load("f").dtype() == DType::Float32);
}
