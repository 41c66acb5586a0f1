// Tells ThreadSanitizer about absl::Mutex and absl::CondVar under
// --config=tsan. Debian's abseil is not built with TSan, so its Mutex's own
// annotations are compiled out and every access guarded by one looks like a
// race. These definitions interpose on the library's exported functions,
// call the real ones (dlsym RTLD_NEXT) and add the happens-before edges.
// Linked only into TSan builds (.bazelrc: --custom_malloc).
#include <dlfcn.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

extern "C" {
void __tsan_acquire(void* address);
void __tsan_release(void* address);
}

namespace {

template <typename Fn>
Fn Real(const char* symbol) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, symbol));
}

using Condition = absl::Condition;
using Duration = absl::Duration;
using Time = absl::Time;

// A Condition is evaluated under the lock, by whichever thread holds it
// (often not the waiter): its reads are part of that critical section.
struct Guarded {
  const Condition* condition;
  void* mu;
};
bool EvalGuarded(Guarded* guarded) {
  __tsan_acquire(guarded->mu);
  const bool met = guarded->condition->Eval();
  __tsan_release(guarded->mu);
  return met;
}

}  // namespace

#define SMARTCANARY_REAL(type, symbol) \
  static const auto real = Real<type>(#symbol)

extern "C" {

// absl::Mutex::Lock() and friends: acquire once the lock is held, release
// before it is let go.
void _ZN4absl7debian35Mutex4LockEv(void* mu) {
  SMARTCANARY_REAL(void (*)(void*), _ZN4absl7debian35Mutex4LockEv);
  real(mu);
  __tsan_acquire(mu);
}
void _ZN4absl7debian35Mutex10ReaderLockEv(void* mu) {
  SMARTCANARY_REAL(void (*)(void*), _ZN4absl7debian35Mutex10ReaderLockEv);
  real(mu);
  __tsan_acquire(mu);
}
bool _ZN4absl7debian35Mutex7TryLockEv(void* mu) {
  SMARTCANARY_REAL(bool (*)(void*), _ZN4absl7debian35Mutex7TryLockEv);
  const bool locked = real(mu);
  if (locked) __tsan_acquire(mu);
  return locked;
}
bool _ZN4absl7debian35Mutex13ReaderTryLockEv(void* mu) {
  SMARTCANARY_REAL(bool (*)(void*), _ZN4absl7debian35Mutex13ReaderTryLockEv);
  const bool locked = real(mu);
  if (locked) __tsan_acquire(mu);
  return locked;
}
void _ZN4absl7debian35Mutex6UnlockEv(void* mu) {
  SMARTCANARY_REAL(void (*)(void*), _ZN4absl7debian35Mutex6UnlockEv);
  __tsan_release(mu);
  real(mu);
}
void _ZN4absl7debian35Mutex12ReaderUnlockEv(void* mu) {
  SMARTCANARY_REAL(void (*)(void*), _ZN4absl7debian35Mutex12ReaderUnlockEv);
  __tsan_release(mu);
  real(mu);
}
void _ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(void* mu,
                                                       const Condition& c) {
  SMARTCANARY_REAL(void (*)(void*, const Condition&),
                   _ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE);
  Guarded guarded{&c, mu};
  real(mu, Condition(&EvalGuarded, &guarded));
  __tsan_acquire(mu);
}
void _ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(
    void* mu, const Condition& c) {
  SMARTCANARY_REAL(void (*)(void*, const Condition&),
                   _ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE);
  Guarded guarded{&c, mu};
  real(mu, Condition(&EvalGuarded, &guarded));
  __tsan_acquire(mu);
}
bool _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    void* mu, const Condition& c, Duration timeout) {
  SMARTCANARY_REAL(
      bool (*)(void*, const Condition&, Duration),
      _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE);
  Guarded guarded{&c, mu};
  const bool met = real(mu, Condition(&EvalGuarded, &guarded), timeout);
  __tsan_acquire(mu);  // held on return either way
  return met;
}
// Await and CondVar::Wait let the mutex go and take it back inside.
void _ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(void* mu,
                                                    const Condition& c) {
  SMARTCANARY_REAL(void (*)(void*, const Condition&),
                   _ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE);
  Guarded guarded{&c, mu};
  __tsan_release(mu);
  real(mu, Condition(&EvalGuarded, &guarded));
  __tsan_acquire(mu);
}
bool _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    void* mu, const Condition& c, Duration timeout) {
  SMARTCANARY_REAL(
      bool (*)(void*, const Condition&, Duration),
      _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE);
  Guarded guarded{&c, mu};
  __tsan_release(mu);
  const bool met = real(mu, Condition(&EvalGuarded, &guarded), timeout);
  __tsan_acquire(mu);
  return met;
}
void _ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(void* cv, void* mu) {
  SMARTCANARY_REAL(void (*)(void*, void*),
                   _ZN4absl7debian37CondVar4WaitEPNS0_5MutexE);
  __tsan_release(mu);
  real(cv, mu);
  __tsan_acquire(cv);
  __tsan_acquire(mu);
}
bool _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    void* cv, void* mu, Duration timeout) {
  SMARTCANARY_REAL(
      bool (*)(void*, void*, Duration),
      _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE);
  __tsan_release(mu);
  const bool timed_out = real(cv, mu, timeout);
  __tsan_acquire(cv);
  __tsan_acquire(mu);
  return timed_out;
}
bool _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    void* mu, const Condition& c, Time deadline) {
  SMARTCANARY_REAL(
      bool (*)(void*, const Condition&, Time),
      _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE);
  Guarded guarded{&c, mu};
  const bool met = real(mu, Condition(&EvalGuarded, &guarded), deadline);
  __tsan_acquire(mu);
  return met;
}
bool _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    void* mu, const Condition& c, Time deadline) {
  SMARTCANARY_REAL(
      bool (*)(void*, const Condition&, Time),
      _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE);
  Guarded guarded{&c, mu};
  __tsan_release(mu);
  const bool met = real(mu, Condition(&EvalGuarded, &guarded), deadline);
  __tsan_acquire(mu);
  return met;
}
bool _ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    void* cv, void* mu, Time deadline) {
  SMARTCANARY_REAL(
      bool (*)(void*, void*, Time),
      _ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE);
  __tsan_release(mu);
  const bool timed_out = real(cv, mu, deadline);
  __tsan_acquire(cv);
  __tsan_acquire(mu);
  return timed_out;
}
void _ZN4absl7debian37CondVar6SignalEv(void* cv) {
  SMARTCANARY_REAL(void (*)(void*), _ZN4absl7debian37CondVar6SignalEv);
  __tsan_release(cv);
  real(cv);
}
void _ZN4absl7debian37CondVar9SignalAllEv(void* cv) {
  SMARTCANARY_REAL(void (*)(void*), _ZN4absl7debian37CondVar9SignalAllEv);
  __tsan_release(cv);
  real(cv);
}

}  // extern "C"
