// Kubernetes name rules, path escaping and UTF-8 repair: the checks every
// name and every status string passes before it reaches the API server.
#include "common/k8s_names.h"

#include <gtest/gtest.h>

#include "common/utf8.h"

namespace smartcanary {
namespace {

TEST(K8sNamesTest, SubdomainsAsKubernetesDefinesThem) {
  EXPECT_TRUE(ValidateDns1123Subdomain("rpc-server").ok());
  EXPECT_TRUE(ValidateDns1123Subdomain("rpc.server-v2").ok());
  EXPECT_TRUE(ValidateDns1123Subdomain(std::string(253, 'a')).ok());
  for (const char* bad : {"../../b/virtualservices/b-vs", "a/b", "A", "-a",
                          "a-", ".a", "a..b", "a b", "a%2Fb", "a_b", ""}) {
    EXPECT_FALSE(ValidateDns1123Subdomain(bad).ok()) << bad;
  }
  EXPECT_EQ(
      ValidateDns1123Subdomain(std::string(254, 'a')).message(),
      absl::StrCat("\"", std::string(77, 'a'),
                   "...\" is not a valid name: must be at most 253 characters, "
                   "got 254"));
  EXPECT_EQ(ValidateDns1123Subdomain("../x").message(),
            "\"../x\" is not a valid name: must be lowercase letters, digits, "
            "'-' and '.', start and end with a letter or digit");
}

TEST(K8sNamesTest, LabelsAndLabelKeysAndValues) {
  EXPECT_TRUE(ValidateDns1123Label("stable").ok());
  EXPECT_FALSE(ValidateDns1123Label("a.b").ok());
  EXPECT_FALSE(ValidateDns1123Label(std::string(64, 'a')).ok());

  EXPECT_TRUE(ValidateLabelKey("version").ok());
  EXPECT_TRUE(ValidateLabelKey("app.kubernetes.io/version").ok());
  EXPECT_TRUE(ValidateLabelKey("Under_score.Dot-dash").ok());
  for (const char* bad :
       {"", "/a", "a/", "a/b/c", "Bad.Prefix/a", "a b", "a\"b", "-a"}) {
    EXPECT_FALSE(ValidateLabelKey(bad).ok()) << bad;
  }
  EXPECT_TRUE(ValidateLabelValue("").ok());
  EXPECT_TRUE(ValidateLabelValue("v2.1_rc-1").ok());
  for (const char* bad : {"v2\"}", "a b", "-a", "a\n", "é"}) {
    EXPECT_FALSE(ValidateLabelValue(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateLabelValue(std::string(64, 'a')).ok());
}

TEST(K8sNamesTest, PathSegmentsCannotAddStructure) {
  EXPECT_EQ(EscapePathSegment("rpc-server.v2"), "rpc-server.v2");
  EXPECT_EQ(EscapePathSegment("../../b/virtualservices/b-vs"),
            "..%2F..%2Fb%2Fvirtualservices%2Fb-vs");
  EXPECT_EQ(EscapePathSegment(".."), "%2E%2E");
  EXPECT_EQ(EscapePathSegment("."), "%2E");
  EXPECT_EQ(EscapePathSegment("a?watch=1#x%"), "a%3Fwatch%3D1%23x%25");
}

TEST(Utf8Test, DecodesWholeCharactersAndRefusesMalformedOnes) {
  const std::string minus = "\xE2\x88\x92";  // U+2212
  EXPECT_EQ(DecodeUtf8(minus, 0).length, 3u);
  EXPECT_EQ(DecodeUtf8(minus, 0).code_point, U'\u2212');
  EXPECT_EQ(DecodeUtf8(minus, 1).length, 0u) << "a continuation byte";
  EXPECT_EQ(DecodeUtf8(minus.substr(0, 2), 0).length, 0u) << "cut short";
  EXPECT_EQ(DecodeUtf8("\xC0\xAF", 0).length, 0u) << "overlong '/'";
  EXPECT_EQ(DecodeUtf8("\xED\xA0\x80", 0).length, 0u) << "a surrogate";
  EXPECT_EQ(DecodeUtf8("\xF4\x90\x80\x80", 0).length, 0u) << "past U+10FFFF";
  EXPECT_EQ(CodePointName(U'\u2212'), "U+2212");
}

TEST(Utf8Test, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_TRUE(IsValidUtf8("résumé −0.5"));
  EXPECT_FALSE(IsValidUtf8("half \xE2\x88"));
  EXPECT_EQ(SanitizeUtf8("half \xE2\x88!"), "half \xEF\xBF\xBD\xEF\xBF\xBD!");
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xFF\xFE\x80 ok")));
}

TEST(Utf8Test, CapsNeverSplitACharacter) {
  const std::string minuses = "\xE2\x88\x92\xE2\x88\x92\xE2\x88\x92";
  // 7 bytes: "..." leaves 4, which hold one whole minus, not one and a third.
  EXPECT_EQ(SanitizeAndCap(minuses, 7), "\xE2\x88\x92...");
  EXPECT_EQ(SanitizeAndCap(minuses, 9), minuses) << "fits: unchanged";
  for (size_t cap = 0; cap < 12; ++cap) {
    const std::string out = SanitizeAndCap(minuses + "\xE2", cap);
    EXPECT_LE(out.size(), cap);
    EXPECT_TRUE(IsValidUtf8(out)) << cap;
  }
}

TEST(Utf8Test, MessagesQuoteControlCharactersVisibly) {
  EXPECT_EQ(QuoteForMessage("a\nb\tc\x1b[31m", 100), "a\\nb\\tc\\x1B[31m");
}

}  // namespace
}  // namespace smartcanary
