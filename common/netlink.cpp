// LibnlNetlink core: opening the socket inside a namespace, error reporting, conversions
// and the link helpers the other netlink_*.cpp files build on.
#include <cerrno>
#include <cstring>

#include "common/netlink_libnl.hpp"
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <sys/socket.h>

namespace weft {

Result<std::unique_ptr<Netlink>> open_netlink(const Netns& ns) {
  return nl_detail::LibnlNetlink::open(ns);
}

namespace nl_detail {

std::string errno_text(int err) {
  return boost::system::error_code(err, boost::system::system_category()).message();
}

Errc errc_for_errno(int err) {
  switch (err) {
    case EEXIST:
      return Errc::kAlreadyExists;
    case ENODEV:
    case ENOENT:
    case ESRCH:
    case EADDRNOTAVAIL:
      return Errc::kNotFound;
    case EOPNOTSUPP:
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
      return Errc::kUnsupported;
    case EINVAL:
    case ERANGE:
      return Errc::kInvalidArgument;
    case EADDRINUSE:
      return Errc::kConflict;
    default:
      return Errc::kIo;
  }
}

namespace {

Errc errc_for_nle(int nl_error) {
  switch (-nl_error) {
    case NLE_EXIST:
      return Errc::kAlreadyExists;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
    case NLE_NOADDR:
      return Errc::kNotFound;
    case NLE_OPNOTSUPP:
    case NLE_AF_NOSUPPORT:
      return Errc::kUnsupported;
    case NLE_INVAL:
    case NLE_RANGE:
    case NLE_MISSING_ATTR:
    case NLE_AF_MISMATCH:
      return Errc::kInvalidArgument;
    default:
      return Errc::kIo;
  }
}

// The NLMSGERR_ATTR_MSG text of an extended ack, or "" (kernel data: bounds-checked).
std::string extack_message(const nlmsghdr* hdr, const nlmsgerr* err) {
  if ((hdr->nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
    return {};
  }
  std::size_t offset = sizeof(nlmsgerr);
  if ((hdr->nlmsg_flags & NLM_F_CAPPED) == 0) {
    offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
  }
  const auto* base = reinterpret_cast<const std::uint8_t*>(err);
  const std::size_t total = hdr->nlmsg_len - NLMSG_HDRLEN;
  offset = NLMSG_ALIGN(offset);
  while (offset + sizeof(nlattr) <= total) {
    nlattr attr{};
    std::memcpy(&attr, base + offset, sizeof(attr));
    if (attr.nla_len < sizeof(nlattr) || offset + attr.nla_len > total) {
      break;
    }
    if ((attr.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* text = reinterpret_cast<const char*>(base + offset + NLA_HDRLEN);
      return {text, strnlen(text, attr.nla_len - NLA_HDRLEN)};
    }
    offset += NLA_ALIGN(attr.nla_len);
  }
  return {};
}

}  // namespace

AddrPtr to_nl_addr(const IpAddress& ip, int prefix_length) {
  const auto bytes = ip.bytes();
  AddrPtr out(nl_addr_build(family_of(ip), bytes.data(), bytes.size()));
  if (out) {
    nl_addr_set_prefixlen(out.get(), prefix_length);
  }
  return out;
}

AddrPtr to_nl_addr(const IpAddress& ip) {
  return to_nl_addr(ip, ip.bit_width());
}

AddrPtr to_nl_addr(const Cidr& cidr) {
  return to_nl_addr(cidr.address(), cidr.prefix_length());
}

AddrPtr to_nl_addr(const MacAddress& mac) {
  return AddrPtr(nl_addr_build(AF_LLC, mac.bytes().data(), mac.bytes().size()));
}

std::optional<IpAddress> ip_from_nl_addr(nl_addr* a) {
  if (a == nullptr) {
    return std::nullopt;
  }
  auto ip = IpAddress::from_bytes(
      {static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(a)), nl_addr_get_len(a)});
  if (!ip) {
    return std::nullopt;
  }
  return *ip;
}

MacAddress mac_from_nl_addr(nl_addr* a) {
  MacAddress::Bytes bytes{};
  if (a == nullptr || nl_addr_get_len(a) != bytes.size()) {
    return MacAddress();
  }
  std::memcpy(bytes.data(), nl_addr_get_binary_addr(a), bytes.size());
  return MacAddress(bytes);
}

int family_of(const IpAddress& ip) {
  return ip.is_v4() ? AF_INET : AF_INET6;
}

bool valid_ifname(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") {
    return false;
  }
  for (char c : name) {
    if (c == '/' || c == ':' || c == '\0' || c == ' ' || c == '\t' || c == '\n') {
      return false;
    }
  }
  return true;
}

LibnlNetlink::LibnlNetlink(Netns ns, SockPtr sock) : ns_(std::move(ns)), sock_(std::move(sock)) {
  nl_socket_modify_err_cb(sock_.get(), NL_CB_CUSTOM, &LibnlNetlink::on_kernel_error, this);
}

Result<std::unique_ptr<Netlink>> LibnlNetlink::open(const Netns& ns) {
  auto own_ns = ns.duplicate();
  if (!own_ns) {
    return own_ns.error();
  }
  // The socket is created on a thread inside `ns`; it stays bound to that namespace.
  auto sock = run_in_netns(ns, [&]() -> Result<SockPtr> {
    SockPtr s(nl_socket_alloc());
    if (!s) {
      return make_error(Errc::kIo, "open netlink in {}: out of memory", ns.path());
    }
    if (const int rc = nl_connect(s.get(), NETLINK_ROUTE); rc < 0) {
      return make_error(Errc::kIo, "open netlink in {}: {}", ns.path(), nl_geterror(rc));
    }
    return s;
  });
  if (!sock) {
    return sock.error();
  }
  // Ask for the kernel's reason with each error, and not for a copy of our request.
  const int one = 1;
  const int fd = nl_socket_get_fd(sock->get());
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  return std::unique_ptr<Netlink>(new LibnlNetlink(std::move(*own_ns), std::move(*sock)));
}

int LibnlNetlink::on_kernel_error(sockaddr_nl* /*who*/, nlmsgerr* err, void* self) {
  auto* me = static_cast<LibnlNetlink*>(self);
  me->kernel_errno_ = -err->error;
  // libnl hands us the payload of the NLMSG_ERROR message; its header is right before it.
  const auto* hdr =
      reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(err) - NLMSG_HDRLEN);
  me->kernel_message_ = extack_message(hdr, err);
  return NL_STOP;
}

Result<void> LibnlNetlink::call(std::string_view what, const std::function<int()>& fn) {
  kernel_errno_ = 0;
  kernel_message_.clear();
  const int rc = fn();
  if (rc < 0) {
    return failure(what, rc);
  }
  return {};
}

Error LibnlNetlink::failure(std::string_view what, int nl_error) {
  Error e;
  if (kernel_errno_ > 0) {
    std::string reason = errno_text(kernel_errno_);
    if (!kernel_message_.empty()) {
      reason += ": " + kernel_message_;
    }
    e = make_error(errc_for_errno(kernel_errno_), "{}: {}", what, reason);
  } else {
    e = make_error(errc_for_nle(nl_error), "{}: {}", what, nl_geterror(nl_error));
  }
  kernel_errno_ = 0;
  kernel_message_.clear();
  return e;
}

Result<LinkPtr> LibnlNetlink::get_link(std::string_view what, std::string_view name) {
  if (!valid_ifname(name)) {
    return make_error(Errc::kInvalidArgument, "{}: invalid interface name '{}'", what, name);
  }
  const std::string n(name);
  rtnl_link* raw = nullptr;
  if (auto ok = call(what, [&] { return rtnl_link_get_kernel(sock_.get(), 0, n.c_str(), &raw); });
      !ok) {
    return ok.error();
  }
  return LinkPtr(raw);
}

Result<int> LibnlNetlink::index_of(std::string_view what, std::string_view name) {
  auto link = get_link(what, name);
  if (!link) {
    return link.error();
  }
  return rtnl_link_get_ifindex(link->get());
}

Result<CachePtr> LibnlNetlink::link_cache(std::string_view what, int family) {
  nl_cache* raw = nullptr;
  if (auto ok = call(what, [&] { return rtnl_link_alloc_cache(sock_.get(), family, &raw); }); !ok) {
    return ok.error();
  }
  return CachePtr(raw);
}

Result<void> LibnlNetlink::change_link(std::string_view what, std::string_view name,
                                       const std::function<void(rtnl_link*)>& edit) {
  auto index = index_of(what, name);
  if (!index) {
    return index.error();
  }
  LinkPtr orig(rtnl_link_alloc());
  LinkPtr changes(rtnl_link_alloc());
  if (!orig || !changes) {
    return make_error(Errc::kIo, "{}: out of memory", what);
  }
  rtnl_link_set_ifindex(orig.get(), *index);
  edit(changes.get());
  return call(what, [&] { return rtnl_link_change(sock_.get(), orig.get(), changes.get(), 0); });
}

Result<void> LibnlNetlink::add_link(std::string_view what, std::string_view name, rtnl_link* link) {
  if (!valid_ifname(name)) {
    return make_error(Errc::kInvalidArgument, "{}: invalid interface name '{}'", what, name);
  }
  const std::string n(name);
  rtnl_link_set_name(link, n.c_str());
  return call(what, [&] { return rtnl_link_add(sock_.get(), link, NLM_F_CREATE | NLM_F_EXCL); });
}

Result<void> LibnlNetlink::dump(std::string_view what, int type, int family,
                                const std::function<void(nlmsghdr*)>& each) {
  struct Cb {
    static int valid(nl_msg* msg, void* arg) {
      (*static_cast<const std::function<void(nlmsghdr*)>*>(arg))(nlmsg_hdr(msg));
      return NL_OK;
    }
  };
  // An ndmsg-sized header: accepted by every rtnetlink dump (only the family is read).
  ndmsg hdr{};
  hdr.ndm_family = static_cast<std::uint8_t>(family);
  if (auto ok = call(
          what, [&] { return nl_send_simple(sock_.get(), type, NLM_F_DUMP, &hdr, sizeof(hdr)); });
      !ok) {
    return ok;
  }
  nl_cb* base = nl_socket_get_cb(sock_.get());
  nl_cb* cb = nl_cb_clone(base);
  nl_cb_put(base);
  if (cb == nullptr) {
    return make_error(Errc::kIo, "{}: out of memory", what);
  }
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, &Cb::valid,
            const_cast<void*>(static_cast<const void*>(&each)));
  auto ok = call(what, [&] { return nl_recvmsgs(sock_.get(), cb); });
  nl_cb_put(cb);
  return ok;
}

}  // namespace nl_detail
}  // namespace weft
