// nftables through libnftables: runs an nft script (the text `nft -f` reads) atomically in
// the calling thread's network namespace — one transaction, all of it or none.
//
// Contract: blocking, any thread (each call has its own context); needs CAP_NET_ADMIN.
// A refused script gives kInvalidArgument with nft's own error text; kUnsupported when the
// kernel lacks nf_tables.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace weft {

Result<void> nft_run(std::string_view script);
// Like nft_run, returning what nft printed (e.g. for `list table ...`; JSON with `-j`-style
// output when `json` is set).
Result<std::string> nft_query(std::string_view command, bool json = false);

}  // namespace weft
