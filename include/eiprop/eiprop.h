// Everything a user of eiprop includes.
#pragma once

#include "eiprop/ops.h"
#include "eiprop/reference.h"
