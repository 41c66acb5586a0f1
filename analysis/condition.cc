#include "analysis/condition.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace smartcanary::analysis {

using Value = std::variant<double, bool, std::vector<double>>;

struct Condition::Node {
  enum class Kind { kNumber, kBool, kResult, kIndex, kUnary, kBinary, kCall };
  Kind kind;
  double number = 0;
  bool boolean = false;
  std::string op;  // operator or function name
  std::vector<std::shared_ptr<const Node>> children;
  int depth = 1;  // of the tree below and including this node
};

namespace {

using Node = Condition::Node;
using NodePtr = std::shared_ptr<const Node>;

// Evaluation and destruction recurse over the tree, and parsing recurses
// per nesting level: both are bounded so that no condition, however
// written, can exhaust the stack of canaryd or the analyzer.
constexpr int kMaxTreeDepth = 128;

// Recursive descent over the grammar, lowest precedence first.
class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  absl::StatusOr<NodePtr> ParseAll() {
    auto node = ParseOr();
    if (!node.ok()) return node;
    SkipSpace();
    if (pos_ != text_.size())
      return Error(absl::StrCat("unexpected text from ", Describe()));
    return node;
  }

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " at position ", pos_ + 1, " of \"",
                     QuoteForMessage(text_, 256), "\""));
  }

  absl::StatusOr<NodePtr> Make(Node node) {
    for (const NodePtr& child : node.children)
      node.depth = std::max(node.depth, child->depth + 1);
    if (node.depth > kMaxTreeDepth) {
      return Error(absl::StrCat("the expression is more than ", kMaxTreeDepth,
                                " operations deep"));
    }
    return std::make_shared<const Node>(std::move(node));
  }

  // Counts one level of nesting (parentheses, !, -, [ ], a call) for as long
  // as it lives.
  class Nesting {
   public:
    explicit Nesting(Parser& parser) : parser_(parser) { ++parser_.nesting_; }
    ~Nesting() { --parser_.nesting_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    absl::Status Check() const {
      if (parser_.nesting_ <= Condition::kMaxNesting) return absl::OkStatus();
      return parser_.Error(absl::StrCat(
          "nested more than ", Condition::kMaxNesting, " levels deep"));
    }

   private:
    Parser& parser_;
  };

  void SkipSpace() {
    while (pos_ < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }

  bool Accept(const std::string& token) {
    SkipSpace();
    if (text_.compare(pos_, token.size(), token) != 0) return false;
    pos_ += token.size();
    return true;
  }

  absl::StatusOr<NodePtr> ParseBinary(
      const std::vector<std::string>& ops,
      absl::StatusOr<NodePtr> (Parser::*next)()) {
    auto left = (this->*next)();
    if (!left.ok()) return left;
    while (true) {
      std::string matched;
      for (const std::string& op : ops) {
        // "<" must not swallow "<=", "=" alone is not an operator.
        SkipSpace();
        if (text_.compare(pos_, op.size(), op) == 0 &&
            !((op == "<" || op == ">") && pos_ + 1 < text_.size() &&
              text_[pos_ + 1] == '=')) {
          matched = op;
          break;
        }
      }
      if (matched.empty()) return left;
      pos_ += matched.size();
      auto right = (this->*next)();
      if (!right.ok()) return right;
      left = Make({Node::Kind::kBinary, 0, false, matched, {*left, *right}});
      if (!left.ok()) return left;
    }
  }

  absl::StatusOr<NodePtr> ParseOr() {
    return ParseBinary({"||"}, &Parser::ParseAnd);
  }
  absl::StatusOr<NodePtr> ParseAnd() {
    return ParseBinary({"&&"}, &Parser::ParseCompare);
  }
  absl::StatusOr<NodePtr> ParseCompare() {
    return ParseBinary({"==", "!=", "<=", ">=", "<", ">"}, &Parser::ParseSum);
  }
  absl::StatusOr<NodePtr> ParseSum() {
    return ParseBinary({"+", "-"}, &Parser::ParseProduct);
  }
  absl::StatusOr<NodePtr> ParseProduct() {
    return ParseBinary({"*", "/"}, &Parser::ParseUnary);
  }

  absl::StatusOr<NodePtr> ParseUnary() {
    SkipSpace();
    if (pos_ < text_.size() && (text_[pos_] == '!' || text_[pos_] == '-') &&
        !(text_[pos_] == '!' && pos_ + 1 < text_.size() &&
          text_[pos_ + 1] == '=')) {
      const std::string op(1, text_[pos_++]);
      Nesting nesting(*this);
      if (auto s = nesting.Check(); !s.ok()) return s;
      auto operand = ParseUnary();
      if (!operand.ok()) return operand;
      return Make({Node::Kind::kUnary, 0, false, op, {*operand}});
    }
    return ParsePostfix();
  }

  absl::StatusOr<NodePtr> ParsePostfix() {
    auto node = ParsePrimary();
    if (!node.ok()) return node;
    while (Accept("[")) {
      Nesting nesting(*this);
      if (auto s = nesting.Check(); !s.ok()) return s;
      auto index = ParseOr();
      if (!index.ok()) return index;
      if (!Accept("]")) return Error("expected ']'");
      node = Make({Node::Kind::kIndex, 0, false, "[]", {*node, *index}});
      if (!node.ok()) return node;
    }
    return node;
  }

  absl::StatusOr<NodePtr> ParsePrimary() {
    SkipSpace();
    if (pos_ >= text_.size()) return Error("expected a value");
    if (Accept("(")) {
      Nesting nesting(*this);
      if (auto s = nesting.Check(); !s.ok()) return s;
      auto inner = ParseOr();
      if (!inner.ok()) return inner;
      if (!Accept(")")) return Error("expected ')'");
      return inner;
    }
    const char c = text_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      const char* start = text_.c_str() + pos_;
      char* end = nullptr;
      const double value = std::strtod(start, &end);
      if (end == start) return Error("expected a number");
      pos_ += end - start;
      return Make({Node::Kind::kNumber, value, false, "", {}});
    }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      const size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
              text_[pos_] == '_')) {
        ++pos_;
      }
      const std::string word = text_.substr(start, pos_ - start);
      if (word == "result")
        return Make({Node::Kind::kResult, 0, false, "", {}});
      if (word == "true" || word == "false") {
        return Make({Node::Kind::kBool, 0, word == "true", "", {}});
      }
      static const std::map<std::string, size_t> kFunctions = {
          {"isNaN", 1}, {"isInf", 1}, {"len", 1}, {"default", 2}};
      auto function = kFunctions.find(word);
      if (function == kFunctions.end()) {
        pos_ = start;
        return Error(absl::StrCat(
            "unknown name \"", word,
            "\" (known: result, true, false, isNaN, isInf, len, default)"));
      }
      if (!Accept("(")) return Error(absl::StrCat("expected '(' after ", word));
      Nesting nesting(*this);
      if (auto s = nesting.Check(); !s.ok()) return s;
      Node call{Node::Kind::kCall, 0, false, word, {}};
      for (size_t i = 0; i < function->second; ++i) {
        if (i > 0 && !Accept(","))
          return Error(
              absl::StrCat(word, "() takes ", function->second, " arguments"));
        auto argument = ParseOr();
        if (!argument.ok()) return argument;
        call.children.push_back(*argument);
      }
      if (!Accept(")"))
        return Error(absl::StrCat("expected ')' to close ", word, "("));
      return Make(std::move(call));
    }
    return Error(absl::StrCat("unexpected ", Describe()));
  }

  // The character at pos_, whole: a UTF-8 sequence is never split (a
  // Unicode minus U+2212 pasted from a document is three bytes).
  std::string Describe() const {
    const Utf8Char c = DecodeUtf8(text_, pos_);
    if (c.length == 0) {
      return absl::StrCat(
          "byte 0x",
          absl::Hex(static_cast<unsigned char>(text_[pos_]), absl::kZeroPad2),
          " (not UTF-8)");
    }
    if (c.length == 1) {
      return absl::StrCat("'", QuoteForMessage(text_.substr(pos_, 1), 4), "'");
    }
    std::string hint;
    if (c.code_point == 0x2212) hint = "; write the ASCII '-'";
    return absl::StrCat("'", text_.substr(pos_, c.length), "' (",
                        CodePointName(c.code_point), hint, ")");
  }

  const std::string& text_;
  size_t pos_ = 0;
  int nesting_ = 0;
};

