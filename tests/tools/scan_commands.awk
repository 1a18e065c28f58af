# Prints "COMMAND<TAB>FILE" for the external commands that shell scripts and the tests' C++
# call, found by reading the code (not by looking at what this machine has installed).
# Used by debian_packages.sh. Input: the files; -v kind=sh|cpp|mjs says how to read them.
#   sh:  words in command position (after a newline, ; | & ( $( `, if/then/do/..., and after
#        wrappers such as env, exec, timeout, nsenter, `ip netns exec NS`, `sh -c '...'`,
#        whose script is read too); assignments, arrays, [[ ]], (( )), heredoc bodies, for
#        lists, case words and patterns and comments are skipped; shell functions are reported as
#        "FUNCTION<TAB>name" so that the caller can drop them.
#   cpp: absolute program paths in string literals ("/usr/bin/iperf3"), find_program("x"),
#        and the shell command lines passed to .run / ->run / run_command / run_in_netns /
#        json_in_netns / system / popen, or following an argv's "-c" (string literals
#        joined, other operands and fmt {} as $V; a single word is not a command line).
#   mjs: executablePath and the program of spawn / execFile / execFileSync / spawnSync.
# COMMAND is a bare name or an absolute path. Portable awk (Debian's default is mawk).

function emit(cmd) {
  if (cmd ~ /^\//) {
    if (cmd ~ /^\/(usr\/)?(s?bin|lib|libexec)\/[A-Za-z0-9._\/+-]+$/) print cmd "\t" FNAME
  } else if (cmd ~ /^[a-z][A-Za-z0-9._+-]*$/) {
    print cmd "\t" FNAME
  }
}

# From s at i (just after an opening "(" of depth 1), the index of the matching ")"
# (quotes respected); 0 when unbalanced.
function close_paren(s, i,    n, c, d, q) {
  n = length(s); d = 1; q = ""
  for (; i <= n; i++) {
    c = substr(s, i, 1)
    if (q == "'") { if (c == "'") q = ""; continue }
    if (c == "\\") { i++; continue }
    if (q == "\"") { if (c == "\"") q = ""; continue }
    if (c == "'" || c == "\"") { q = c; continue }
    if (c == "(") d++
    else if (c == ")") { d--; if (d == 0) return i }
  }
  return 0
}

function close_brace(s, i,    n, c, d) {
  n = length(s); d = 1
  for (; i <= n; i++) {
    c = substr(s, i, 1)
    if (c == "\\") { i++; continue }
    if (c == "{") d++
    else if (c == "}") { d--; if (d == 0) return i }
  }
  return n
}

