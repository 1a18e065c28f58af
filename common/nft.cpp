#include "common/nft.hpp"

#include <memory>

#include <nftables/libnftables.h>

namespace weft {

namespace {

struct CtxDeleter {
  void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};
using Ctx = std::unique_ptr<nft_ctx, CtxDeleter>;

Result<Ctx> make_ctx(bool json) {
  Ctx ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) {
    return make_error(Errc::kIo, "nftables: cannot create a context");
  }
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  if (json) {
    nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_JSON);
  }
  return ctx;
}

Result<std::string> run(std::string_view script, bool json) {
  WEFT_TRY(auto ctx, make_ctx(json));
  const std::string text(script);
  if (nft_run_cmd_from_buffer(ctx.get(), text.c_str()) != 0) {
    std::string err = nft_ctx_get_error_buffer(ctx.get());
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) {
      err.pop_back();
    }
    const bool unsupported = err.find("Operation not supported") != std::string::npos ||
                             err.find("Protocol not supported") != std::string::npos;
    return make_error(unsupported ? Errc::kUnsupported : Errc::kInvalidArgument, "nftables: {}",
                      err.empty() ? "command refused" : err);
  }
  return std::string(nft_ctx_get_output_buffer(ctx.get()));
}

}  // namespace

Result<void> nft_run(std::string_view script) {
  WEFT_TRY(auto out, run(script, false));
  (void)out;
  return {};
}

Result<std::string> nft_query(std::string_view command, bool json) {
  return run(command, json);
}

}  // namespace weft
