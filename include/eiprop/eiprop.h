// Everything a user of eiprop includes.
#pragma once

#include "eiprop/ops.h"
#include "eiprop/graph_ops.h"
#include "eiprop/reference.h"
#include "eiprop/balanced_mlp.h"
#include "eiprop/recurrent_circuit.h"
#include "eiprop/convert.h"
#include "eiprop/plasticity_rule.h"
#include "eiprop/checkpointer.h"