# A "$..." at s[i]: scans command substitutions inside; returns the index of its last char.
function dollar(s, i,    c2, j) {
  c2 = substr(s, i + 1, 1)
  if (substr(s, i + 1, 2) == "((") {  # arithmetic
    j = close_paren(s, i + 3); if (j == 0) return length(s)
    return j + (substr(s, j + 1, 1) == ")" ? 1 : 0)
  }
  if (c2 == "(") {
    j = close_paren(s, i + 2); if (j == 0) j = length(s) + 1
    scan(substr(s, i + 2, j - i - 2))
    return j
  }
  if (c2 == "{") return close_brace(s, i + 2)
  if (c2 ~ /[A-Za-z0-9_@*#?$!-]/) {
    j = i + 1
    if (c2 ~ /[A-Za-z_]/) { while (substr(s, j + 1, 1) ~ /[A-Za-z0-9_]/) j++ }
    return j
  }
  return i
}

# Reads the word at s[i]; sets W (its literal text), WDYN (1 when it holds an expansion) and
# WEND (index of its last char). Command substitutions inside it are scanned.
function read_word(s, i,    n, c, w, dyn, j, q) {
  n = length(s); w = ""; dyn = 0
  for (; i <= n; i++) {
    c = substr(s, i, 1)
    if (c ~ /[ \t\n;&|()<>]/) break
    if (c == "\\") { w = w substr(s, i + 1, 1); i++; continue }
    if (c == "'") {
      j = index(substr(s, i + 1), "'"); if (j == 0) j = n - i + 1
      w = w substr(s, i + 1, j - 1); i += j; continue
    }
    if (c == "\"") {
      for (i++; i <= n; i++) {
        q = substr(s, i, 1)
        if (q == "\"") break
        if (q == "\\") { w = w substr(s, i + 1, 1); i++; continue }
        if (q == "$") { j = dollar(s, i); if (j > i) { dyn = 1; i = j; continue } }
        if (q == "`") { j = index(substr(s, i + 1), "`"); scan(substr(s, i + 1, j - 1)); i += j; dyn = 1; continue }
        w = w q
      }
      continue
    }
    if (c == "`") {
      j = index(substr(s, i + 1), "`"); if (j == 0) j = n - i + 1
      scan(substr(s, i + 1, j - 1)); i += j; dyn = 1; continue
    }
    if (c == "$") { j = dollar(s, i); if (j > i) { dyn = 1; i = j; continue } }
    w = w c
  }
  W = w; WDYN = dyn; WEND = i - 1
}

# Scans shell code s. Local state: at (1: next word is a command), wrap (what the last
# command word expects before its own command: env, skip-options, timeout, ip, chroot,
# shell), heredoc tags pending until the end of the line.
function scan(s,    n, i, c, at, wrap, w, dyn, j, k, tag, ntags, tags, line, strip, pdepth, cases, pat) {
  n = length(s); at = 1; wrap = ""; ntags = 0; pdepth = 0; cases = 0; pat = 0
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (c == " " || c == "\t") continue
    if (c == "\\" && substr(s, i + 1, 1) == "\n") { i++; continue }
    if (c == "\n") {
      for (k = 1; k <= ntags; k++) {  # heredoc bodies
        strip = substr(tags[k], 1, 1) == "-"; tag = strip ? substr(tags[k], 2) : tags[k]
        while (i < n) {
          j = index(substr(s, i + 1), "\n"); if (j == 0) j = n - i + 1
          line = substr(s, i + 1, j - 1); i += j
          if (strip) sub(/^\t+/, "", line)
          if (line == tag) break
        }
      }
      ntags = 0; at = 1; wrap = ""; continue
    }
    if (c == "#") {
      j = index(substr(s, i), "\n"); if (j == 0) break
      i += j - 2; continue
    }
    if (pat) {  # a case pattern, up to its ")"; or the esac
      read_word(s, i)
      if (W == "esac" && !WDYN) { i = WEND; cases--; pat = 0; at = 0; continue }
      for (; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == "\\") { i++; continue }
        if (c == "'" || c == "\"") { j = index(substr(s, i + 1), c); i += j; continue }
        if (c == ")") break
      }
      pat = 0; at = 1; wrap = ""; continue
    }
    if (c == "(" && substr(s, i + 1, 1) == "(") {  # (( arithmetic ))
      j = close_paren(s, i + 2); if (j == 0) break
      i = j + 1; at = 0; continue
    }
    if (c == "<" || c == ">") {
      if (substr(s, i, 3) == "<<<") { i += 2; continue }
      if (substr(s, i, 2) == "<<") {  # heredoc: remember the tag
        j = i + 2; tag = ""
        if (substr(s, j, 1) == "-") { tag = "-"; j++ }
        while (substr(s, j, 1) == " ") j++
        read_word(s, j); tags[++ntags] = tag W; i = WEND; continue
      }
      if (substr(s, i + 1, 1) == "(") {  # process substitution
        j = close_paren(s, i + 2); if (j == 0) break
        scan(substr(s, i + 2, j - i - 2)); i = j; continue
      }
      while (substr(s, i + 1, 1) ~ /[<>&|]/) i++
      if (substr(s, i + 1, 1) ~ /[0-9-]/ && substr(s, i, 1) == "&") { i++; continue }
      while (substr(s, i + 1, 1) ~ /[ \t]/) i++
      if (substr(s, i + 1, 1) == "(") continue
      read_word(s, i + 1); i = WEND; continue  # the redirection's target
    }
    if (c == "(") { pdepth++; at = 1; wrap = ""; continue }
    if (c == ")") { if (pdepth > 0) pdepth--; at = 1; wrap = ""; continue }
    if (c == ";" && cases > 0 && substr(s, i + 1, 1) ~ /[;&]/) {  # ;; ;& ;;&: a pattern next
      while (substr(s, i + 1, 1) ~ /[;&]/) i++
      pat = 1; continue
    }
    if (c == ";" || c == "&" || c == "|") { at = 1; wrap = ""; continue }

    read_word(s, i); w = W; dyn = WDYN; i = WEND
    if (w == "" && !dyn) continue
    if (w ~ /^[A-Za-z_][A-Za-z0-9_]*\+?=$/ && substr(s, i + 1, 1) == "(") {  # NAME=( array )
      j = close_paren(s, i + 2); if (j == 0) break
      i = j; continue
    }

    if (wrap == "shell") {  # bash/sh [options] -c SCRIPT
      if (w == "-c" || w ~ /^-[a-z]*c$/) { wrap = "shell-c"; continue }
      if (w ~ /^-/) continue
      wrap = ""; continue
    }
    if (wrap == "shell-c") { if (!dyn) scan(w); wrap = ""; at = 0; continue }
    if (wrap == "env") {
      if (w ~ /^[A-Za-z_][A-Za-z0-9_]*=/ || w ~ /^-/) continue
      wrap = ""; at = 1
    } else if (wrap == "opts") {
      if (w ~ /^-/) continue
      wrap = ""; at = 1
    } else if (wrap == "timeout") {
      if (w == "-s" || w == "-k" || w == "--signal" || w == "--kill-after") { wrap = "timeout-arg"; continue }
      if (w ~ /^-/) continue
      wrap = "opts"; continue  # the duration
    } else if (wrap == "timeout-arg") {
      wrap = "timeout"; continue
    } else if (wrap == "chroot") {
      if (w ~ /^-/) continue
      wrap = "opts"; continue  # the new root
    } else if (wrap ~ /^ip/) {  # ip netns exec NS CMD
      if (wrap == "ip" && w ~ /^-/) continue
      if (wrap == "ip" && w == "netns") { wrap = "ip-netns"; continue }
      if (wrap == "ip-netns" && w == "exec") { wrap = "ip-exec"; continue }
      if (wrap == "ip-exec") { wrap = "opts"; continue }  # the namespace
      wrap = ""; continue
    }

    if (!at) continue
    # Command position.
    if (w ~ /^[A-Za-z_][A-Za-z0-9_]*\+?=/) continue  # assignment
    if (w == "[[") {  # a test expression up to ]]
      j = index(substr(s, i + 1), "]]"); if (j == 0) break
      i += j + 1; at = 0; continue
    }
    if (w == "for" || w == "select") {  # the word list, up to do / ; / the line's end
      while (i < n) {
        while (substr(s, i + 1, 1) ~ /[ \t]/) i++
        if (substr(s, i + 1, 1) ~ /[;\n]/ || i >= n) break
        read_word(s, i + 1); i = WEND
        if (W == "do") break
      }
      at = 0; continue
    }
    if (w == "case") {  # case WORD in: then a pattern
      while (i < n) {
        while (substr(s, i + 1, 1) ~ /[ \t\n]/) i++
        read_word(s, i + 1); i = WEND
        if (W == "in" || (W == "" && !WDYN)) break
      }
      cases++; pat = 1; at = 0; continue
    }
    if (w ~ /^(if|then|else|elif|do|while|until|!|\{|time|in)$/) continue
    if (w == "esac") { if (cases > 0) cases--; at = 0; continue }
    if (w ~ /^(fi|done|\}|\]\])$/) { at = 0; continue }
    if (w == "function") { read_word(s, i + 2); print "FUNCTION\t" W; i = WEND; continue }
    # name() { ...: a function definition
    k = substr(s, i + 1); sub(/^[ \t]*/, "", k)
    if (substr(k, 1, 2) == "()") { print "FUNCTION\t" w; i = index(substr(s, i + 1), ")") + i; continue }
    at = 0
    if (dyn) continue
    emit(w)
    if (w ~ /(^|\/)(env)$/) wrap = "env"
    else if (w ~ /(^|\/)(exec|command|nohup|sudo|setsid|xargs|nsenter|unshare|nice|stdbuf|flock)$/) wrap = "opts"
    else if (w ~ /(^|\/)timeout$/) wrap = "timeout"
    else if (w ~ /(^|\/)chroot$/) wrap = "chroot"
    else if (w ~ /(^|\/)ip$/) wrap = "ip"
    else if (w ~ /(^|\/)(sh|bash|dash)$/) wrap = "shell"
  }
}

