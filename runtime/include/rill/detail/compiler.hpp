// rill/detail/compiler.hpp: refuses compilers rill does not support, at the first rill include.
//
// rill is built and tested with Clang 19 (and libstdc++ or libc++). GCC is refused, every
// version: GCC 12 (CMake's default on Debian 12) miscompiles rill's coroutines (symmetric
// transfer and frames destroyed at a suspension point), so a program built with it compiles
// without a warning, then returns wrong results or aborts (`free(): invalid pointer`); later
// GCC versions are not tested. Clang before 19 is not tested either. Defining
// RILL_ALLOW_UNSUPPORTED_COMPILER turns this check off, at your own risk (the CMake package has
// the same switch: -DRILL_ALLOW_UNSUPPORTED_COMPILER=ON).
#pragma once

#if !defined(RILL_ALLOW_UNSUPPORTED_COMPILER)
#if defined(__GNUC__) && !defined(__clang__)
#error "rill requires Clang >= 19: GCC miscompiles rill's coroutines (configure with CXX=clang++-19, or define RILL_ALLOW_UNSUPPORTED_COMPILER at your own risk)"
#elif defined(__clang__) && __clang_major__ < 19
#error "rill requires Clang >= 19 (the compiler it is tested with; configure with CXX=clang++-19, or define RILL_ALLOW_UNSUPPORTED_COMPILER at your own risk)"
#endif
#endif
