#include "community/control.h"

#include <c10/util/Exception.h>

namespace eiprop {
namespace examples {
namespace {

void check_two_task_layered(const char* function, const analysis::CircuitConnectivity& circuit) {
  TORCH_CHECK(circuit.sizes.size() == 3 && circuit.weights.size() == 2 && circuit.pre[0] == 0 &&
                  circuit.post[0] == 1 && circuit.pre[1] == 1 && circuit.post[1] == 2,
              "community: ", function, ": expected a layered circuit input -> hidden -> output");
  TORCH_CHECK(circuit.sizes[0] % 2 == 0 && circuit.sizes[2] % 2 == 0, "community: ", function,
              ": the input (", circuit.sizes[0], ") and output (", circuit.sizes[2],
              ") must split into two equal task halves");
}

// 0 for the first half of n neurons, 1 for the second: [n] int64.
torch::Tensor halves(int64_t n) {
  return torch::arange(n, torch::kLong).ge(n / 2).to(torch::kLong);
}

}  // namespace

std::vector<int64_t> hidden_tasks(const analysis::CircuitConnectivity& circuit) {
  check_two_task_layered("hidden_tasks", circuit);
  const auto in = circuit.weights[0].detach().to(torch::kDouble).abs();   // [H, N_in]
  const auto out = circuit.weights[1].detach().to(torch::kDouble).abs();  // [N_out, H]
  const auto in_task = halves(circuit.sizes[0]), out_task = halves(circuit.sizes[2]);
  const auto toward = [&](int64_t task) {
    return in.index({torch::indexing::Slice(), in_task.eq(task)}).sum(1) +
           out.index({out_task.eq(task)}).sum(0);
  };
  const auto task = toward(1).gt(toward(0)).to(torch::kLong).contiguous();
  return {task.data_ptr<int64_t>(), task.data_ptr<int64_t>() + task.numel()};
}

analysis::CircuitConnectivity scale_cross_task(const analysis::CircuitConnectivity& circuit,
                                               double epsilon) {
  TORCH_CHECK(epsilon >= 0.0 && epsilon <= 1.0,
              "community: scale_cross_task: epsilon must lie in [0, 1], got ", epsilon);
  const auto hidden = torch::tensor(hidden_tasks(circuit), torch::kLong);
  const auto in_task = halves(circuit.sizes[0]), out_task = halves(circuit.sizes[2]);
  analysis::CircuitConnectivity scaled = circuit;
  const auto factor = [&](const torch::Tensor& post, const torch::Tensor& pre,
                          const torch::Tensor& weight) {
    const auto cross = post.unsqueeze(1).ne(pre.unsqueeze(0)).to(weight.scalar_type());
    return weight.detach() * (1.0 - epsilon * cross);
  };
  scaled.weights[0] = factor(hidden, in_task, circuit.weights[0]);
  scaled.weights[1] = factor(out_task, hidden, circuit.weights[1]);
  return scaled;
}

}  // namespace examples
}  // namespace eiprop