# C++: the literal text of a call's first string argument (adjacent literals joined; other
# operands and fmt placeholders become $V).
function cpp_shell(s, i,    n, c, out, j, q, depth, lit, any) {
  n = length(s); out = ""; depth = 0; any = 0
  for (; i <= n; i++) {
    c = substr(s, i, 1)
    if (c == "\"") {
      lit = ""
      for (i++; i <= n; i++) {
        q = substr(s, i, 1)
        if (q == "\"") break
        if (q == "\\") {
          q = substr(s, i + 1, 1); i++
          if (q == "n") q = "\n"; else if (q == "t") q = "\t"
        }
        lit = lit q
      }
      out = out lit; any = 1; continue
    }
    if (c == "(" || c == "{" || c == "[") { depth++; if (any) out = out "$V"; continue }
    if (c == ")" || c == "}" || c == "]") { if (depth == 0) break; depth--; continue }
    if (c == "," && depth == 0) { if (any) break; continue }
    if (c ~ /[A-Za-z_]/ && any && depth == 0) out = out "$V"
  }
  # fmt placeholders: {{ and }} are braces, {...} an argument.
  gsub(/\{\{/, "\001", out); gsub(/\}\}/, "\002", out)
  gsub(/\{[^{}]*\}/, "$V", out)
  gsub(/\001/, "{", out); gsub(/\002/, "}", out)
  return out
}

