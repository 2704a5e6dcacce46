// rill/rill.hpp: the umbrella header. Include this to get the whole runtime API.
#pragma once

#include "rill/coop.hpp"
#include "rill/error.hpp"
#include "rill/frames.hpp"
#include "rill/join_handle.hpp"
#include "rill/result.hpp"
#include "rill/runtime.hpp"
#include "rill/sync/mpsc.hpp"
#include "rill/sync/oneshot.hpp"
#include "rill/task.hpp"
#include "rill/time.hpp"
