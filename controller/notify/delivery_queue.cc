#include "controller/notify/delivery_queue.h"

#include <utility>

namespace smartcanary::notify {

DeliveryQueue::DeliveryQueue(size_t limit, std::function<void()> on_drop)
    : limit_(limit == 0 ? 1 : limit),
      on_drop_(std::move(on_drop)),
      worker_([this] { Run(); }) {}

DeliveryQueue::~DeliveryQueue() { Stop(); }

void DeliveryQueue::Push(Delivery delivery) {
  size_t dropped = 0;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      dropped = 1;
    } else {
      if (queue_.size() >= limit_) {
        queue_.pop_front();
        dropped = 1;
      }
      queue_.push_back(std::move(delivery));
    }
  }
  if (dropped > 0 && on_drop_) on_drop_();
}

size_t DeliveryQueue::pending() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

bool DeliveryQueue::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void DeliveryQueue::Stop() {
  size_t dropped = 0;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
    dropped = queue_.size();
    queue_.clear();
  }
  if (worker_.joinable()) worker_.join();
  for (size_t i = 0; i < dropped; ++i)
    if (on_drop_) on_drop_();
}

void DeliveryQueue::Run() {
  const std::function<bool()> stop = [this] { return stopping(); };
  while (true) {
    Delivery delivery;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      delivery = std::move(queue_.front());
      queue_.pop_front();
    }
    delivery(stop);
  }
}

}  // namespace smartcanary::notify
