// ops/cpu/attention.h — the CPU reference of the fused attention (same arguments and formulas
// as cuda/attention.h, where AttnArgs and AttnGrads are described).
#pragma once

#include "cuda/attention.h"

namespace bertlab::cpu {

// Writes a.out and a.lse.
void attention_forward(DType t, const AttnArgs& a);
// Writes g.dq, g.dk, g.dv, g.delta and (when not null) g.dbias_bh.
void attention_backward(DType t, const AttnArgs& a, const AttnGrads& g);

}  // namespace bertlab::cpu
