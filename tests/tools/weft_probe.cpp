// weft-probe: the connectivity probe of the policy tests (what agnhost's connect/serve
// commands are to the upstream e2e suite), run inside pod network namespaces.
//
//   weft-probe serve [--tcp PORTS] [--udp PORTS] [--sctp PORTS]
//       listens on every address of both families (PORTS: "80,81"); TCP and SCTP accept and
//       close, UDP echoes each datagram. Prints "ready" once every socket is bound; runs
//       until killed. A protocol the kernel lacks (SCTP here) is reported on stderr and
//       skipped: "weft-probe: SCTP unavailable: ...".
//   weft-probe connect [--timeout-ms N] PROTO:ADDRESS:PORT...
//       probes all targets at once ([v6]:port for IPv6) and prints one line per target in
//       order: "TCP 198.19.0.2 80 ok" — ok (connected / answered), blocked (no answer within
//       the timeout: dropped), refused (RST or ICMP unreachable), unavailable (protocol
//       missing), error (anything else).
// Exit status: 0 when it ran (whatever the verdicts), 2 on bad usage.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

enum class Proto { kTcp, kUdp, kSctp };

const char* name(Proto p) {
  return p == Proto::kTcp ? "TCP" : p == Proto::kUdp ? "UDP" : "SCTP";
}

int socket_for(Proto p, int family) {
  switch (p) {
    case Proto::kTcp:
      return ::socket(family, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    case Proto::kUdp:
      return ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP);
    case Proto::kSctp:
      return ::socket(family, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_SCTP);
  }
  return -1;
}

bool parse_ports(const char* text, std::vector<int>& out) {
  std::string s(text);
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? s.npos : comma - start);
    char* end = nullptr;
    const long port = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || port < 1 || port > 65535) {
      return false;
    }
    out.push_back(static_cast<int>(port));
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return true;
}

int serve(int argc, char** argv) {
  struct Listener {
    int fd;
    Proto proto;
  };
  std::vector<Listener> listeners;
  for (int i = 0; i < argc; i += 2) {
    const std::string flag = argv[i];
    Proto p = Proto::kTcp;
    if (flag == "--tcp") {
      p = Proto::kTcp;
    } else if (flag == "--udp") {
      p = Proto::kUdp;
    } else if (flag == "--sctp") {
      p = Proto::kSctp;
    } else {
      std::fprintf(stderr, "weft-probe: unknown flag %s\n", flag.c_str());
      return 2;
    }
    std::vector<int> ports;
    if (i + 1 >= argc || !parse_ports(argv[i + 1], ports)) {
      std::fprintf(stderr, "weft-probe: %s needs ports (80,81)\n", flag.c_str());
      return 2;
    }
    for (int port : ports) {
      const int fd = socket_for(p, AF_INET6);
      if (fd < 0) {
        std::fprintf(stderr, "weft-probe: %s unavailable: %s\n", name(p), std::strerror(errno));
        break;
      }
      const int off = 0;
      const int on = 1;
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_port = htons(static_cast<std::uint16_t>(port));
      addr.sin6_addr = in6addr_any;
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          (p != Proto::kUdp && ::listen(fd, 64) != 0)) {
        std::fprintf(stderr, "weft-probe: %s port %d: %s\n", name(p), port, std::strerror(errno));
        return 1;
      }
      listeners.push_back({fd, p});
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<pollfd> fds;
  for (const auto& l : listeners) {
    fds.push_back({l.fd, POLLIN, 0});
  }
  for (;;) {
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      return 1;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) == 0) {
        continue;
      }
      if (listeners[i].proto == Proto::kUdp) {
        char buffer[2048];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t n = ::recvfrom(fds[i].fd, buffer, sizeof buffer, 0,
                                     reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0) {
          ::sendto(fds[i].fd, buffer, static_cast<std::size_t>(n), 0,
                   reinterpret_cast<sockaddr*>(&from), len);
        }
      } else {
        const int c = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_NONBLOCK);
        if (c >= 0) {
          ::close(c);
        }
      }
    }
  }
}

struct Target {
  Proto proto = Proto::kTcp;
  std::string address;
  int port = 0;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int fd = -1;
  std::string verdict;
};

