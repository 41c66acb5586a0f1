#include "controller/notify/event_aggregator.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace smartcanary::notify {
namespace {

// FNV-1a, 64 bits: stable across processes and builds (std::hash is not).
uint64_t Fnv1a(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string EventName(const std::string& object_name, const std::string& key) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016" PRIx64, Fnv1a(key));
  // An object name is at most 253 characters; so is the Event's.
  return absl::StrCat(object_name.substr(0, 253 - 17), ".", hex);
}

}  // namespace

EventWrite EventAggregator::Observe(const ObjectRef& object, EventType type,
                                    const std::string& reason,
                                    const std::string& message,
                                    absl::Time now) {
  Prune(now);
  // NUL separates the parts: none of them can hold one.
  const std::string similar_key =
      absl::StrCat(object.ns, std::string(1, '\0'), object.name,
                   std::string(1, '\0'), object.uid, std::string(1, '\0'),
                   EventTypeName(type), std::string(1, '\0'), reason);
  Similar& similar = similar_[similar_key];
  if (similar.messages.empty() ||
      now - similar.window_start > options_.similar_window) {
    similar.window_start = now;
    similar.messages.clear();
  }
  std::string shown = message;
  std::string key = absl::StrCat(similar_key, std::string(1, '\0'), message);
  if (similar.messages.count(message) == 0 &&
      similar.messages.size() >= static_cast<size_t>(options_.max_similar)) {
    shown = kCombinedPrefix + message;
    key = absl::StrCat(similar_key, std::string(1, '\0'), kCombinedPrefix);
  } else {
    similar.messages.insert(message);
  }

  auto it = entries_.find(key);
  if (it != entries_.end()) {
    ++it->second.count;
    it->second.last = now;
    return {false, it->second.name, shown, it->second.count, it->second.first,
            now};
  }
  const std::string name = EventName(object.name, key);
  entries_[key] = {name, 1, now, now};
  keys_[name] = key;
  return {true, name, shown, 1, now, now};
}

void EventAggregator::Adopt(const EventWrite& write, int64_t count,
                            absl::Time first) {
  auto key = keys_.find(write.event_name);
  if (key == keys_.end()) return;
  auto it = entries_.find(key->second);
  if (it == entries_.end()) return;
  it->second.count = count;
  it->second.first = first;
}

void EventAggregator::Forget(const EventWrite& write) {
  auto key = keys_.find(write.event_name);
  if (key == keys_.end()) return;
  entries_.erase(key->second);
  keys_.erase(key);
}

void EventAggregator::Prune(absl::Time now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.last > options_.ttl) {
      keys_.erase(it->second.name);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = similar_.begin(); it != similar_.end();) {
    if (now - it->second.window_start > options_.similar_window) {
      it = similar_.erase(it);
    } else {
      ++it;
    }
  }
  while (entries_.size() >= options_.max_entries) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                   [](const auto& a, const auto& b) {
                                     return a.second.last < b.second.last;
                                   });
    keys_.erase(oldest->second.name);
    entries_.erase(oldest);
  }
}

}  // namespace smartcanary::notify
