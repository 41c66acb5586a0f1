"""cc_fuzzer: a libFuzzer target and its corpus as an ordinary test.

cc_fuzzer(name = "x_fuzzer", deps = [...]) with x_fuzzer.cc defining
LLVMFuzzerTestOneInput and seeds under corpus/x_fuzzer/ gives:
  :x_fuzzer              the libFuzzer binary (tags manual, fuzzer); build it
                         with --config=fuzz (clang, ASan + UBSan), see
                         scripts/fuzz.sh
  :x_fuzzer_corpus_test  the corpus replayed in the normal build, so every
                         crash found stays a regression test
"""

def cc_fuzzer(name, deps):
    corpus = "corpus/" + name
    native.cc_binary(
        name = name,
        srcs = [name + ".cc"],
        deps = deps + [":fuzz_checks"],
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual", "fuzzer"],
        testonly = True,
    )
    native.cc_test(
        name = name + "_corpus_test",
        size = "small",
        srcs = [name + ".cc"],
        deps = deps + [":fuzz_checks", ":replay_main"],
        data = native.glob([corpus + "/**"], allow_empty = False),
        # The test runs in its runfiles tree, where the corpus sits at its
        # workspace path.
        args = [native.package_name() + "/" + corpus],
    )
