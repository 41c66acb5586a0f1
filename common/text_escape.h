#ifndef SMARTCANARY_COMMON_TEXT_ESCAPE_H_
#define SMARTCANARY_COMMON_TEXT_ESCAPE_H_

#include <string>
#include <string_view>

// Escaping for text that came from outside (API objects, Prometheus, RPC
// peers) before it reaches a log line or a terminal: a quoted name must not
// end a JSON string, start a new log line, or move the cursor.
namespace smartcanary {

// The contents of a JSON string literal (without the quotes): quote,
// backslash and control characters escaped, invalid UTF-8 bytes replaced by
// U+FFFD, so the result is always valid UTF-8 and valid JSON.
std::string JsonStringBody(std::string_view text);

// Text for a terminal or a text log line: control characters (C0 including
// newline and CR, DEL, C1) written as \n, \r, \t or \xNN / \u{NNNN}, and
// invalid UTF-8 bytes as \xNN. Printable text, other languages included,
// passes unchanged.
std::string EscapeControlCharacters(std::string_view text);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_TEXT_ESCAPE_H_
