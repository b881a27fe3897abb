// tests/golden.h — reading golden files written by the scripts in tools/.
//
// JSON tensors are {"shape": [...], "data": [flat values]}; the header field "made_by"
// names the script that wrote the file.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "autograd/tensor.h"

namespace bertlab::testing {

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail("golden file not found: " + path + " (run the tests from the project root)");
  return nlohmann::json::parse(f);
}

inline Tensor tensor_from_json(const nlohmann::json& j, DType t = DType::Float64) {
  Shape s = j.at("shape").get<Shape>();
  std::vector<double> v = j.at("data").get<std::vector<double>>();
  return from_vector(v, s).to(t);
}

}  // namespace bertlab::testing