bool parse_target(const std::string& text, Target& t) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    return false;
  }
  const std::string proto = text.substr(0, colon);
  if (proto == "TCP") {
    t.proto = Proto::kTcp;
  } else if (proto == "UDP") {
    t.proto = Proto::kUdp;
  } else if (proto == "SCTP") {
    t.proto = Proto::kSctp;
  } else {
    return false;
  }
  std::string rest = text.substr(colon + 1);
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    const auto close = rest.find("]:");
    if (close == std::string::npos) {
      return false;
    }
    t.address = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const auto last = rest.rfind(':');
    if (last == std::string::npos) {
      return false;
    }
    t.address = rest.substr(0, last);
    port = rest.substr(last + 1);
  }
  std::vector<int> ports;
  if (!parse_ports(port.c_str(), ports) || ports.size() != 1) {
    return false;
  }
  t.port = ports[0];
  auto* v4 = reinterpret_cast<sockaddr_in*>(&t.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&t.addr);
  if (::inet_pton(AF_INET, t.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(t.port));
    t.addr_len = sizeof(sockaddr_in);
    return true;
  }
  if (::inet_pton(AF_INET6, t.address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(t.port));
    t.addr_len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

int probe(int argc, char** argv) {
  int timeout_ms = 1000;
  std::vector<Target> targets;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--timeout-ms" && i + 1 < argc) {
      timeout_ms = std::atoi(argv[++i]);
      continue;
    }
    Target t;
    if (!parse_target(arg, t)) {
      std::fprintf(stderr, "weft-probe: bad target %s (PROTO:ADDRESS:PORT)\n", arg.c_str());
      return 2;
    }
    targets.push_back(std::move(t));
  }
  for (auto& t : targets) {
    t.fd = socket_for(t.proto, t.addr.ss_family);
    if (t.fd < 0) {
      t.verdict = errno == EPROTONOSUPPORT || errno == ESOCKTNOSUPPORT ? "unavailable" : "error";
      continue;
    }
    const int rc = ::connect(t.fd, reinterpret_cast<sockaddr*>(&t.addr), t.addr_len);
    if (rc != 0 && errno != EINPROGRESS) {
      t.verdict = errno == ECONNREFUSED ? "refused" : "error";
      continue;
    }
    if (t.proto == Proto::kUdp) {
      static const char kPayload[] = "weft-probe";
      if (::send(t.fd, kPayload, sizeof kPayload - 1, 0) < 0) {
        t.verdict = errno == ECONNREFUSED ? "refused" : "error";
      }
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Target*> waiting;
    for (auto& t : targets) {
      if (t.verdict.empty()) {
        fds.push_back({t.fd, static_cast<short>(t.proto == Proto::kUdp ? POLLIN : POLLOUT), 0});
        waiting.push_back(&t);
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (fds.empty() || left <= 0) {
      break;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR) {
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      Target& t = *waiting[i];
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(t.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (t.proto == Proto::kUdp) {
        char buffer[64];
        const ssize_t n = ::recv(t.fd, buffer, sizeof buffer, 0);
        t.verdict = n >= 0                                           ? "ok"
                    : (errno == ECONNREFUSED || err == ECONNREFUSED) ? "refused"
                                                                     : "error";
      } else {
        t.verdict = err == 0              ? "ok"
                    : err == ECONNREFUSED ? "refused"
                    : err == ETIMEDOUT    ? "blocked"
                                          : "error";
      }
    }
  }
  for (auto& t : targets) {
    if (t.verdict.empty()) {
      t.verdict = "blocked";
    }
    if (t.fd >= 0) {
      ::close(t.fd);
    }
    std::printf("%s %s %d %s\n", name(t.proto), t.address.c_str(), t.port, t.verdict.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "serve") {
    return serve(argc - 2, argv + 2);
  }
  if (argc >= 2 && std::string(argv[1]) == "connect") {
    return probe(argc - 2, argv + 2);
  }
  std::fprintf(stderr,
               "usage: weft-probe serve [--tcp PORTS] [--udp PORTS] [--sctp PORTS]\n"
               "       weft-probe connect [--timeout-ms N] PROTO:ADDRESS:PORT...\n");
  return 2;
}
