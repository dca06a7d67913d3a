// One include for the whole engine.
#pragma once

#include "autodiff/backward.hpp"
#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tensor.hpp"
#include "autodiff/transforms.hpp"
#include "autodiff/var.hpp"
