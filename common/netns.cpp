#include "common/netns.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace weft {
namespace {

std::string errno_text(int err) {
  return boost::system::error_code(err, boost::system::system_category()).message();
}

Errc errc_from_errno(int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
      return Errc::kNotFound;
    case EEXIST:
      return Errc::kAlreadyExists;
    case EINVAL:
      return Errc::kInvalidArgument;
    default:
      return Errc::kIo;
  }
}

Error sys_error(int err, std::string_view what) {
  return make_error(errc_from_errno(err), "{}: {}", what, errno_text(err));
}

Result<void> check_name(std::string_view name) {
  if (name.empty() || name.size() > 200 || name == "." || name == ".." ||
      name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return make_error(Errc::kInvalidArgument, "invalid netns name '{}'", name);
  }
  return {};
}

// Makes /run/netns exist and be a shared mount point, as `ip netns add` does, so that the
// namespace bind mounts made below propagate to other mount namespaces.
Result<void> prepare_run_dir() {
  const std::string dir(Netns::kRunDir);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return sys_error(errno, fmt::format("mkdir {}", dir));
  }
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) {
    return {};
  }
  if (errno != EINVAL) {
    return sys_error(errno, fmt::format("make {} shared", dir));
  }
  // Not a mount point yet: bind it onto itself first.
  if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0) {
    return sys_error(errno, fmt::format("bind mount {}", dir));
  }
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
    return sys_error(errno, fmt::format("make {} shared", dir));
  }
  return {};
}

}  // namespace

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    reset(other.release());
  }
  return *this;
}

void OwnedFd::reset(int fd) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

std::string Netns::named_path(std::string_view name) {
  return fmt::format("{}/{}", kRunDir, name);
}

Result<Netns> Netns::from_fd(OwnedFd fd, std::string path) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return sys_error(errno, fmt::format("stat netns {}", path));
  }
  return Netns(std::move(fd), std::move(path), static_cast<std::uint64_t>(st.st_ino));
}

Result<Netns> Netns::open_path(std::string_view path) {
  std::string p(path);
  OwnedFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return sys_error(errno, fmt::format("open netns {}", p));
  }
  // Refuse files that are not network namespaces (e.g. a /run/netns/x stub whose bind
  // mount is gone, or another kind of namespace).
  const int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0) {
    return make_error(Errc::kNotFound, "open netns {}: not a namespace file", p);
  }
  if (type != CLONE_NEWNET) {
    return make_error(Errc::kInvalidArgument, "open netns {}: not a network namespace", p);
  }
  return from_fd(std::move(fd), std::move(p));
}

Result<Netns> Netns::open_name(std::string_view name) {
  if (auto ok = check_name(name); !ok) {
    return ok.error();
  }
  return open_path(named_path(name));
}

Result<Netns> Netns::open_pid(pid_t pid) {
  return open_path(fmt::format("/proc/{}/ns/net", pid));
}

Result<Netns> Netns::current() {
  return open_path("/proc/thread-self/ns/net");
}

Result<Netns> Netns::duplicate() const {
  OwnedFd fd(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!fd) {
    return sys_error(errno, fmt::format("dup netns {}", path_));
  }
  return Netns(std::move(fd), path_, inode_);
}

Result<Netns> Netns::create(std::string_view name) {
  if (auto ok = check_name(name); !ok) {
    return ok.error();
  }
  if (auto ok = prepare_run_dir(); !ok) {
    return ok.error();
  }
  const std::string path = named_path(name);
  {
    OwnedFd stub(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
    if (!stub) {
      return sys_error(errno, fmt::format("create netns {}", name));
    }
  }
  // unshare() on a helper thread: the new namespace lives on through the bind mount.
  int mount_errno = 0;
  const char* step = "";
  std::thread helper([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      mount_errno = errno;
      step = "unshare";
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      mount_errno = errno;
      step = "bind mount";
    }
  });
  helper.join();
  if (mount_errno != 0) {
    ::unlink(path.c_str());
    return make_error(Errc::kIo, "create netns {}: {}: {}", name, step, errno_text(mount_errno));
  }
  auto ns = open_path(path);
  if (!ns) {
    (void)remove(name);
  }
  return ns;
}

Result<void> Netns::remove(std::string_view name) {
  if (auto ok = check_name(name); !ok) {
    return ok.error();
  }
  const std::string path = named_path(name);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return sys_error(errno, fmt::format("delete netns {}", name));
  }
  // EINVAL: not mounted (a stub left by a crashed create); remove the file anyway.
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL) {
    return sys_error(errno, fmt::format("delete netns {}: umount", name));
  }
  if (::unlink(path.c_str()) != 0) {
    return sys_error(errno, fmt::format("delete netns {}: unlink", name));
  }
  return {};
}

namespace detail {

Result<void> run_on_netns_thread(const Netns& ns, const std::function<void()>& body) {
  int setns_errno = 0;
  try {
    std::thread worker([&] {
      if (::setns(ns.fd(), CLONE_NEWNET) != 0) {
        setns_errno = errno;
        return;
      }
      body();
    });
    worker.join();
  } catch (const std::system_error& e) {
    return make_error(Errc::kIo, "enter netns {}: cannot start thread: {}", ns.path(), e.what());
  }
  if (setns_errno != 0) {
    return sys_error(setns_errno, fmt::format("enter netns {}", ns.path()));
  }
  return {};
}

}  // namespace detail
}  // namespace weft
