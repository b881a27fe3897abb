// tests/cuda/emu/fake/emu.cpp — the emulator's scheduler (see emu.h).
#include "emu.h"

#include <random>
#include <string>

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

namespace emu {

unsigned char warp_slots[1024][8];

enum State { READY, AT_BLOCK_BARRIER, AT_WARP_BARRIER, DONE };
struct Fiber {
  ucontext_t ctx;
  uint3 tid;
  State state;
  int linear;
};
static std::vector<Fiber> fibers;
static std::vector<char*> stacks;
static ucontext_t scheduler;
static Fiber* current;
static const std::function<void()>* kernel_body;
static constexpr size_t kStack = 256 * 1024;

int linear_tid() { return current->linear; }
static void entry() {
  (*kernel_body)();
  current->state = DONE;  // returning resumes the scheduler (uc_link)
}
void block_barrier() {
  current->state = AT_BLOCK_BARRIER;
  swapcontext(&current->ctx, &scheduler);
}
void warp_barrier() {
  current->state = AT_WARP_BARRIER;
  swapcontext(&current->ctx, &scheduler);
}

// The order in which the scheduler resumes a block's ready threads (BERTLAB_EMU_ORDER): forward
// (0, 1, 2, ...; the default), reverse, or shuffle (a new random order for every block and every
// round, from BERTLAB_EMU_SEED). A kernel must give the same result in all three: a thread that
// reads what another wrote without a barrier between them sees it in one order and not in
// another, so a race the forward order hides (a read of a lower-numbered thread's write) shows up.
enum class Order { Forward, Reverse, Shuffle };
static Order order_from_env() {
  const char* e = std::getenv("BERTLAB_EMU_ORDER");
  const std::string s = e ? e : "forward";
  if (s == "forward") return Order::Forward;
  if (s == "reverse") return Order::Reverse;
  if (s == "shuffle") return Order::Shuffle;
  std::fprintf(stderr, "emu: BERTLAB_EMU_ORDER=%s: expected forward, reverse or shuffle\n", s.c_str());
  std::exit(2);
}
static const Order order = order_from_env();
static std::mt19937_64 order_rng([] {
  const char* e = std::getenv("BERTLAB_EMU_SEED");
  return e ? std::strtoull(e, nullptr, 10) : 1;
}());

// The threads in the order of this round.
static void schedule_order(std::vector<int>& idx, int nt) {
  idx.resize(nt);
  for (int t = 0; t < nt; ++t) idx[t] = order == Order::Reverse ? nt - 1 - t : t;
  if (order == Order::Shuffle) std::shuffle(idx.begin(), idx.end(), order_rng);
}

void launch(dim3 grid, dim3 block, const std::function<void()>& body) {
  kernel_body = &body;
  gridDim = grid;
  blockDim = block;
  const int nt = (int)(block.x * block.y * block.z);
  if (nt <= 0 || nt > 1024 || block.z > 64) {
    std::fprintf(stderr, "emu: invalid block size %u x %u x %u\n", block.x, block.y, block.z);
    std::abort();
  }
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535) {
    std::fprintf(stderr, "emu: invalid grid %u x %u x %u\n", grid.x, grid.y, grid.z);
    std::abort();
  }
  while ((int)stacks.size() < nt) stacks.push_back(static_cast<char*>(std::malloc(kStack)));
  fibers.resize(nt);
  std::vector<int> round;
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = {bx, by, bz};
        for (int t = 0; t < nt; ++t) {
          Fiber& f = fibers[t];
          f.linear = t;
          f.state = READY;
          f.tid = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
          getcontext(&f.ctx);
          f.ctx.uc_stack.ss_sp = stacks[t];
          f.ctx.uc_stack.ss_size = kStack;
          f.ctx.uc_link = &scheduler;
          makecontext(&f.ctx, entry, 0);
        }
        for (;;) {
          schedule_order(round, nt);
          for (int t : round) {
            Fiber& f = fibers[t];
            if (f.state == READY) {
              current = &f;
              threadIdx = f.tid;
              swapcontext(&scheduler, &f.ctx);
            }
          }
          int done = 0, at_block = 0, at_warp = 0;
          for (const Fiber& f : fibers) {
            done += f.state == DONE;
            at_block += f.state == AT_BLOCK_BARRIER;
            at_warp += f.state == AT_WARP_BARRIER;
          }
          if (done == nt) break;
          bool released = false;
          for (int w = 0; w * 32 < nt; ++w) {  // a warp whose live lanes all wait at a shuffle
            const int t0 = w * 32, t1 = std::min(nt, t0 + 32);
            int live = 0, waiting = 0;
            for (int t = t0; t < t1; ++t) {
              live += fibers[t].state != DONE;
              waiting += fibers[t].state == AT_WARP_BARRIER;
            }
            if (live > 0 && waiting == live) {
              for (int t = t0; t < t1; ++t)
                if (fibers[t].state == AT_WARP_BARRIER) fibers[t].state = READY;
              released = true;
            }
          }
          if (!released && at_block + done == nt) {  // threads that exited count as arrived
            for (Fiber& f : fibers)
              if (f.state == AT_BLOCK_BARRIER) f.state = READY;
            released = true;
          }
          if (!released) {
            std::fprintf(stderr, "emu: deadlock in block (%u, %u, %u): %d threads at __syncthreads, %d at a shuffle, %d done\n",
                         bx, by, bz, at_block, at_warp, done);
            std::abort();
          }
        }
      }
}

}  // namespace emu
