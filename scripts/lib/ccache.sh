# shellcheck shell=bash
# The compiler launcher for cmake, where ccache is installed: paths below
# SRC (the checkout being built) are hashed relative to it, so another
# clone of the same tree (CI's, a fresh one) hits the cache.
#   xskit_ccache_args SRC   sets XSKIT_CCACHE_ARGS (cmake -D arguments, or none)
xskit_ccache_args() {
  XSKIT_CCACHE_ARGS=()
  command -v ccache >/dev/null 2>&1 || return 0
  local cmd="env;CCACHE_BASEDIR=$1;CCACHE_NOHASHDIR=1;ccache"
  XSKIT_CCACHE_ARGS=("-DCMAKE_C_COMPILER_LAUNCHER=$cmd" "-DCMAKE_CXX_COMPILER_LAUNCHER=$cmd")
}
