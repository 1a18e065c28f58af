#include "ipam/space.hpp"

#include <algorithm>

namespace weft::ipam {

U128 Space::run_size(Run r) {
  const U128 d = r.last - r.first;
  return d == kU128Max ? kU128Max : d + 1;
}

void Space::add_count(U128 n) {
  count_ = (kU128Max - count_ < n) ? kU128Max : count_ + n;
}

void Space::add(Run run) {
  if (run.last < run.first) {
    return;
  }
  // Remove what is already free inside, then join with neighbours that touch.
  remove(run);
  U128 first = run.first;
  U128 last = run.last;
  add_count(run_size(run));
  auto next = runs_.lower_bound(first);
  if (next != runs_.begin()) {
    auto prev = std::prev(next);
    if (prev->second != kU128Max && prev->second + 1 == first) {
      first = prev->first;
      runs_.erase(prev);
    }
  }
  next = runs_.lower_bound(first);
  if (next != runs_.end() && last != kU128Max && next->first == last + 1) {
    last = next->second;
    runs_.erase(next);
  }
  runs_[first] = last;
}

U128 Space::remove(Run run) {
  if (run.last < run.first || runs_.empty()) {
    return 0;
  }
  U128 removed = 0;
  // Start at the run that may contain run.first.
  auto it = runs_.upper_bound(run.first);
  if (it != runs_.begin()) {
    --it;
  }
  while (it != runs_.end() && it->first <= run.last) {
    const U128 f = it->first;
    const U128 l = it->second;
    if (l < run.first) {
      ++it;
      continue;
    }
    it = runs_.erase(it);
    const U128 cut_first = std::max(f, run.first);
    const U128 cut_last = std::min(l, run.last);
    removed += run_size({cut_first, cut_last});
    if (f < cut_first) {
      runs_[f] = cut_first - 1;
    }
    if (cut_last < l) {
      it = runs_.emplace(cut_last + 1, l).first;
      ++it;
    }
  }
  count_ = count_ == kU128Max ? kU128Max : count_ - removed;  // saturated: the whole IPv6 space
  return removed;
}

std::optional<U128> Space::allocate(std::optional<Run> window) {
  if (runs_.empty()) {
    return std::nullopt;
  }
  U128 value = runs_.begin()->first;
  if (window) {
    auto it = runs_.upper_bound(window->first);
    if (it != runs_.begin() && std::prev(it)->second >= window->first) {
      value = window->first;
    } else if (it != runs_.end() && it->first <= window->last) {
      value = it->first;
    } else {
      return std::nullopt;
    }
  }
  remove({value, value});
  return value;
}

bool Space::claim(U128 value) {
  return remove({value, value}) == 1;
}

bool Space::free(U128 value) {
  if (is_free(value)) {
    return false;
  }
  add({value, value});
  return true;
}

bool Space::is_free(U128 value) const {
  auto it = runs_.upper_bound(value);
  return it != runs_.begin() && std::prev(it)->second >= value;
}

U128 Space::count_in(Run window) const {
  U128 n = 0;
  auto it = runs_.upper_bound(window.first);
  if (it != runs_.begin()) {
    --it;
  }
  for (; it != runs_.end() && it->first <= window.last; ++it) {
    if (it->second < window.first) {
      continue;
    }
    const U128 s = run_size({std::max(it->first, window.first), std::min(it->second, window.last)});
    n = (kU128Max - n < s) ? kU128Max : n + s;
  }
  return n;
}

std::optional<Run> Space::largest_run(std::optional<Run> window) const {
  std::optional<Run> best;
  auto it = runs_.begin();
  if (window) {
    it = runs_.upper_bound(window->first);
    if (it != runs_.begin()) {
      --it;
    }
  }
  for (; it != runs_.end(); ++it) {
    Run r{it->first, it->second};
    if (window) {
      if (r.first > window->last) {
        break;
      }
      if (r.last < window->first) {
        continue;
      }
      r = {std::max(r.first, window->first), std::min(r.last, window->last)};
    }
    if (!best || r.size_minus_one() > best->size_minus_one()) {
      best = r;
    }
  }
  return best;
}

std::vector<Run> Space::runs() const {
  std::vector<Run> out;
  out.reserve(runs_.size());
  for (const auto& [f, l] : runs_) {
    out.push_back({f, l});
  }
  return out;
}

void Space::clear() {
  runs_.clear();
  count_ = 0;
}

}  // namespace weft::ipam
