"""Exposes Debian's system libraries as cc_library targets in @system.

Link flags come from pkg-config so that Debian's namespaced abseil
(absl::debian3) and gRPC's transitive libraries resolve without hand-kept
lists in BUILD files.
"""

# name -> (pkg-config modules, extra link flags)
_LIBS = {
    "grpc": (["grpc++", "protobuf"], ["-lgrpc++_reflection"]),
    "protobuf": (["protobuf"], []),
    "curl": (["libcurl"], []),
    "absl": (["absl_status", "absl_statusor", "absl_strings", "absl_str_format", "absl_time", "absl_synchronization", "absl_flags", "absl_flags_parse"], []),
    "spdlog": (["spdlog"], []),
    "yaml": (["yaml-cpp"], []),
    "gtest": (["gtest", "gmock"], []),
    "gtest_main": (["gtest_main"], []),
}

def _pkg_config(ctx, args):
    result = ctx.execute(["pkg-config"] + args)
    if result.return_code != 0:
        fail("pkg-config %s failed: %s" % (" ".join(args), result.stderr))
    return result.stdout.strip().split(" ") if result.stdout.strip() else []

def _system_libs_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, (modules, extra) in _LIBS.items():
        cflags = [f for f in _pkg_config(ctx, ["--cflags"] + modules) if f]
        libs = [f for f in _pkg_config(ctx, ["--libs"] + modules) if f]
        lines.append("cc_library(")
        lines.append('    name = "%s",' % name)
        lines.append("    copts = %s," % repr([f for f in cflags if not f.startswith("-I/usr/include")]))
        lines.append("    linkopts = %s," % repr(libs + extra))
        lines.append(")")
        lines.append("")
    lines.append('cc_library(name = "nlohmann_json")')
    ctx.file("BUILD.bazel", "\n".join(lines))
    ctx.file("WORKSPACE", 'workspace(name = "%s")' % ctx.name)

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
)
