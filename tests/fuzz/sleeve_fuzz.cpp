// Fuzz target for the sleeve packet parsers (datapath/sleeve_wire.hpp) and the engine's
// receive path: the input as a datagram, as a data plaintext (records must re-encode to the
// same bytes), as a probe, and fed to an engine with a plaintext session so that frames
// reach delivery, flooding and relay, and as a TAP frame (ICMP answers stay well formed).
// fuzz-deps: weft_datapath weft_common
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "datapath/sleeve.hpp"
#include "datapath/sleeve_icmp.hpp"
#include "datapath/sleeve_wire.hpp"

namespace {

using namespace weft::datapath;

class FixedClock final : public weft::Clock {
 public:
  TimePoint now() const override { return TimePoint{}; }
  boost::asio::awaitable<bool> sleep_for(Duration) override { co_return true; }
};

SleeveEngine& engine() {
  static FixedClock clock;
  static SleeveEngine e([] {
    SleeveConfig c;
    c.self = 1;
    c.clock = &clock;
    return c;
  }());
  static bool init = [] {
    for (std::uint32_t peer : {2u, 3u}) {
      SleeveSession s;
      s.peer = peer;
      s.tx_index = s.rx_index = peer + 5;
      s.suite = SleeveSuite::kNone;
      s.endpoint = weft::Endpoint(boost::asio::ip::make_address_v4(0xc6120000u + peer), 6783);
      (void)e.add_peer(s);
    }
    SleeveRoutes r;
    r.next_hop = {{2, 2}, {3, 3}, {4, 3}};
    r.broadcast = {{1, {2, 3}}, {2, {3}}, {3, {2}}};
    e.set_routes(r);
    return true;
  }();
  (void)init;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  (void)parse_header(bytes);
  if (auto records = parse_frame_records(bytes)) {
    std::vector<std::uint8_t> again;
    for (const auto& r : *records) {
      append_frame_record(again, r.src_peer, r.dst_peer, r.hops, r.frame);
    }
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) {
      __builtin_trap();  // the encoding is canonical
    }
  }
  (void)parse_probe_record(bytes);

  static std::uint64_t counter = 0;
  SleeveOutput out;
  weft::Datagram raw;
  raw.peer = weft::Endpoint(boost::asio::ip::make_address("198.18.0.2"), 6783);
  raw.assign(bytes);
  engine().handle_datagrams(std::span<const weft::Datagram>(&raw, 1), out);
  // The same bytes as the plaintext of an authentic data and probe packet.
  for (PacketType type : {PacketType::kData, PacketType::kProbe}) {
    weft::Datagram d;
    d.peer = raw.peer;
    d.buffer.resize(kSleeveHeaderSize);
    encode_header({.type = type, .receiver_index = 7, .counter = counter++},
                  std::span<std::uint8_t, kSleeveHeaderSize>(d.buffer.data(), kSleeveHeaderSize));
    d.buffer.insert(d.buffer.end(), bytes.begin(), bytes.end());
    d.size = d.buffer.size();
    engine().handle_datagrams(std::span<const weft::Datagram>(&d, 1), out);
  }
  for (const auto& f : out.frames()) {
    if (f.size() < kMinEthernetFrame) {
      __builtin_trap();
    }
  }
  out.clear();
  if (size >= kMinEthernetFrame && size <= kMaxFrameSize) {
    const std::span<const std::uint8_t> frame = bytes;
    engine().handle_tap_frames(std::span(&frame, 1), out);
    if (auto a = make_too_big_answer(bytes, 1280)) {
      if (a->size() < 14 + 20 + 8 || a->size() > 14 + 1280) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