function cpp(s,    rest, off, name, cmd) {
  rest = s
  while (match(rest, /"\/(usr\/)?s?bin\/[A-Za-z0-9._+-]+"|"\/usr\/lib\/cni\/[A-Za-z0-9._+-]+"/)) {
    emit(substr(rest, RSTART + 1, RLENGTH - 2)); rest = substr(rest, RSTART + RLENGTH)
  }
  rest = s
  while (match(rest, /find_program\("[^"]+"/)) {
    name = substr(rest, RSTART + 14, RLENGTH - 15); emit(name); rest = substr(rest, RSTART + RLENGTH)
  }
  rest = s; off = 0
  while (match(rest, /(\.|->)run\(|(^|[^A-Za-z0-9_])(run_command|run_in_netns|json_in_netns|system|popen)\(/)) {
    # weft::run_in_netns(ns, [..] { ... }) runs a lambda, not a command line: a lambda
    # introducer before the first string literal means its strings are not commands.
    after = substr(rest, RSTART + RLENGTH); quote = index(after, "\""); lambda = index(after, "[")
    is_lambda = substr(rest, RSTART, RLENGTH) ~ /run_in_netns/ && lambda > 0 && (quote == 0 || lambda < quote)
    cmd = is_lambda ? "" : cpp_shell(rest, RSTART + RLENGTH)
    if (cmd ~ /[ \t]/) scan(cmd)  # a command line, not a single word
    rest = substr(rest, RSTART + RLENGTH)
  }
  rest = s
  while (match(rest, /"-c", *(fmt::format\()?/)) {  # an argv's "sh", "-c", "SCRIPT"
    cmd = cpp_shell(rest, RSTART + RLENGTH)
    if (cmd ~ /[ \t]/) scan(cmd)
    rest = substr(rest, RSTART + RLENGTH)
  }
}

function mjs(s,    rest, m) {
  rest = s
  while (match(rest, /(executablePath:|spawn\(|spawnSync\(|execFile\(|execFileSync\() *['"][^'"]+['"]/)) {
    m = substr(rest, RSTART, RLENGTH); sub(/^[^'"]*['"]/, "", m); sub(/['"]$/, "", m)
    emit(m); rest = substr(rest, RSTART + RLENGTH)
  }
}

function flush() {
  if (FNAME == "") return
  if (kind == "cpp") cpp(TEXT)
  else if (kind == "mjs") mjs(TEXT)
  else scan(TEXT)
}

FNR == 1 { flush(); FNAME = FILENAME; TEXT = "" }
{ TEXT = TEXT $0 "\n" }
END { flush() }