absl::Status TypeError(const std::string& what) {
  return absl::InvalidArgumentError(what);
}

absl::StatusOr<double> AsNumber(const Value& value, const std::string& where) {
  if (const double* number = std::get_if<double>(&value)) return *number;
  if (const auto* list = std::get_if<std::vector<double>>(&value);
      list && list->size() == 1) {
    return list->front();
  }
  if (const auto* list = std::get_if<std::vector<double>>(&value)) {
    return TypeError(absl::StrCat(where, ": result has ", list->size(),
                                  " values; pick one with result[i]"));
  }
  return TypeError(absl::StrCat(where, ": expected a number, got a boolean"));
}

absl::StatusOr<bool> AsBool(const Value& value, const std::string& where) {
  if (const bool* boolean = std::get_if<bool>(&value)) return *boolean;
  return TypeError(absl::StrCat(where, ": expected true/false, got a number"));
}

absl::StatusOr<Value> Eval(const Node& node,
                           const std::vector<double>& result) {
  switch (node.kind) {
    case Node::Kind::kNumber:
      return Value(node.number);
    case Node::Kind::kBool:
      return Value(node.boolean);
    case Node::Kind::kResult:
      return Value(result);
    case Node::Kind::kIndex: {
      auto list = Eval(*node.children[0], result);
      if (!list.ok()) return list;
      auto index = Eval(*node.children[1], result);
      if (!index.ok()) return index;
      const auto* values = std::get_if<std::vector<double>>(&*list);
      if (values == nullptr) return TypeError("only result can be indexed");
      auto i = AsNumber(*index, "index");
      if (!i.ok()) return i.status();
      if (*i < 0 || *i != std::floor(*i) ||
          *i >= static_cast<double>(values->size())) {
        return TypeError(absl::StrCat("result[", *i, "]: result has ",
                                      values->size(), " values"));
      }
      return Value((*values)[static_cast<size_t>(*i)]);
    }
    case Node::Kind::kUnary: {
      auto operand = Eval(*node.children[0], result);
      if (!operand.ok()) return operand;
      if (node.op == "!") {
        auto b = AsBool(*operand, "!");
        if (!b.ok()) return b.status();
        return Value(!*b);
      }
      auto n = AsNumber(*operand, "-");
      if (!n.ok()) return n.status();
      return Value(-*n);
    }
    case Node::Kind::kCall: {
      if (node.op == "default") {
        // default(x, d): d when x cannot be evaluated or is NaN.
        auto x = Eval(*node.children[0], result);
        if (x.ok()) {
          auto n = AsNumber(*x, "default");
          if (n.ok() && !std::isnan(*n)) return Value(*n);
        }
        return Eval(*node.children[1], result);
      }
      auto argument = Eval(*node.children[0], result);
      if (!argument.ok()) return argument;
      if (node.op == "len") {
        if (const auto* list = std::get_if<std::vector<double>>(&*argument)) {
          return Value(static_cast<double>(list->size()));
        }
        return TypeError("len(): expected result");
      }
      auto n = AsNumber(*argument, node.op + "()");
      if (!n.ok()) return n.status();
      return Value(node.op == "isNaN" ? std::isnan(*n) : std::isinf(*n));
    }
    case Node::Kind::kBinary: {
      auto left = Eval(*node.children[0], result);
      if (!left.ok()) return left;
      if (node.op == "&&" || node.op == "||") {
        auto l = AsBool(*left, node.op);
        if (!l.ok()) return l.status();
        if (node.op == "&&" ? !*l : *l) return Value(*l);  // short-circuit
        auto right = Eval(*node.children[1], result);
        if (!right.ok()) return right;
        auto r = AsBool(*right, node.op);
        if (!r.ok()) return r.status();
        return Value(*r);
      }
      auto right = Eval(*node.children[1], result);
      if (!right.ok()) return right;
      if ((node.op == "==" || node.op == "!=") &&
          std::holds_alternative<bool>(*left) &&
          std::holds_alternative<bool>(*right)) {
        return Value((std::get<bool>(*left) == std::get<bool>(*right)) ==
                     (node.op == "=="));
      }
      auto l = AsNumber(*left, node.op);
      if (!l.ok()) return l.status();
      auto r = AsNumber(*right, node.op);
      if (!r.ok()) return r.status();
      const double a = *l, b = *r;
      if (node.op == "+") return Value(a + b);
      if (node.op == "-") return Value(a - b);
      if (node.op == "*") return Value(a * b);
      if (node.op == "/") return Value(a / b);
      // IEEE comparisons are false with NaN, as Argo's are; != is the
      // negation of ==, so NaN != x is true there too.
      if (node.op == "==") return Value(a == b);
      if (node.op == "!=") return Value(a != b);
      if (node.op == "<") return Value(a < b);
      if (node.op == "<=") return Value(a <= b);
      if (node.op == ">") return Value(a > b);
      return Value(a >= b);
    }
  }
  return TypeError("unknown expression");
}

}  // namespace

