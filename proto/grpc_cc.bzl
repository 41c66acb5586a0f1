"""C++ protobuf + gRPC code for smartcanary/v1/<name>.proto."""

def grpc_cc_library(name, deps = []):
    """Defines <name>_cc_proto; `deps` names other protos here that it imports."""
    base = "smartcanary/v1/" + name
    outs = [base + ext for ext in [".pb.h", ".pb.cc", ".grpc.pb.h", ".grpc.pb.cc"]]
    native.genrule(
        name = name + "_cc_gen",
        srcs = [base + ".proto"] + ["smartcanary/v1/" + d + ".proto" for d in deps],
        outs = outs,
        cmd = "protoc --proto_path=proto --cpp_out=$(RULEDIR) --grpc_out=$(RULEDIR) " +
              "--plugin=protoc-gen-grpc=$$(which grpc_cpp_plugin) $(location " + base + ".proto)",
    )
    native.cc_library(
        name = name + "_cc_proto",
        srcs = [base + ".pb.cc", base + ".grpc.pb.cc"],
        hdrs = [base + ".pb.h", base + ".grpc.pb.h"],
        includes = ["."],
        deps = ["@system//:grpc"] + [":" + d + "_cc_proto" for d in deps],
    )
