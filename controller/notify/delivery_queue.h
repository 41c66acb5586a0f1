#ifndef SMARTCANARY_CONTROLLER_NOTIFY_DELIVERY_QUEUE_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_DELIVERY_QUEUE_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace smartcanary::notify {

// A bounded queue with a thread of its own that runs deliveries in order,
// so that whoever pushes (a reconcile) never waits on a slow receiver.
// Full, it drops the oldest delivery: the newest say most about a rollout
// now. Stopping ends the waits of the delivery under way (its `stopping`
// turns true) and drops those not started; every drop is reported.
class DeliveryQueue {
 public:
  // Gets a function that says when to give up (canaryd is stopping).
  using Delivery = std::function<void(const std::function<bool()>& stopping)>;

  DeliveryQueue(size_t limit, std::function<void()> on_drop);
  ~DeliveryQueue();  // Stop()
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;

  // Never blocks beyond a short lock.
  void Push(Delivery delivery);
  void Stop();
  // Deliveries waiting (not the one under way).
  size_t pending() const;

 private:
  void Run();
  bool stopping() const;

  const size_t limit_;
  const std::function<void()> on_drop_;
  mutable absl::Mutex mu_;
  std::deque<Delivery> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_DELIVERY_QUEUE_H_
