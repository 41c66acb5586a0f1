#ifndef SMARTCANARY_CONTROLLER_HTTP_HTTP_REQUEST_H_
#define SMARTCANARY_CONTROLLER_HTTP_HTTP_REQUEST_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace smartcanary::http {

struct Request {
  std::string method;
  std::string path;                            // without the query string
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// What one request may take; anything larger is refused, not buffered.
struct RequestLimits {
  size_t max_head_bytes = 8192;  // request line and headers
  size_t max_headers = 64;
  size_t max_body_bytes = 1 << 20;
};

// The outcome of parsing the bytes received so far on a connection.
struct ParsedRequest {
  enum class State { kIncomplete, kComplete, kRejected };
  State state = State::kIncomplete;
  Request request;    // kComplete
  int code = 0;       // kRejected: the HTTP status to answer with
  std::string error;  // kRejected: why, for the response body
};

// Pure: parses an HTTP/1.x request from `raw`, the bytes read so far. Strict
// on purpose (CRLF line ends, one Content-Length, no chunked bodies, no
// control characters in headers): the server answers probes and scrapes,
// and whatever it cannot read unambiguously it refuses.
ParsedRequest ParseRequest(std::string_view raw, const RequestLimits& limits);

}  // namespace smartcanary::http

#endif  // SMARTCANARY_CONTROLLER_HTTP_HTTP_REQUEST_H_
