#ifndef SMARTCANARY_CONTROLLER_NOTIFY_EVENT_AGGREGATOR_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_EVENT_AGGREGATOR_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "controller/notify/event_recorder.h"

namespace smartcanary::notify {

struct AggregatorOptions {
  // Distinct messages of one reason for one object within `similar_window`
  // before they are combined into one Event (as client-go's recorder does).
  int max_similar = 10;
  absl::Duration similar_window = absl::Minutes(10);
  // An Event not seen again for this long is written anew (the API server
  // deletes Events after an hour by default).
  absl::Duration ttl = absl::Minutes(50);
  size_t max_entries = 4096;  // remembered Events; the oldest go first
};

// What to write for one occurrence: a new Event, or a repeat of a known one
// (count and lastTimestamp, and the message when combined).
struct EventWrite {
  bool create = true;
  std::string event_name;  // "<object>.<16 hex digits>"
  std::string message;
  int64_t count = 1;
  absl::Time first;
  absl::Time last;
};

// Decides how occurrences become Events so that a flapping rollout writes a
// handful of Events with counts, not thousands: the same type, reason and
// message on the same object is one Event whose count grows; more than
// max_similar different messages for one reason within the window become
// one "(combined from similar events)" Event. Event names are a hash of
// what they aggregate, so a restarted canaryd finds its earlier Events.
// Pure: time comes from the caller; not thread-safe.
class EventAggregator {
 public:
  explicit EventAggregator(AggregatorOptions options = {})
      : options_(options) {}

  EventWrite Observe(const ObjectRef& object, EventType type,
                     const std::string& reason, const std::string& message,
                     absl::Time now);
  // The Event was not where `write` expected (expired, or created by an
  // earlier process): adopt the server's count and time.
  void Adopt(const EventWrite& write, int64_t count, absl::Time first);
  // The write failed: forget the Event so the next occurrence creates it.
  void Forget(const EventWrite& write);

 private:
  struct Entry {
    std::string name;
    int64_t count;
    absl::Time first;
    absl::Time last;
  };
  struct Similar {
    absl::Time window_start;
    std::set<std::string> messages;
  };
  void Prune(absl::Time now);

  AggregatorOptions options_;
  std::map<std::string, Entry> entries_;     // by aggregation key
  std::map<std::string, std::string> keys_;  // event name -> key
  std::map<std::string, Similar> similar_;   // by object, type, reason
};

// "(combined from similar events): " + message, as kubectl users know it.
inline constexpr char kCombinedPrefix[] = "(combined from similar events): ";

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_EVENT_AGGREGATOR_H_
