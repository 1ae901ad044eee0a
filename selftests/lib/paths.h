// The build tree and the checkout the tests belong to. Defined in a file
// CMake generates into the build tree (selftests/lib/paths.cc.in), not as
// compile definitions: a path in every test's compile command would make
// ccache miss on every file for another clone (CI's) of the same tree.
#pragma once

namespace xskit::testing {

const char* BuildDir();   // e.g. /work/xskit/build
const char* SourceDir();  // e.g. /work/xskit

}  // namespace xskit::testing
