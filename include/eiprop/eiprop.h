// Everything a user of eiprop includes (the data-parallel headers, which need the library
// eiprop_distributed, and the community analysis, eiprop_analysis, are included on their own).
#pragma once

#include "eiprop/ops.h"
#include "eiprop/graph_ops.h"
#include "eiprop/reference.h"
#include "eiprop/balanced_mlp.h"
#include "eiprop/recurrent_circuit.h"
#include "eiprop/convert.h"
#include "eiprop/plasticity_rule.h"
#include "eiprop/checkpointer.h"
#include "eiprop/dale.h"
#include "eiprop/simulator.h"
#include "eiprop/analysis/ei_balance.h"