absl::StatusOr<Condition> Condition::Parse(const std::string& text) {
  if (text.size() > kMaxLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("the condition is ", text.size(), " bytes long; at most ",
                     kMaxLength, " are allowed"));
  }
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError("the condition is empty");
  }
  auto root = Parser(text).ParseAll();
  if (!root.ok()) return root.status();
  Condition condition;
  condition.text_ = text;
  condition.root_ = *root;
  // A condition must be true/false on a one-value result; catches `result[0] +
  // 1`.
  auto probe = Eval(*condition.root_, {1.0});
  if (probe.ok() && !std::holds_alternative<bool>(*probe)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", QuoteForMessage(text, 256),
                     "\" gives a number, not true/false (add a comparison)"));
  }
  return condition;
}

absl::StatusOr<bool> Condition::Evaluate(
    const std::vector<double>& result) const {
  auto value = Eval(*root_, result);
  if (!value.ok()) return value.status();
  return AsBool(*value, QuoteForMessage(text_, 256));
}

absl::StatusOr<std::string> SubstituteArgs(
    const std::string& text, const std::map<std::string, std::string>& args) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    const size_t close = text.find("}}", open);
    if (close == std::string::npos) break;
    out += text.substr(pos, open - pos);
    std::string key(
        absl::StripAsciiWhitespace(text.substr(open + 2, close - open - 2)));
    if (key.rfind("args.", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("{{", QuoteForMessage(key, 80),
                       "}}: only {{args.NAME}} can be substituted"));
    }
    key = key.substr(5);
    auto value = args.find(key);
    if (value == args.end()) {
      const std::string shown = QuoteForMessage(key, 80);
      return absl::InvalidArgumentError(absl::StrCat(
          "{{args.", shown, "}}: no argument named \"", shown, "\" was given"));
    }
    out += value->second;
    pos = close + 2;
  }
  return out + text.substr(pos);
}

}  // namespace smartcanary::analysis
