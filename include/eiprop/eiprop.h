// Everything a user of eiprop includes (the data-parallel headers, which need the library
// eiprop_distributed, and the community analysis, eiprop_analysis, are included on their own).
#pragma once

#include "eiprop/ops/layered.h"
#include "eiprop/ops/graph.h"
#include "eiprop/nn/reference.h"
#include "eiprop/nn/balanced_mlp.h"
#include "eiprop/nn/recurrent_circuit.h"
#include "eiprop/nn/sequential_circuit.h"
#include "eiprop/nn/convert.h"
#include "eiprop/ops/projections.h"
#include "eiprop/train/plasticity_rule.h"
#include "eiprop/serialize/checkpointer.h"
#include "eiprop/train/dale.h"
#include "eiprop/train/simulator.h"
#include "eiprop/analysis/ei_balance.h"
