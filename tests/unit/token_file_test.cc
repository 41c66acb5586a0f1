#include "common/token_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace smartcanary {
namespace {

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cre", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret!", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3creT", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("s3cret\0", 7), "s3cret"));
}

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char base[] = "/tmp/token-file-XXXXXX";
    ASSERT_NE(mkdtemp(base), nullptr);
    dir_ = base;
  }
  void TearDown() override {
    EXPECT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  // Replaces the file as a Secret volume does: a new file renamed over.
  void Write(const std::string& content) {
    const std::string next = dir_ + "/next";
    std::ofstream(next) << content;
    ASSERT_EQ(std::rename(next.c_str(), path().c_str()), 0);
  }
  std::string path() const { return dir_ + "/token"; }
  std::string dir_;
};

TEST_F(TokenFileTest, RefusesAMissingOrEmptyFile) {
  EXPECT_FALSE(TokenFile::Open(path()).ok());
  Write(" \n");
  auto empty = TokenFile::Open(path());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find(path()), std::string::npos);
}

TEST_F(TokenFileTest, RereadsTheFileWhenItChanges) {
  Write("first\n");
  auto token = TokenFile::Open(path());
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ((*token)->Current(), "first");
  Write("second-and-longer");
  EXPECT_EQ((*token)->Current(), "second-and-longer");
  // Mid-rotation the file may be gone: the last good token stays.
  ASSERT_EQ(unlink(path().c_str()), 0);
  EXPECT_EQ((*token)->Current(), "second-and-longer");
  Write("third");
  EXPECT_EQ((*token)->Current(), "third");
}

}  // namespace
}  // namespace smartcanary
